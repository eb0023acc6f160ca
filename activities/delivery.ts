import { UniqueConstraintError } from 'sequelize';
import type { Models } from '../db/models';

/**
 * Sends a message at most once per key as far as a retried activity goes: a key already recorded is not sent again.
 * (A crash between sending and recording can still send twice; that is the at-least-once that retries promise.)
 */
export async function deliverOnce(
  models: Models,
  key: string,
  channel: 'mail' | 'sms',
  send: () => Promise<void>,
): Promise<void> {
  if (await models.Delivery.findByPk(key)) return;
  await send();
  try {
    await models.Delivery.create({ key, channel });
  } catch (error) {
    if (!(error instanceof UniqueConstraintError)) throw error;
  }
}
