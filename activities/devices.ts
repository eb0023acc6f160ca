import { Op, UniqueConstraintError } from 'sequelize';
import { removeDeviceRecord } from '../db/devices';
import { exclusivelyForOwner } from '../db/owner-lock';
import { assertRoomForDevice, offeredTemplate } from '../db/policy';
import { domainError } from '../domain/errors';
import type { IssuedDevice } from '../domain/platform';
import type { ActivityDeps } from '.';

export function createDeviceActivities({ models, secrets, apple }: ActivityDeps) {
  const engines = { apple: Boolean(apple) };
  const linkHash = (deviceId: string, linkNumber: number) =>
    secrets.keyedHash('link', secrets.linkToken(deviceId, linkNumber));

  const sequelize = () => models.Device.sequelize as NonNullable<typeof models.Device.sequelize>;

  return {
    /**
     * The device record, made from the platform's device template as the organisation offers it now, with the hash
     * of its first provisioning link, within the organisation's limit of devices per owner. Keyed by the device id the
     * workflow chose: a retry finds the record it made.
     */
    async createDevice(input: {
      organisation: string;
      userId: number;
      device: IssuedDevice;
    }): Promise<{ name: string }> {
      const { id, platform, linkNumber, expiresAt } = input.device;
      const existing = await models.Device.findByPk(id);
      if (existing) return { name: existing.name };

      const { organisation, template } = await offeredTemplate(models, input.organisation, platform, engines);
      // Counting and inserting with the owner's records held, so two devices added at once cannot both squeeze
      // under the limit.
      return exclusivelyForOwner(models, input.userId, async (transaction) => {
        await assertRoomForDevice(models, organisation, input.userId, transaction);
        const device = await models.Device.create(
          {
            id,
            organisationId: organisation.id,
            userId: input.userId,
            platform,
            name: template.name,
            deviceTemplateId: template.id,
            groups: structuredClone(template.groups),
            description: template.description,
            management: structuredClone(template.management),
            state: 'link-issued',
            linkNumber,
            linkTokenHash: linkHash(id, linkNumber),
            linkExpiresAt: new Date(expiresAt),
          },
          { transaction },
        );
        return { name: device.name };
      }).catch(async (error: unknown) => {
        // An earlier attempt that timed out while its transaction was still open has made the record since.
        const made = error instanceof UniqueConstraintError ? await models.Device.findByPk(id) : null;
        if (made) return { name: made.name };
        throw error;
      });
    },

    /**
     * A new link for a device whose link expired: the previous link stays dead (its hash is replaced). Only while the
     * organisation still offers the platform. Repeating it for the same link number changes nothing.
     */
    async renewLink(input: { organisation: string; device: IssuedDevice }): Promise<{ name: string }> {
      const { id, platform, linkNumber, expiresAt } = input.device;
      await offeredTemplate(models, input.organisation, platform, engines);
      const renewed = await sequelize().transaction(async (transaction) => {
        const [changed] = await models.Device.update(
          {
            state: 'link-issued',
            linkNumber,
            linkTokenHash: linkHash(id, linkNumber),
            linkExpiresAt: new Date(expiresAt),
            // The expired link's enrolment let go of its identity and UDID: the new link's device gets its own.
            identityKey: null,
            udid: null,
          },
          {
            where: {
              id,
              linkNumber: linkNumber - 1,
              // A run that ended without marking its link (terminated by an operator) leaves it issued but past expiry.
              [Op.or]: [{ state: 'link-expired' }, { state: 'link-issued', linkExpiresAt: { [Op.lte]: new Date() } }],
            },
            transaction,
          },
        );
        if (changed === 1) {
          await models.RetiredLink.create(
            { linkTokenHash: linkHash(id, linkNumber - 1), deviceId: id, retiredAt: new Date() },
            { transaction },
          );
        }
        return models.Device.findByPk(id, { transaction });
      });
      if (renewed?.linkNumber === linkNumber && renewed.state !== 'removed') return { name: renewed.name };
      throw domainError('wrong_step', 'This device already has a newer link, or it has been removed.');
    },

    /** The first check-in: the device is enrolled and its link spent. Repeating it for the same link changes nothing. */
    async markEnrolled(input: { deviceId: string; linkNumber: number; deviceInfo?: Record<string, unknown> }) {
      const [changed] = await models.Device.update(
        { state: 'enrolled', enrolledAt: new Date(), deviceInfo: input.deviceInfo ?? null },
        { where: { id: input.deviceId, linkNumber: input.linkNumber, state: 'link-issued' } },
      );
      if (changed === 1) return;
      const device = await models.Device.findByPk(input.deviceId);
      if (device?.state === 'enrolled' && device.linkNumber === input.linkNumber) return;
      throw domainError('link_expired', 'This provisioning link is no longer valid.');
    },

    async expireLink(input: { deviceId: string; linkNumber: number }) {
      await models.Device.update(
        { state: 'link-expired' },
        { where: { id: input.deviceId, linkNumber: input.linkNumber, state: 'link-issued' } },
      );
    },

    /** The owner removed the device: its link refuses from now on, and it no longer counts against the limit. */
    async removeDevice(input: { deviceId: string }) {
      await removeDeviceRecord(models, input.deviceId);
    },
  };
}
