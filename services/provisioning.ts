import { WorkflowUpdateFailedError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { Device } from '../db/models';
import { deviceWorkflowId } from '../domain/ids';
import type { IssuedDevice } from '../domain/platform';
import {
  androidManagement,
  dpcSettings,
  personalEnrolmentLink,
  provisioningQrPayload,
} from '../platforms/android/settings';
import { enrolmentProfile } from '../platforms/apple/profiles';
import {
  checkInUrl,
  type EnrolmentPayload,
  type EnrolmentStart,
  MDM_MANAGED,
  type ProvisioningLink,
  provisioningLink,
  windowsEnrolmentUrl,
} from '../platforms/link';
import { checkInUpdate } from '../workflows/device/messages';
import type { ServiceDeps } from './context';
import { HttpError } from './errors';
import { checkInBody, opaqueParam } from './schemas';

/**
 * A device's side of its provisioning link: the device a link token belongs to while it can still be used, what the
 * link delivers, and the device's first check-in — from the device itself (a DPC) or reported by the MDM that enrolled
 * it. Apple devices check in through NanoMDM instead (platforms/apple/enrolment.ts).
 */
export function createProvisioning({ client, models, secrets, config, apple }: ServiceDeps) {
  /** The device a link belongs to, if the link can still be used; the reason it cannot, otherwise. */
  const usableDevice = async (token: unknown): Promise<Device> => {
    const parsed = opaqueParam.safeParse(token);
    const hash = parsed.success ? secrets.keyedHash('link', parsed.data) : undefined;
    const device = hash ? await models.Device.findOne({ where: { linkTokenHash: hash } }) : null;
    if (!device) {
      // A link replaced by a newer one is dead, not unknown: say so, as for any other expired link.
      if (hash && (await models.RetiredLink.findByPk(hash))) throw linkExpired();
      throw new HttpError('link_not_found', 'This provisioning link does not exist.');
    }
    refuseSpentLink(device);
    return device;
  };

  /** An iPhone's, iPad's or Mac's enrolment profile: its identity from SCEP, then NanoMDM through our check-in. */
  const appleProfile = async (device: Device): Promise<EnrolmentPayload> => {
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
  };

  /**
   * How the device of an issued link starts enrolling, from its record and its organisation's settings as they are
   * now; undefined when something it needs is missing (the organisation's Windows MDM, a valid Android template).
   */
  const startOf = async (issued: IssuedDevice): Promise<EnrolmentStart | undefined> => {
    if (MDM_MANAGED.has(issued.platform)) return { kind: 'apple-profile' };
    const device = await models.Device.findByPk(issued.id);
    const owner = device && (await models.User.findByPk(device.userId));
    if (!device || !owner) return undefined;
    const token = secrets.linkToken(issued.id, issued.linkNumber);
    if (issued.platform === 'windows') {
      const organisation = await models.Organisation.findByPk(device.organisationId);
      const discoveryUrl = organisation?.windowsMdmDiscoveryUrl;
      return discoveryUrl
        ? { kind: 'windows', url: windowsEnrolmentUrl({ email: owner.email, discoveryUrl, token }) }
        : undefined;
    }
    const management = androidManagement.safeParse(device.management);
    if (!management.success) return undefined;
    const enrolment = {
      management: management.data,
      enrolmentToken: token,
      checkInUrl: checkInUrl(config.publicUrl, token),
    };
    if (management.data.ownership === 'personal') return { kind: 'android-app', url: personalEnrolmentLink(enrolment) };
    return {
      kind: 'android-qr',
      qrPayload: provisioningQrPayload({
        ...enrolment,
        serviceUrl: config.publicUrl,
        locale: owner.locale,
        timeZone: owner.timeZone,
      }),
    };
  };

  return {
    usableDevice,
    appleProfile,

    /** What the owner is shown for an issued link: its URL, how the device starts enrolling, and the steps. */
    async link(issued: IssuedDevice): Promise<ProvisioningLink> {
      return provisioningLink(config.publicUrl, secrets, issued, await startOf(issued));
    },

    /** The link of a device whose link is live, as the device that opens it sees it. */
    async linkOf(device: Device): Promise<ProvisioningLink> {
      return this.link({ ...device.get(), expiresAt: device.linkExpiresAt.toISOString() });
    },

    /**
     * A device policy app's own check-in (Android): the device's identifiers are recorded, and the answer is the
     * settings of its template, which the app applies. Windows PCs are reported by the MDM that enrolled them.
     */
    async dpcCheckIn(token: unknown, body: unknown) {
      const device = await usableDevice(token);
      if (device.platform !== 'android') {
        throw new HttpError(
          'wrong_step',
          device.platform === 'windows'
            ? 'Windows PCs are reported by the MDM that enrolled them (POST /api/mdm/events), not by this route.'
            : 'iPhones, iPads and Macs check in through device management, with the profile.',
        );
      }
      const { deviceInfo } = checkInBody.parse(body ?? {});
      const outcome = await this.checkIn(device, deviceInfo);
      const management = androidManagement.safeParse(device.management);
      return {
        deviceId: device.id,
        state: outcome.state,
        settings: management.success ? dpcSettings(management.data) : undefined,
      };
    },

    /**
     * The device's first check-in: it is enrolled and its link spent, once. A device managed through Apple's MDM is
     * refused: it checks in through NanoMDM.
     */
    async checkIn(device: Device, deviceInfo?: Record<string, unknown>) {
      if (MDM_MANAGED.has(device.platform)) {
        throw new HttpError(
          'wrong_step',
          'iPhones, iPads and Macs check in through device management, with the profile.',
        );
      }
      try {
        return await client.workflow
          .getHandle(deviceWorkflowId(device.id))
          .executeUpdate(checkInUpdate, { args: [{ deviceInfo }] });
      } catch (error) {
        // The device workflow has ended since we looked: the database says why the link is dead now.
        if (error instanceof WorkflowNotFoundError || (error instanceof WorkflowUpdateFailedError && !error.cause)) {
          await device.reload();
          refuseSpentLink(device);
        }
        throw error;
      }
    },
  };
}

export type Provisioning = ReturnType<typeof createProvisioning>;

const linkExpired = () => new HttpError('link_expired', 'This provisioning link has expired. Ask for a new one.');

function refuseSpentLink(device: Device): void {
  const state = device.stateNow();
  if (state === 'enrolled') throw new HttpError('link_used', 'This provisioning link has already been used.');
  if (state !== 'link-issued') throw linkExpired();
}
