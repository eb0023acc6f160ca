import type { Models } from '../db/models';
import { offeredPlatforms } from '../db/policy';
import type { Secrets } from '../lib/secrets';
import { domainError } from '../workflows/errors';
import type { IssuedDevice } from '../workflows/messages';

export function createDeviceActivities({ models, secrets }: { models: Models; secrets: Secrets }) {
  const linkHash = (deviceId: string, linkNumber: number) =>
    secrets.keyedHash('link', secrets.linkToken(deviceId, linkNumber));

  return {
    /**
     * The device record, made from the platform's device template as the organisation offers it now, with the hash
     * of its first provisioning link. Keyed by the device id the workflow chose: a retry finds the record it made.
     */
    async createDevice(input: {
      organisation: string;
      userId: number;
      device: IssuedDevice;
    }): Promise<{ name: string }> {
      const { id, platform, linkNumber, expiresAt } = input.device;
      const existing = await models.Device.findByPk(id);
      if (existing) return { name: existing.name };

      const { organisation, offered } = await offeredPlatforms(models, input.organisation);
      const template = offered.get(platform);
      if (!template)
        throw domainError('platform_not_available', `${organisation.name} does not offer ${platform} devices.`);
      const device = await models.Device.create({
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
      });
      return { name: device.name };
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
  };
}
