import type { PlatformHome } from '..';
import type { EnrolmentStart } from '../link';
import { checkInUrl } from '../urls';
import {
  type AndroidManagement,
  androidManagement,
  dpcSettings,
  personalEnrolmentLink,
  provisioningQrPayload,
  redactAndroidManagement,
} from './settings';
import { ANDROID_FORM } from './template-form';

const INSTRUCTIONS = {
  qr: [
    'Start with a new or factory-reset Android device. On its first set-up screen, tap the same spot six times.',
    'Connect to Wi-Fi if the device asks; when the QR code reader opens, scan the code shown here.',
    'Follow the steps on the device: it installs your organisation’s device management app and checks in when it is done.',
  ],
  app: [
    'On the Android device, install your organisation’s device management app from Google Play.',
    'Open the link from the SMS we sent you on that device, and tap “Open the app”.',
    'Follow the app’s steps to set up the work profile; the device checks in when it is done.',
  ],
};

/**
 * Android, through the organisation's own device policy app (DPC): a company-owned device scans the provisioning QR
 * code in its set-up wizard, a personal one opens the DPC with the token; the DPC checks in with its settings.
 */
export const androidHome: PlatformHome = {
  icon: '<path d="M5 23a11 11 0 0 1 22 0z" fill="currentColor"/><path d="M9.5 8.5l2.5 4.5M22.5 8.5l-2.5 4.5" stroke="currentColor" stroke-width="2" stroke-linecap="round"/><circle cx="11.5" cy="18.5" r="1.6" fill="#fff"/><circle cx="20.5" cy="18.5" r="1.6" fill="#fff"/><rect x="5" y="25" width="22" height="4" rx="1.5" fill="currentColor"/>',
  settings: {
    form: ANDROID_FORM,
    schema: androidManagement,
    shown: (management) => redactAndroidManagement(management as AndroidManagement),
    wifiParts: ['setupWifi', 'wifi'],
  },

  async start({ token, publicUrl, records }): Promise<EnrolmentStart | undefined> {
    const found = await records();
    const management = androidManagement.safeParse(found?.device.management);
    if (!found || !management.success) return undefined;
    const enrolment = { management: management.data, enrolmentToken: token, checkInUrl: checkInUrl(publicUrl, token) };
    if (management.data.ownership === 'personal') return { kind: 'android-app', url: personalEnrolmentLink(enrolment) };
    return {
      kind: 'android-qr',
      qrPayload: provisioningQrPayload({
        ...enrolment,
        serviceUrl: publicUrl,
        locale: found.owner.locale,
        timeZone: found.owner.timeZone,
      }),
    };
  },

  instructions: (start) => (start?.kind === 'android-app' ? INSTRUCTIONS.app : INSTRUCTIONS.qr),
  deviceAppSettings: (management) => {
    const typed = androidManagement.safeParse(management);
    return typed.success ? dpcSettings(typed.data) : undefined;
  },
  startButton: (start) =>
    start.kind === 'android-app' ? { label: 'Open the app', id: 'enrol-android', url: start.url } : undefined,
};
