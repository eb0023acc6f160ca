import { domainError } from '../workflows/errors';
import type { IssuedDevice, Platform } from '../workflows/messages';
import type { Secrets } from './secrets';

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

/**
 * The mobile number a platform's link goes to by SMS: the first one known (typed now, or the account's), or undefined
 * for a platform that sends none; a platform that needs one and has none is refused with `phone_required`.
 */
export function smsPhoneFor(platform: Platform, ...known: Array<string | null | undefined>): string | undefined {
  if (!LINK_BY_SMS.has(platform)) return undefined;
  const phone = known.find((candidate) => candidate);
  if (!phone) throw domainError('phone_required', 'Android setup sends the link by SMS: give a mobile phone number.');
  return phone;
}

export const provisioningUrl = (publicUrl: string, token: string) => `${publicUrl}/provision/${token}`;
export const checkInUrl = (publicUrl: string, token: string) => `${publicUrl}/api/provision/${token}/checkin`;

export const INSTRUCTIONS: Record<Platform, string[]> = {
  android: [
    'On the Android device, open the link from the SMS we sent you (or scan the QR code).',
    'Allow the download of the enrolment file and open it.',
    'Follow the prompts to set up the work profile; the device checks in when it is done.',
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
    'On the Windows PC, open the provisioning link in the browser and save the enrolment file.',
    'Open Settings › Accounts › Access work or school › Connect, and choose the saved file.',
    'Sign in with your e-mail address; the PC checks in when it is done.',
  ],
};

export interface ProvisioningLink {
  id: string;
  platform: Platform;
  provisioningUrl: string;
  instructions: string[];
  expiresAt: string;
}

/** What the owner is shown for an issued link: the URL (derived from the device id and link number) and the steps. */
export function provisioningLink(
  publicUrl: string,
  secrets: Pick<Secrets, 'linkToken'>,
  { id, platform, linkNumber, expiresAt }: IssuedDevice,
): ProvisioningLink {
  return {
    id,
    platform,
    provisioningUrl: provisioningUrl(publicUrl, secrets.linkToken(id, linkNumber)),
    instructions: INSTRUCTIONS[platform],
    expiresAt,
  };
}

export interface EnrolmentPayload {
  contentType: string;
  fileName: string;
  body: string;
}

/**
 * The enrolment document of a platform that checks in with our JSON route (Android, Windows). Apple devices get a
 * configuration profile instead (lib/apple-profiles.ts).
 */
export function enrolmentPayload(input: {
  platform: Platform;
  deviceId: string;
  deviceName: string;
  checkInUrl: string;
  management: Record<string, unknown>;
}): EnrolmentPayload {
  const body = JSON.stringify(
    {
      platform: input.platform,
      deviceId: input.deviceId,
      deviceName: input.deviceName,
      checkInUrl: input.checkInUrl,
      managementSettings: input.management,
    },
    null,
    2,
  );
  return { contentType: 'application/json', fileName: `enrolment-${input.platform}.json`, body };
}
