import type { Platform } from '../workflows/messages';

/** What each platform shows its owner and what its provisioning link delivers. */

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
