import { domainError } from '../domain/errors';
import type { IssuedDevice, Platform, SmsState } from '../domain/platform';
import type { Secrets } from '../lib/secrets';

/**
 * Everything that differs by platform, in one place: what it needs before a link is issued, the link and the steps its
 * owner is shown, and what the link delivers to the device. Pure (no I/O): the workflows use it too.
 */

/**
 * Platforms enrolled and managed through Apple's MDM protocol: their link delivers a configuration profile, they check in
 * through NanoMDM, and a run manages them once enrolled. They need Apple enrolment set up (NanoMDM and SCEP).
 */
export const MDM_MANAGED: ReadonlySet<Platform> = new Set<Platform>(['ios', 'macos']);

/** Platforms whose provisioning link is also sent by SMS: Android's enrolment starts on the phone itself. */
const LINK_BY_SMS: ReadonlySet<Platform> = new Set<Platform>(['android']);
export const sendsLinkBySms = (platform: Platform) => LINK_BY_SMS.has(platform);

/**
 * The mobile number a platform's link goes to by SMS: the first one known (typed now, or the account's), or undefined
 * for a platform that sends none; a platform that needs one and has none is refused with `phone_required`.
 */
export function smsPhoneFor(platform: Platform, ...known: Array<string | null | undefined>): string | undefined {
  if (!sendsLinkBySms(platform)) return undefined;
  const phone = known.find((candidate) => candidate);
  if (!phone) throw domainError('phone_required', 'Android setup sends the link by SMS: give a mobile phone number.');
  return phone;
}

export const provisioningUrl = (publicUrl: string, token: string) => `${publicUrl}/provision/${token}`;
export const checkInUrl = (publicUrl: string, token: string) => `${publicUrl}/api/provision/${token}/checkin`;

/**
 * How a device starts enrolling from its link: Apple devices install the profile the link delivers; a Windows PC opens
 * Settings' work-account enrolment with Windows' own deep link; a company-owned Android device scans the provisioning
 * QR code in its set-up wizard; a personal one opens the organisation's device policy app with the token.
 */
export type EnrolmentStart =
  | { kind: 'apple-profile' }
  | { kind: 'windows'; url: string }
  | { kind: 'android-qr'; qrPayload: string }
  | { kind: 'android-app'; url: string };

/** The steps an owner is shown for each way of starting. */
export const INSTRUCTIONS: Record<Exclude<Platform, 'android'> | 'android-qr' | 'android-app', string[]> = {
  'android-qr': [
    'Start with a new or factory-reset Android device. On its first set-up screen, tap the same spot six times.',
    'Connect to Wi-Fi if the device asks; when the QR code reader opens, scan the code shown here.',
    'Follow the steps on the device: it installs your organisation’s device management app and checks in when it is done.',
  ],
  'android-app': [
    'On the Android device, install your organisation’s device management app from Google Play.',
    'Open the link from the SMS we sent you on that device, and tap “Open the app”.',
    'Follow the app’s steps to set up the work profile; the device checks in when it is done.',
  ],
  ios: [
    'On the iPhone or iPad, open the provisioning link in Safari (or scan the QR code with the camera) and tap Allow to download the profile.',
    'Open Settings › General › VPN & Device Management (or Settings › Profile Downloaded) and tap the profile.',
    'Tap Install, enter your passcode and trust the remote management; the device enrols, and its settings arrive shortly after.',
  ],
  macos: [
    'On the Mac, open the provisioning link in Safari; the profile downloads.',
    'Open System Settings › General › Device Management (Privacy & Security › Profiles on older macOS) and double-click the profile.',
    'Click Enroll (or Install) and enter your password; the Mac enrols, and its settings arrive shortly after.',
  ],
  windows: [
    'On the Windows PC, open this page (or the link in your e-mail) and select “Enrol this PC”: Windows opens Settings › Accounts › Access work or school › Set up a work or school account, with your address filled in.',
    'Check the address and select Next; sign in with your work account if you are asked to.',
    'When Windows says the PC is set up for your organisation, you are done: your organisation’s device management tells us.',
  ],
};

export interface ProvisioningLink {
  id: string;
  platform: Platform;
  provisioningUrl: string;
  instructions: string[];
  expiresAt: string;
  /** How the device starts enrolling; absent when the organisation's settings for it are missing now. */
  start?: EnrolmentStart;
  /** A platform whose link goes by SMS: whether a code went first, to prove the number, or the link itself. */
  sms?: SmsState;
}

/** The steps for a way of starting (the platform's, when there is no way to start now). */
export function instructionsFor(platform: Platform, start?: EnrolmentStart): string[] {
  if (start?.kind === 'android-qr' || start?.kind === 'android-app') return INSTRUCTIONS[start.kind];
  return INSTRUCTIONS[platform === 'android' ? 'android-qr' : platform];
}

/** Windows' own enrolment deep link: Settings' "Set up a work or school account" for the organisation's MDM. */
export function windowsEnrolmentUrl(input: { email: string; discoveryUrl: string; token: string }): string {
  const query = new URLSearchParams({
    mode: 'mdm',
    username: input.email,
    servername: input.discoveryUrl,
    accesstoken: input.token,
  });
  return `ms-device-enrollment:?${query.toString().replaceAll('+', '%20')}`;
}

/** What the owner is shown for an issued link: the URL (derived from the device id and link number) and the steps. */
export function provisioningLink(
  publicUrl: string,
  secrets: Pick<Secrets, 'linkToken'>,
  { id, platform, linkNumber, expiresAt }: IssuedDevice,
  start?: EnrolmentStart,
): ProvisioningLink {
  return {
    id,
    platform,
    provisioningUrl: provisioningUrl(publicUrl, secrets.linkToken(id, linkNumber)),
    instructions: instructionsFor(platform, start),
    expiresAt,
    start,
  };
}

export interface EnrolmentPayload {
  contentType: string;
  fileName: string;
  body: Buffer;
}
