import { z } from 'zod';
import type { Device, Organisation } from '../../db/models';
import { PLATFORMS } from '../../domain/platform';
import type { ProvisioningLink } from '../../platforms/link';
import type { ServiceDeps } from '../context';
import { HttpError } from '../errors';
import { type DeviceOwner, describe, type OwnedDevice, type OwnerDevices } from '../owners/devices';
import type { Settings } from './settings';

/** A device's states as the console filters by them: the record's, as `devices(organisation)` lists them. */
export const DEVICE_STATES = ['link-issued', 'enrolled', 'link-expired', 'removed', 'unenrolled'] as const;

/** Each filter on its own: a value that is not one of the choices (an edited address) filters nothing. */
export const deviceFilters = z.object({
  state: z.enum(DEVICE_STATES).optional().catch(undefined),
  platform: z.enum(PLATFORMS).optional().catch(undefined),
  /** Part of the owner's address, not minding case. */
  owner: z.string().trim().toLowerCase().max(254).optional().catch(undefined),
});
export type DeviceFilters = z.infer<typeof deviceFilters>;

/** One device as an operator sees it: as its owner does, with whose it is and what it said about itself. */
export interface AdministeredDevice extends OwnedDevice {
  owner: string;
  deviceInfo: Record<string, unknown> | null;
}

const notFound = () => new HttpError('device_not_found', 'This organisation has no such device.');

/**
 * An organisation's devices for its operators: the list with its filters, one device, and the two things
 * operators did through the Temporal UI before — a new link for a device whose link expired, and removing a device.
 * Both take the owner's own path (services/owners/devices.ts) for the device's owner, and name the operator in the
 * device's workflow: the new link's run has them as `requestedBy`, the removal as the `remove` update's `by`.
 */
export function createDeviceAdmin(
  { models }: ServiceDeps,
  { settings, ownerDevices }: { settings: Settings; ownerDevices: OwnerDevices },
) {
  /** The organisation's device with the id, and its owner; another organisation's is not found. */
  const deviceIn = async (organisation: Organisation, id: string): Promise<{ device: Device; owner: DeviceOwner }> => {
    const device = await models.Device.findOne({ where: { id, organisationId: organisation.id } });
    const user = device && (await models.User.findByPk(device.userId));
    if (!device || !user) throw notFound();
    return { device, owner: { user, organisation } };
  };

  /** The owner's path refuses a removed device as theirs no longer: the operator is told what happened. */
  const notRemoved = (device: Device) => {
    if (device.state === 'removed') throw new HttpError('wrong_step', 'This device has been removed already.');
  };

  return {
    async list(organisation: Organisation, filters: DeviceFilters = {}) {
      const devices = await settings.devices(organisation);
      return devices.filter(
        (device) =>
          (!filters.state || device.state === filters.state) &&
          (!filters.platform || device.platform === filters.platform) &&
          (!filters.owner || Boolean(device.owner?.toLowerCase().includes(filters.owner))),
      );
    },

    async get(organisation: Organisation, id: string): Promise<AdministeredDevice> {
      const { device, owner } = await deviceIn(organisation, id);
      return { ...describe(device), owner: owner.user.email, deviceInfo: device.deviceInfo ?? null };
    },

    /** The device's live link, for the operator to pass on; none once it is used, expired or removed. */
    async currentLink(organisation: Organisation, id: string): Promise<ProvisioningLink | undefined> {
      const { device, owner } = await deviceIn(organisation, id);
      if (device.stateNow() !== 'link-issued') return undefined;
      return ownerDevices.currentLink(owner, device.id);
    },

    /** A new link for the owner, as the owner would get it (Android's by SMS to the owner's number too). */
    async newLink(organisation: Organisation, id: string, by: string): Promise<ProvisioningLink> {
      const { device, owner } = await deviceIn(organisation, id);
      notRemoved(device);
      return ownerDevices.newLink(owner, device.id, { requestedBy: by });
    },

    async remove(organisation: Organisation, id: string, by: string): Promise<void> {
      const { device, owner } = await deviceIn(organisation, id);
      notRemoved(device);
      await ownerDevices.remove(owner, device.id, by);
    },
  };
}

export type DeviceAdmin = ReturnType<typeof createDeviceAdmin>;
