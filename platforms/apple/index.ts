import type { Device } from '../../db/models';
import type { ServiceDeps } from '../../services/context';
import { HttpError } from '../../services/errors';
import type { PlatformHome } from '..';
import type { EnrolmentPayload } from '../link';
import { appleErrorText } from './errors';
import { enrolmentProfile } from './profiles';
import { type AppleManagement, appleManagement, redactAppleManagement } from './settings';
import { APPLE_FORM } from './template-form';

/** An iPhone's, iPad's or Mac's enrolment profile: its identity from SCEP, then NanoMDM through our check-in. */
async function enrolmentProfileOf(
  { apple, secrets, models, config }: ServiceDeps,
  device: Device,
): Promise<EnrolmentPayload> {
  if (!apple) throw new HttpError('platform_not_available', 'Apple devices cannot be enrolled at the moment.');
  const enrolmentId = secrets.enrolmentId(device.id, device.linkNumber);
  const organisation = await models.Organisation.findByPk(device.organisationId);
  const query = `?enrolment=${encodeURIComponent(enrolmentId)}`;
  return {
    contentType: 'application/x-apple-aspen-config',
    fileName: 'enrolment.mobileconfig',
    body: await apple.profileSigner.sign(
      enrolmentProfile({
        enrolmentId,
        deviceName: device.name,
        organisationName: organisation?.name ?? config.siteName,
        scep: {
          url: `${config.publicUrl}/mdm/scep`,
          challenge: secrets.scepChallenge(enrolmentId),
          subject: enrolmentId,
        },
        mdm: {
          serverUrl: `${config.publicUrl}/mdm/connect${query}`,
          checkInUrl: `${config.publicUrl}/mdm/checkin${query}`,
          topic: apple.topic,
        },
      }),
    ),
  };
}

const REPORTED_BY_MDM = 'iPhones, iPads and Macs check in through device management, with the profile.';

/**
 * iPhones, iPads and Macs: the link delivers a signed configuration profile; the device gets its identity from SCEP,
 * checks in through NanoMDM (routes.ts, enrolment.ts), and a managed-device run applies its template (activities.ts).
 */
const managed = (instructions: string[], icon: string): PlatformHome => ({
  icon,
  settings: {
    form: APPLE_FORM,
    schema: appleManagement,
    shown: (management) => redactAppleManagement(management as AppleManagement),
    wifiParts: ['wifi'],
  },
  start: async () => ({ kind: 'apple-profile' }),
  instructions: () => instructions,
  deliver: enrolmentProfileOf,
  settingsErrorText: appleErrorText,
  deviceAppCheckInRefusal: REPORTED_BY_MDM,
  mdmReportRefusal: 'iPhones, iPads and Macs report through device management, not this webhook.',
});

export const appleHome: Record<'ios' | 'macos', PlatformHome> = {
  ios: managed(
    [
      'On the iPhone or iPad, open the provisioning link in Safari (or scan the QR code with the camera) and tap Allow to download the profile.',
      'Open Settings › General › VPN & Device Management (or Settings › Profile Downloaded) and tap the profile.',
      'Tap Install, enter your passcode and trust the remote management; the device enrols, and its settings arrive shortly after.',
    ],
    '<rect x="9" y="3" width="14" height="26" rx="3" fill="none" stroke="currentColor" stroke-width="2"/><path d="M14 6.5h4" stroke="currentColor" stroke-width="2" stroke-linecap="round"/><circle cx="16" cy="24.5" r="1.5" fill="currentColor"/>',
  ),
  macos: managed(
    [
      'On the Mac, open the provisioning link in Safari; the profile downloads.',
      'Open System Settings › General › Device Management (Privacy & Security › Profiles on older macOS) and double-click the profile.',
      'Click Enroll (or Install) and enter your password; the Mac enrols, and its settings arrive shortly after.',
    ],
    '<rect x="6" y="7" width="20" height="14" rx="1.5" fill="none" stroke="currentColor" stroke-width="2"/><path d="M3 25h26" stroke="currentColor" stroke-width="2.5" stroke-linecap="round"/>',
  ),
};
