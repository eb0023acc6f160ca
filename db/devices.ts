import { Op } from 'sequelize';
import type { SettingsStatus } from '../domain/platform';
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

/**
 * The device's answer to the settings command of its enrolment (from its workflow, or from the webhook once no run
 * waits): the first answer to that enrolment's command stands.
 */
export async function recordSettingsOutcome(
  models: Models,
  input: { deviceId: string; linkNumber: number; status: SettingsStatus; detail?: unknown[] },
): Promise<void> {
  await models.Device.update(
    { settingsStatus: input.status, settingsDetail: input.detail ?? null },
    {
      where: {
        id: input.deviceId,
        linkNumber: input.linkNumber,
        [Op.or]: [{ settingsStatus: null }, { settingsStatus: 'pending' }],
      },
    },
  );
}

/**
 * The device checked out (its management profile was removed on it): an enrolled device is unenrolled; a removed one
 * stays removed, now known to have let go. Repeating it keeps the first time.
 */
export async function markUnenrolled(models: Models, input: { deviceId: string; linkNumber: number }): Promise<void> {
  const where = { id: input.deviceId, linkNumber: input.linkNumber, unenrolledAt: null };
  const now = new Date();
  await models.Device.update({ state: 'unenrolled', unenrolledAt: now }, { where: { ...where, state: 'enrolled' } });
  await models.Device.update({ unenrolledAt: now }, { where: { ...where, state: 'removed' } });
}
