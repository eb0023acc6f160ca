import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ErrorCode } from './errors';

/**
 * Every message of the registration and device workflows, declared once and shared by the workflows and the API.
 * Only ids, keyed hashes and what the user typed (never a password, token or code) go in here: Temporal keeps it all.
 */

export const PLATFORMS = ['android', 'ios', 'macos', 'windows'] as const;
export type Platform = (typeof PLATFORMS)[number];

export const STEPS = ['verify-email', 'profile', 'device', 'provision', 'done', 'expired'] as const;
export type Step = (typeof STEPS)[number];

/** Timing rules, fixed for a workflow's whole life at its start. */
/** How long a managed device's run waits for the device when its timings say nothing (runs before Apple MDM). */
export const DEFAULT_SETTINGS_TIMEOUT_MS = 86_400_000;

export interface FlowTimings {
  registrationTtlMs: number;
  codeTtlMs: number;
  linkTtlMs: number;
  resendIntervalMs: number;
  maxCodeAttempts: number;
  maxResends: number;
  /** How long before a provisioning link expires its owner is reminded; absent in runs started before reminders. */
  linkReminderMs?: number;
  /** How long a managed device's run waits for its answer to the settings command; absent in runs before Apple MDM. */
  settingsTimeoutMs?: number;
}

/** The rules of a code sent to prove something (an e-mail address, a phone number): those of the flow's timings. */
export type CodeRules = Pick<FlowTimings, 'codeTtlMs' | 'maxCodeAttempts' | 'maxResends' | 'resendIntervalMs'>;
export const codeRulesOf = ({ codeTtlMs, maxCodeAttempts, maxResends, resendIntervalMs }: FlowTimings): CodeRules => ({
  codeTtlMs,
  maxCodeAttempts,
  maxResends,
  resendIntervalMs,
});

export interface RegistrationInput {
  organisation: string;
  email: string;
  timings: FlowTimings;
}

/** Proof of who calls: the keyed hash of the registration token the API handed out. */
export interface Caller {
  tokenHash: string;
}

export interface StepAnswer {
  step: Step;
}

export interface ProfileArgs extends Caller {
  firstName: string;
  lastName: string;
  phone?: string;
  passwordHash: string;
}

export interface ChooseDeviceArgs extends Caller {
  platform: Platform;
  phone?: string;
  /** The SMS number is not proven for the account yet (the API looked): the device's run sends it a code first. */
  proveNumber?: boolean;
}

/**
 * Where the SMS of a device whose link goes by SMS stands: a code went to a number not yet proven for the account,
 * which the owner types to have the link sent there; or the link itself went.
 */
export type SmsState = 'code-sent' | 'link-sent';

/** `unenrolled`: an MDM-managed device that checked out (its management profile was removed on the device). */
export type DeviceState = 'link-issued' | 'enrolled' | 'link-expired' | 'removed' | 'unenrolled';

/** Whether the device template's settings are on an MDM-managed device: queued, answered yes, or answered no. */
export type SettingsStatus = 'pending' | 'applied' | 'failed';

export interface IssuedDevice {
  id: string;
  platform: Platform;
  /** Which link of this device; the API derives the link token from the device id and this number. */
  linkNumber: number;
  expiresAt: string;
}

export interface RegistrationView {
  step: Step;
  organisation: string;
  email: string;
  devices: Array<IssuedDevice & { state: DeviceState }>;
}

export type StatusAnswer = { ok: true; registration: RegistrationView } | { ok: false; code: 'unauthorized' };

export const registerUpdate = defineUpdate<StepAnswer, [Caller]>('register');
export const verifyUpdate = defineUpdate<StepAnswer, [Caller & { codeHash: string }]>('verify');
export const resendUpdate = defineUpdate<StepAnswer, [Caller]>('resend');
export const profileUpdate = defineUpdate<StepAnswer, [ProfileArgs]>('profile');
export const chooseDeviceUpdate = defineUpdate<{ device: IssuedDevice }, [ChooseDeviceArgs]>('chooseDevice');
export const statusQuery = defineQuery<StatusAnswer, [Caller]>('status');

/** What confirming the e-mail's link did: verified this browser, or (the link was spent or old) mailed a fresh code. */
export interface LinkAnswer extends StepAnswer {
  codeSent: boolean;
}
/**
 * The one-click link of a verification e-mail, confirmed in a browser: the keyed hash of the link's proof (which only
 * the mailbox has) and of this browser's registration token, joining the registration if it is new to it.
 */
export const verifyByLinkUpdate = defineUpdate<LinkAnswer, [Caller & { linkHash: string }]>('verifyByLink');

export interface DeviceInput {
  organisation: string;
  email: string;
  device: IssuedDevice;
  /** Set when the device record already exists: the registration made it before starting this run as its child. */
  deviceName?: string;
  /** Set when the platform enrols through an SMS with the link (Android). */
  smsPhone?: string;
  /**
   * Set when `smsPhone` is not proven for the owner's account yet: a code goes to it first, and the link only once the
   * owner has typed the code (`provePhone`). Absent in runs before phone numbers were proven.
   */
  phoneCode?: CodeRules;
  /**
   * A run a signed-in owner started makes its record first: a new device of that owner, or a new link for one whose
   * link expired. A refusal (limit reached, platform withdrawn) fails the `link` update and ends the run.
   */
  record?: { kind: 'create'; userId: number } | { kind: 'relink' };
  /** When to remind the owner before the link expires; absent in runs started before reminders. */
  reminderBeforeMs?: number;
  /** MDM-managed devices: how long to wait for the device's answer to the settings command before saying so. */
  settingsTimeoutMs?: number;
  /** The operator who gave the owner this link (the admin console's address); absent when the owner asked, and in older runs. */
  requestedBy?: string;
}

export interface ManagedDeviceInput {
  organisation: string;
  email: string;
  deviceId: string;
  /** The link the device enrolled through: its enrolment id, and its commands' UUIDs, derive from it. */
  linkNumber: number;
  /** How long to wait for the device's answer to the settings command (and for its check-out after a removal). */
  settingsTimeoutMs: number;
  /**
   * Started to take over a device whose run an operator ended (its removal must still reach the device): the settings
   * were that run's business, so this one only waits for the device to leave.
   */
  takeOver?: boolean;
}

export interface DeviceOutcome {
  /** `refused`: a run that was to make the record could not (see `DeviceInput.record`). */
  state: DeviceState | 'refused';
}

export const checkInUpdate = defineUpdate<DeviceOutcome, [{ deviceInfo?: Record<string, unknown> }]>('checkIn');
/** An MDM-managed device checked out (NanoMDM took its CheckOut): it is unenrolled and its run ends. */
export const checkOutUpdate = defineUpdate<DeviceOutcome>('checkOut');
/** The device's answer to the settings command (NanoMDM's webhook): Acknowledged, or Error with Apple's error chain. */
export interface SettingsResult {
  commandUuid: string;
  status: 'Acknowledged' | 'Error';
  errorChain?: unknown[];
}
export const settingsResultSignal = defineSignal<[SettingsResult]>('settingsResult');
export const deviceStateQuery = defineQuery<DeviceState>('deviceState');
/** The owner's proof of the SMS number: the keyed hash of the code sent to it. The link then goes there by SMS. */
export const provePhoneUpdate = defineUpdate<{ sms: SmsState }, [{ codeHash: string }]>('provePhone');
/** Where the run's SMS stands; undefined for a platform that sends none. */
export const smsStateQuery = defineQuery<SmsState | undefined>('smsState');
/** The run's link once its record is ready: what the API asks with update-with-start when an owner adds a device. */
export const deviceLinkUpdate = defineUpdate<{ device: IssuedDevice; deviceName: string }>('link');
/**
 * The owner or an operator removes the device: its link dies at once and the run ends. An operator's removal names
 * them (`by`), kept in the history as the update's argument; the owner's names no one, and removals before operators
 * had no argument at all (their handlers take it as optional).
 */
export const removeDeviceUpdate = defineUpdate<DeviceOutcome, [Partial<Actor>]>('remove');

export interface PasswordResetInput {
  organisation: string;
  email: string;
  timings: FlowTimings;
}

/** Asks for a reset code; answers the same whether or not the address has an account (no enumeration). */
export const requestResetUpdate = defineUpdate<void>('requestReset');
export const confirmResetUpdate = defineUpdate<void, [{ codeHash: string; passwordHash: string }]>('confirmReset');
/**
 * Why a confirmation would be refused now whatever code it brings (no code waiting, expired, used up, the password
 * already changed), or null when a right code would be taken: asked before the costly work of a new password.
 */
export const resetRefusalQuery = defineQuery<{ code: ErrorCode; message: string } | null>('resetRefusal');

export interface InvitationInput {
  organisation: string;
  email: string;
  /** Who invited: the supervisor's address, kept in the history as the actions' author. */
  invitedBy: string;
  ttlMs: number;
}

export type InvitationState = 'open' | 'accepted' | 'withdrawn' | 'expired';

export interface InvitationView {
  state: InvitationState;
  invitedBy: string;
  /** How many times the invitation was mailed (a resend replaces the link). */
  sent: number;
  expiresAt: string;
}

/** Who asks, recorded in the history with what they asked. */
export interface Actor {
  by: string;
}

/**
 * An operator's actions on a registration (the admin console), each naming who did it so the history records it:
 * mail the owner a new verification code (as a resend, but without the wait between codes, and without the owner's
 * token), or end the registration, which then expires.
 */
export const sendNewCodeUpdate = defineUpdate<StepAnswer, [Actor]>('sendNewCode');
export const endRegistrationUpdate = defineUpdate<StepAnswer, [Actor]>('endRegistration');

/** Mails the invitation again with a new link (the old one stops working). */
export const resendInvitationUpdate = defineUpdate<InvitationView, [Actor]>('resendInvitation');
export const withdrawInvitationUpdate = defineUpdate<InvitationView, [Actor]>('withdrawInvitation');
/** The invited manager accepts with the link's token (its keyed hash) and the credentials they chose. */
export const acceptInvitationUpdate = defineUpdate<
  InvitationView,
  [{ tokenHash: string; passwordHash: string; totpSecretSealed: string; totpLastStep?: number }]
>('acceptInvitation');
export const invitationQuery = defineQuery<InvitationView>('invitation');
/** Whether a link's token (its keyed hash) is the newest mailing's: a link sent again is dead before it is used. */
export const invitationLinkQuery = defineQuery<boolean, [string]>('invitationLink');

/** Workflow ids: what operators see and search by, and what makes the same address resume its registration. */
export const registrationWorkflowId = (organisation: string, email: string) => `registration/${organisation}/${email}`;
export const deviceWorkflowId = (deviceId: string) => `device/${deviceId}`;
export const managedDeviceWorkflowId = (deviceId: string) => `managed-device/${deviceId}`;
export const passwordResetWorkflowId = (organisation: string, email: string) =>
  `password-reset/${organisation}/${email}`;
export const invitationWorkflowId = (organisation: string, email: string) => `invitation/${organisation}/${email}`;
