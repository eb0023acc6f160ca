import { domainError } from '../workflows/errors';
import type { IssuedDevice, Platform } from '../workflows/messages';
import type { Secrets } from './secrets';

/**
 * Everything that differs by platform, in one place: what it needs before a link is issued, the link and the steps its
 * owner is shown, and what the link delivers to the device. Pure (no I/O): the workflows use it too.
 */

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
    'On the iPhone or iPad, open the provisioning link in Safari (or scan the QR code with the camera).',
    'Allow the configuration profile to download, then open Settings › Profile Downloaded.',
    'Tap Install and enter your device passcode; the device checks in when it is done.',
  ],
  macos: [
    'On the Mac, open the provisioning link in Safari.',
    'Open System Settings › Privacy & Security › Profiles and double-click the downloaded profile.',
    'Click Install and enter your password; the Mac checks in when it is done.',
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

const xmlEscape = (value: string) =>
  value.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);

/** The platform's enrolment document: an Apple configuration profile, or a JSON provisioning document elsewhere. */
export function enrolmentPayload(input: {
  platform: Platform;
  deviceId: string;
  deviceName: string;
  checkInUrl: string;
  management: Record<string, unknown>;
}): EnrolmentPayload {
  if (input.platform === 'ios' || input.platform === 'macos') {
    const body = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>PayloadType</key><string>Configuration</string>
  <key>PayloadVersion</key><integer>1</integer>
  <key>PayloadIdentifier</key><string>self-service-setup.${xmlEscape(input.deviceId)}</string>
  <key>PayloadUUID</key><string>${xmlEscape(input.deviceId)}</string>
  <key>PayloadDisplayName</key><string>${xmlEscape(input.deviceName)}</string>
  <key>PayloadContent</key>
  <array>
    <dict>
      <key>PayloadType</key><string>com.apple.mdm</string>
      <key>PayloadVersion</key><integer>1</integer>
      <key>PayloadIdentifier</key><string>self-service-setup.${xmlEscape(input.deviceId)}.mdm</string>
      <key>PayloadUUID</key><string>${xmlEscape(input.deviceId)}-mdm</string>
      <key>CheckInURL</key><string>${xmlEscape(input.checkInUrl)}</string>
      <key>ServerURL</key><string>${xmlEscape(input.checkInUrl)}</string>
      <key>ManagementSettings</key><string>${xmlEscape(JSON.stringify(input.management))}</string>
    </dict>
  </array>
</dict>
</plist>
`;
    return { contentType: 'application/x-apple-aspen-config', fileName: 'enrolment.mobileconfig', body };
  }
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
