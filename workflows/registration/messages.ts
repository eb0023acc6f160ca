import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Actor } from '../../domain/actor';
import type { DeviceState, IssuedDevice, Platform } from '../../domain/platform';
import type { FlowTimings } from '../../domain/timings';

/**
 * The registration's messages, declared once and shared by the workflow and the API.
 * Only ids, keyed hashes and what the user typed (never a password, token or code) go in here: Temporal keeps it all.
 */

export const STEPS = ['verify-email', 'profile', 'device', 'provision', 'done', 'expired'] as const;
export type Step = (typeof STEPS)[number];

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

/**
 * An operator's actions on a registration (the admin console), each naming who did it so the history records it:
 * mail the owner a new verification code (as a resend, but without the wait between codes, and without the owner's
 * token), or end the registration, which then expires.
 */
export const sendNewCodeUpdate = defineUpdate<StepAnswer, [Actor]>('sendNewCode');
export const endRegistrationUpdate = defineUpdate<StepAnswer, [Actor]>('endRegistration');
