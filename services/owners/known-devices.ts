import { Op } from 'sequelize';
import type { AccountKind, KnownDevice } from '../../db/models';
import { randomToken } from '../../lib/secrets';
import type { AttemptLimits, Counter } from '../attempts';
import type { ServiceDeps } from '../context';

/** A device token as its client keeps it: an HttpOnly cookie of the pages, a field of the JSON API's sign-in. */
export interface DeviceToken {
  deviceToken: string;
  deviceTokenExpiresAt: string;
}

/** Known devices one account keeps at most; a sign-in from one more forgets the one unused the longest. */
const DEVICES_PER_ACCOUNT = 10;

/**
 * Sign-in from known devices (OWASP's "device cookies"): a client that signed in to an account before holds a device
 * token for it, and its attempts at that account are counted against that token's own small limit instead of the
 * limits strangers fill (per account, per address), so a flood of wrong passwords from elsewhere never keeps the
 * account's person out of where they signed in before. Past its limit the token is locked out for the window, whatever
 * it sends; without it, the client is counted as any stranger. Tokens are bound to one account of one kind, stored as
 * their keyed hash, expire, and are replaced on each sign-in with them.
 */
export function createKnownDevices(
  { models, secrets, config }: Pick<ServiceDeps, 'models' | 'secrets' | 'config'>,
  attempts: AttemptLimits,
  kind: AccountKind,
) {
  const perDevice = attempts.limiter(`${kind}-device`, config.limits.signInPerDevice);
  const hashOf = (token: string) => secrets.keyedHash('known-device', token);

  return {
    /** The known device a token names, if it was given to this account and has not expired. */
    async recognise(token: string | undefined, accountId: number | undefined): Promise<KnownDevice | undefined> {
      if (token === undefined || accountId === undefined) return undefined;
      const device = await models.KnownDevice.findOne({
        where: { tokenHash: hashOf(token), accountKind: kind, accountId, expiresAt: { [Op.gt]: new Date() } },
      });
      return device ?? undefined;
    },

    /** What an attempt is counted against: a known device's own limit, or else the strangers' limits. */
    counters: (device: KnownDevice | undefined, strangers: Counter[]): Counter[] =>
      device ? [[perDevice, device.tokenHash]] : strangers,

    /**
     * A new device token for an account that just signed in, in place of the one the client presented (if any); the
     * account's expired tokens, and those past the newest few, go.
     */
    async issue(accountId: number, presented: KnownDevice | undefined): Promise<DeviceToken> {
      const token = randomToken();
      const expiresAt = new Date(Date.now() + config.owners.knownDeviceTtlMs);
      await presented?.destroy();
      await models.KnownDevice.create({ tokenHash: hashOf(token), accountKind: kind, accountId, expiresAt });
      const account = { accountKind: kind, accountId };
      const kept = await models.KnownDevice.findAll({
        attributes: ['id'],
        where: { ...account, expiresAt: { [Op.gt]: new Date() } },
        order: [['expiresAt', 'DESC']],
        limit: DEVICES_PER_ACCOUNT,
      });
      await models.KnownDevice.destroy({ where: { ...account, id: { [Op.notIn]: kept.map(({ id }) => id) } } });
      return { deviceToken: token, deviceTokenExpiresAt: expiresAt.toISOString() };
    },
  };
}

export type KnownDevices = ReturnType<typeof createKnownDevices>;
