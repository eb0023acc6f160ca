import { Op, UniqueConstraintError } from 'sequelize';
import type { AdminUser, KnownDevice, Organisation } from '../../db/models';
import { hashPassword, randomToken } from '../../lib/secrets';
import { totpStep } from '../../lib/totp';
import type { AttemptLimits, Counter } from '../attempts';
import type { ServiceDeps } from '../context';
import { describeError, HttpError } from '../errors';
import type { SignedIn } from '../owners/accounts';
import { createKnownDevices } from '../owners/known-devices';
import type { PasswordWork } from '../password-work';
import { sealState, unsealState } from '../sealed-state';

/** A signed-in supervisor or manager, as the admin pages see them. */
export interface SignedInAdmin {
  user: AdminUser;
  /** The organisation a manager manages; none for a supervisor. */
  organisation?: Organisation;
  sessionId: number;
}

/** Compared against when the address is no admin's, so an unknown address costs as long as a wrong password. */
const UNKNOWN_ACCOUNT_HASH = hashPassword(randomToken());

/** Sessions are touched at most this often: a page full of requests should not be a page full of writes. */
const TOUCH_EVERY_MS = 60_000;

/** How long the password, once right, waits for the code. */
const FIRST_FACTOR_MS = 5 * 60_000;
const FIRST_FACTOR = 'admin-first-factor';
/** A proven password, sealed: whose it is, and a random id that is spent when its code is taken. */
interface FirstFactor {
  admin: number;
  proof: string;
}
const timedOut = () => new HttpError('unauthorized', 'This sign-in has timed out. Sign in again.');

const TOO_MANY = 'Too many failed sign-ins. Wait a while before trying again.';
const wrongCode = () =>
  new HttpError(
    'invalid_code',
    'That code is not right, or it has been used already. Enter the newest code your app shows.',
  );
/** A wrong password or a wrong (or replayed) code: it stays counted against the account and the address. */
const isWrongGuess = (error: unknown) =>
  ['invalid_credentials', 'invalid_code'].includes(describeError(error)?.code ?? '');

/**
 * The admin console's people: sign-in with a password and a TOTP code, under the owners' limits on failed
 * attempts (per account and address strict, per address, per account a throttle) counted apart from theirs; sessions
 * with the owners' idle and absolute limits; sign-out; which organisation an admin may manage.
 */
export function createAdminAccounts(
  { models, secrets, config, logger }: ServiceDeps,
  { attempts, passwords }: { attempts: AttemptLimits; passwords: PasswordWork },
) {
  const rules = config.owners;
  const { limits } = config;
  const perAccountAndAddress = attempts.limiter('admin-account-address', limits.signInPerAccountAndAddress);
  const perAddress = attempts.limiter('admin-address', limits.signInPerAddress);
  const perAccount = attempts.limiter('admin-account', limits.signInPerAccount);
  const knownDevices = createKnownDevices({ models, secrets, config }, attempts, 'admin');
  const counters = (email: string, address: string): Counter[] => {
    const account = secrets.keyedHash('admin-sign-in', email);
    return [
      [perAccountAndAddress, `${account}|${address}`],
      [perAddress, address],
      [perAccount, account],
    ];
  };
  const sessionHash = (token: string) => secrets.keyedHash('admin-session', token);
  /** A session that can still be used: not ended, not past its absolute limit, not idle past the idle limit. */
  const live = (now: number) => ({
    endedAt: null,
    expiresAt: { [Op.gt]: new Date(now) },
    lastSeenAt: { [Op.gt]: new Date(now - rules.sessionIdleMs) },
  });

  /**
   * Takes a code as the admin's second factor. Its time step must come after the last one taken; the conditional
   * update makes that atomic, so of two requests with the same code only one gets in.
   */
  const takeCode = async (user: AdminUser, code: string) => {
    const secret = secrets.unseal(user.totpSecret);
    if (secret === undefined) throw new Error(`admin user ${user.id}: the TOTP secret was sealed with another key`);
    const step = totpStep(secret, code);
    if (step === undefined) throw wrongCode();
    const [taken] = await models.AdminUser.update(
      { totpLastStep: step },
      { where: { id: user.id, [Op.or]: [{ totpLastStep: null }, { totpLastStep: { [Op.lt]: step } }] } },
    );
    if (taken === 0) throw wrongCode();
  };

  /**
   * A proven password still waiting for its code: sealed by us, in time, and not spent. A proof sealed before proofs
   * had an id (in a browser across an upgrade) is as timed out as an old one.
   */
  const waitingFirstFactor = async (sealed: string | undefined): Promise<FirstFactor | undefined> => {
    const waiting = unsealState<Partial<FirstFactor>>(secrets, FIRST_FACTOR, sealed);
    if (waiting?.admin === undefined || waiting.proof === undefined) return undefined;
    const spent = await models.SpentFirstFactor.count({ where: { id: waiting.proof } });
    return spent === 0 ? { admin: waiting.admin, proof: waiting.proof } : undefined;
  };

  /**
   * Spends a proven password, once: the primary key takes one write of its id, so of two requests with the same proof
   * (one replayed in another browser) only one goes on to a session; the other is timed out.
   */
  const spendFirstFactor = async (proof: string) => {
    const now = Date.now();
    // A proof past its time is refused by its seal: its row can go, and the table holds only minutes of sign-ins.
    await models.SpentFirstFactor.destroy({ where: { expiresAt: { [Op.lte]: new Date(now) } } });
    try {
      await models.SpentFirstFactor.create({ id: proof, expiresAt: new Date(now + FIRST_FACTOR_MS) });
    } catch (error) {
      throw error instanceof UniqueConstraintError ? timedOut() : error;
    }
  };

  /**
   * A new session of an admin whose credentials were just proven (at sign-in, or at the end of their set-up), and a
   * device token for the browser in place of the one it signed in with.
   */
  const startSession = async (user: AdminUser, device?: KnownDevice): Promise<SignedIn> => {
    const token = randomToken();
    const now = Date.now();
    const expiresAt = new Date(now + rules.sessionAbsoluteMs);
    // Sessions that can no longer be used go when their admin signs in again: the table stays as small as its users.
    await models.AdminSession.destroy({ where: { adminUserId: user.id, [Op.not]: live(now) } });
    await models.AdminSession.create({
      tokenHash: sessionHash(token),
      adminUserId: user.id,
      lastSeenAt: new Date(now),
      expiresAt,
    });
    return { token, expiresAt: expiresAt.toISOString(), ...(await knownDevices.issue(user.id, device)) };
  };

  return {
    /**
     * The first factor: the password of an admin who is not disabled. An unknown address, a disabled admin and a
     * wrong password get the same answer after the same work. Failures count against the browser's device token when
     * this admin was given it, otherwise against the account and the address. Returns the sealed proof the code step
     * goes on from.
     */
    async checkPassword(input: { email: string; password: string }, address: string, deviceToken?: string) {
      const found = await models.AdminUser.findOne({ where: { email: input.email, disabledAt: null } });
      const device = await knownDevices.recognise(deviceToken, found?.id);
      const user = await attempts.attempt(
        knownDevices.counters(device, counters(input.email, address)),
        TOO_MANY,
        async () => {
          const matches = await passwords.verify(found?.passwordHash ?? (await UNKNOWN_ACCOUNT_HASH), input.password);
          if (!found || !matches) {
            throw new HttpError('invalid_credentials', 'The e-mail address or the password is not right.');
          }
          return found;
        },
        isWrongGuess,
      );
      return sealState<FirstFactor>(secrets, FIRST_FACTOR, { admin: user.id, proof: randomToken() }, FIRST_FACTOR_MS);
    },

    /** Whether a first factor is still waiting for its code. */
    passwordChecked: async (firstFactor: string | undefined) => (await waitingFirstFactor(firstFactor)) !== undefined,

    /**
     * The second factor: a TOTP code, counted like a password. Right, it spends the first factor and starts a session;
     * a first factor spent already is refused as a timed-out one.
     */
    async checkCode(
      firstFactor: string | undefined,
      code: string,
      address: string,
      deviceToken?: string,
    ): Promise<SignedIn> {
      const waiting = await waitingFirstFactor(firstFactor);
      const user = waiting && (await models.AdminUser.findOne({ where: { id: waiting.admin, disabledAt: null } }));
      if (!waiting || !user) throw timedOut();
      const device = await knownDevices.recognise(deviceToken, user.id);
      await attempts.attempt(
        knownDevices.counters(device, counters(user.email, address)),
        TOO_MANY,
        () => takeCode(user, code),
        isWrongGuess,
      );
      await spendFirstFactor(waiting.proof);
      return startSession(user, device);
    },

    startSession,

    /** The admin behind a session token; 401 once the session has ended, idled or aged out, or the admin is disabled. */
    async adminOf(token: string): Promise<SignedInAdmin> {
      const now = Date.now();
      const session = await models.AdminSession.findOne({ where: { tokenHash: sessionHash(token), ...live(now) } });
      const user =
        session && (await models.AdminUser.findOne({ where: { id: session.adminUserId, disabledAt: null } }));
      if (!session || !user) {
        throw new HttpError('unauthorized', 'You are not signed in, or your session has ended. Sign in again.');
      }
      const organisation =
        user.organisationId === null
          ? undefined
          : ((await models.Organisation.findByPk(user.organisationId)) ?? undefined);
      if (now - session.lastSeenAt.getTime() > Math.min(TOUCH_EVERY_MS, rules.sessionIdleMs / 4))
        await session.update({ lastSeenAt: new Date(now) });
      return { user, organisation, sessionId: session.id };
    },

    /** Ends a session; an already ended or unknown one is left as it is. */
    async signOut(token: string): Promise<void> {
      await models.AdminSession.update(
        { endedAt: new Date() },
        { where: { tokenHash: sessionHash(token), endedAt: null } },
      );
    },

    /** Every organisation, by slug, with its managers (revoked ones too), in the order they joined. */
    async organisationsWithManagers() {
      const [organisations, managers] = await Promise.all([
        models.Organisation.findAll({ order: [['slug', 'ASC']] }),
        models.AdminUser.findAll({ where: { role: 'manager' }, order: [['id', 'ASC']] }),
      ]);
      return organisations.map((organisation) => ({
        organisation,
        managers: managers.filter((manager) => manager.organisationId === organisation.id),
      }));
    },

    /** An organisation's managers, revoked ones too, in the order they joined. */
    managersOf: (organisation: Organisation) =>
      models.AdminUser.findAll({ where: { role: 'manager', organisationId: organisation.id }, order: [['id', 'ASC']] }),

    /**
     * Revokes a manager of the organisation: they cannot sign in, and their sessions end now, so that none comes back
     * should they be invited again. No workflow records it: the log says who did it.
     */
    async revokeManager(organisation: Organisation, managerId: number, by: SignedInAdmin): Promise<void> {
      const manager = await models.AdminUser.findOne({
        where: { id: managerId, role: 'manager', organisationId: organisation.id, disabledAt: null },
      });
      if (!manager) throw new HttpError('not_found', 'There is no such manager of this organisation, or no longer.');
      const now = new Date();
      await manager.update({ disabledAt: now });
      await models.AdminSession.update({ endedAt: now }, { where: { adminUserId: manager.id, endedAt: null } });
      logger.info({ organisation: organisation.slug, manager: manager.id, by: by.user.id }, 'manager revoked');
    },

    /**
     * The organisation of a page's address, if this admin may manage it: a supervisor any, a manager their own. A
     * manager asking for another one is refused (403) whether it exists or not: no hint of what else there is.
     */
    async organisationFor(admin: SignedInAdmin, slug: string): Promise<Organisation> {
      if (admin.user.role === 'manager') {
        if (admin.organisation?.slug !== slug) throw new HttpError('forbidden', 'You manage another organisation.');
        return admin.organisation;
      }
      const organisation = await models.Organisation.findOne({ where: { slug } });
      if (!organisation) throw new HttpError('organisation_not_found', 'There is no organisation with that name.');
      return organisation;
    },
  };
}

export type AdminAccounts = ReturnType<typeof createAdminAccounts>;
