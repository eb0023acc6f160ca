import { createHash, timingSafeEqual } from 'node:crypto';
import { Op, UniqueConstraintError } from 'sequelize';
import type { Models } from '../db/models';
import { HttpError } from './errors';

/**
 * What the signed webhooks share (NanoMDM's, platforms/apple/enrolment.ts, and the organisations' external MDMs',
 * platforms/external-mdm/events.ts): comparing secrets in constant time, the freshness window, and taking each event once.
 */

/** How far a webhook call's time may be from now; older ones (or replays kept past it) are refused. */
export const WEBHOOK_FRESHNESS_MS = 5 * 60_000;

/** Whether two strings are equal, in time that does not depend on where they differ (nor on their lengths). */
export function stringsMatch(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Whether an event's time (ms since the epoch; NaN for none) is within the freshness window of now, either way. */
export const isFresh = (atMs: number): boolean => Math.abs(Date.now() - atMs) <= WEBHOOK_FRESHNESS_MS;

const PRUNE_EVERY_MS = 60_000;
/** When each database's taken events were last pruned by this process. */
const lastPruned = new WeakMap<Models, number>();

/**
 * Takes an event by its key (at most 128 characters), once: a second take is `409 replayed_event`. Keys are kept for
 * twice the freshness window, longer than any event signed with the same time can be fresh. Answers a release for
 * the event whose handling failed, so that the sender's retry of the same event is judged anew.
 */
export async function takeOnce(models: Models, eventKey: string): Promise<() => Promise<void>> {
  const now = new Date();
  // Pruning is one more write: a process does it at most once a minute, not for every event of a busy MDM.
  if (now.getTime() - (lastPruned.get(models) ?? 0) >= PRUNE_EVERY_MS) {
    lastPruned.set(models, now.getTime());
    await models.MdmWebhookEvent.destroy({
      where: { receivedAt: { [Op.lt]: new Date(now.getTime() - 2 * WEBHOOK_FRESHNESS_MS) } },
    });
  }
  try {
    await models.MdmWebhookEvent.create({ eventKey, receivedAt: now });
  } catch (error) {
    if (error instanceof UniqueConstraintError) throw new HttpError('replayed_event', 'This event was already taken.');
    throw error;
  }
  return async () => {
    await models.MdmWebhookEvent.destroy({ where: { eventKey, receivedAt: now } });
  };
}
