import type { ActivityDeps } from '../../activities';
import { markUnenrolled, recordSettingsOutcome } from '../../db/devices';
import type { Device } from '../../db/models';
import type { SettingsStatus } from '../../domain/platform';
import { type AppleMdm, enqueueCommand } from './nanomdm';
import {
  commandUuid,
  enrolmentProfileIdentifier,
  installProfileCommand,
  removeProfileCommand,
  settingsProfile,
} from './profiles';
import { appleManagement } from './settings';

interface Enrolment {
  deviceId: string;
  linkNumber: number;
}

/**
 * What an MDM-managed (Apple) device's workflow asks of NanoMDM and the database. Commands carry UUIDs derived from
 * the enrolment, so a retried activity queues nothing twice. Only ids travel through Temporal: the settings (a Wi-Fi
 * password among them) are read here and go straight to NanoMDM.
 */
export function createMdmActivities({ models, secrets, apple }: ActivityDeps) {
  const engines = (): AppleMdm => {
    if (!apple) throw new Error('Apple enrolment is not configured in this worker (NANOMDM_URL and the rest)');
    return apple;
  };

  const enrolledDevice = async ({ deviceId, linkNumber }: Enrolment): Promise<{ device: Device; udid: string }> => {
    const device = await models.Device.findByPk(deviceId);
    const udid = device?.deviceInfo?.udid;
    if (!device || device.linkNumber !== linkNumber || typeof udid !== 'string') {
      throw new Error(`device ${deviceId} has no MDM enrolment for link ${linkNumber}`);
    }
    return { device, udid };
  };

  return {
    /**
     * Queues InstallProfile with the device template's settings and marks them pending; `commandUuid` is what the
     * device's answer names. Nothing to install (a template without settings) queues nothing.
     */
    async installSettings(enrolment: Enrolment): Promise<{ commandUuid?: string }> {
      const { device, udid } = await enrolledDevice(enrolment);
      const template = await models.DeviceTemplate.findByPk(device.deviceTemplateId);
      const enrolmentId = secrets.enrolmentId(enrolment.deviceId, enrolment.linkNumber);
      const management = appleManagement.safeParse(device.management);
      if (!management.success) {
        // Settings saved before they were typed, and never fixed: nothing the device could be sent. Said, not retried.
        await recordSettingsOutcome(models, {
          ...enrolment,
          status: 'failed',
          detail: [
            { LocalizedDescription: `The device template’s settings are not valid: ${management.error.message}` },
          ],
        });
        return {};
      }
      const profile = settingsProfile({
        enrolmentId,
        organisationName: (await models.Organisation.findByPk(device.organisationId))?.name ?? '',
        templateName: template?.name ?? device.name,
        management: management.data,
      });
      if (!profile) return {};
      const uuid = commandUuid('install-settings', enrolmentId);
      await enqueueCommand(engines(), udid, installProfileCommand(uuid, profile));
      await models.Device.update(
        { settingsStatus: 'pending' },
        { where: { id: device.id, linkNumber: enrolment.linkNumber, settingsStatus: null } },
      );
      return { commandUuid: uuid };
    },

    async recordSettingsOutcome(input: Enrolment & { status: SettingsStatus; errorChain?: unknown[] }) {
      await recordSettingsOutcome(models, { ...input, detail: input.errorChain });
    },

    /** Removal: RemoveProfile for the enrolment profile, which unenrols the device (it then checks out). */
    async removeEnrolment(enrolment: Enrolment) {
      const { udid } = await enrolledDevice(enrolment);
      const enrolmentId = secrets.enrolmentId(enrolment.deviceId, enrolment.linkNumber);
      await enqueueCommand(
        engines(),
        udid,
        removeProfileCommand(commandUuid('remove-enrolment', enrolmentId), enrolmentProfileIdentifier(enrolmentId)),
      );
    },

    async markUnenrolled(enrolment: Enrolment) {
      await markUnenrolled(models, enrolment);
    },
  };
}
