import { WorkflowUpdateFailedError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { Device } from '../db/models';
import { deviceWorkflowId } from '../domain/ids';
import type { IssuedDevice } from '../domain/platform';
import { homeOf } from '../platforms';
import { type EnrolmentPayload, type EnrolmentStart, type ProvisioningLink, provisioningLink } from '../platforms/link';
import { traitsOf } from '../platforms/traits';
import { checkInUpdate } from '../workflows/device/messages';
import type { ServiceDeps } from './context';
import { HttpError } from './errors';
import { checkInBody, opaqueParam } from './schemas';

/**
 * A device's side of its provisioning link: the device a link token belongs to while it can still be used, what the
 * link delivers, and the device's first check-in — from the device itself (a DPC) or reported by the MDM that enrolled
 * it. Apple devices check in through NanoMDM instead (platforms/apple/enrolment.ts).
 */
export function createProvisioning(deps: ServiceDeps) {
  const { client, models, secrets, config } = deps;
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

  /**
   * How the device of an issued link starts enrolling, as its platform says from the organisation's settings now;
   * undefined when something it needs is missing. The records are read only for a platform that asks for them.
   */
  const startOf = (issued: IssuedDevice): Promise<EnrolmentStart | undefined> =>
    homeOf(issued.platform).start({
      token: secrets.linkToken(issued.id, issued.linkNumber),
      publicUrl: config.publicUrl,
      records: async () => {
        const device = await models.Device.findByPk(issued.id);
        const [owner, organisation] = device
          ? await Promise.all([
              models.User.findByPk(device.userId),
              models.Organisation.findByPk(device.organisationId),
            ])
          : [];
        return device && owner && organisation ? { device, owner, organisation } : undefined;
      },
    });

  return {
    usableDevice,

    /** What the link of a live device delivers when the device opens it, if its platform delivers something itself. */
    delivery(device: Device): Promise<EnrolmentPayload> | undefined {
      return homeOf(device.platform).deliver?.(deps, device);
    },

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
      const refusal = homeOf(device.platform).deviceAppCheckInRefusal;
      if (refusal) throw new HttpError('wrong_step', refusal);
      const { deviceInfo } = checkInBody.parse(body ?? {});
      const outcome = await this.checkIn(device, deviceInfo);
      return {
        deviceId: device.id,
        state: outcome.state,
        settings: homeOf(device.platform).deviceAppSettings?.(device.management),
      };
    },

    /**
     * The device's first check-in: it is enrolled and its link spent, once. A device managed through Apple's MDM is
     * refused: it checks in through NanoMDM.
     */
    async checkIn(device: Device, deviceInfo?: Record<string, unknown>) {
      const refusal = traitsOf(device.platform).mdmManaged && homeOf(device.platform).deviceAppCheckInRefusal;
      if (refusal) throw new HttpError('wrong_step', refusal);
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
