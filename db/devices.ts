import { Op } from 'sequelize';
import type { Models } from './models';

/**
 * Marks a device removed (once; a repeat keeps the first time): its link refuses from now on, and it no longer counts
 * against the owner's device limit. The device workflow's activity calls it, and the owner's API for a device no run
 * holds any more.
 */
export async function removeDeviceRecord(models: Models, deviceId: string): Promise<void> {
  await models.Device.update(
    { state: 'removed', removedAt: new Date() },
    { where: { id: deviceId, state: { [Op.ne]: 'removed' } } },
  );
}
