import { type Transaction, UniqueConstraintError } from 'sequelize';
import { type AdminStore, createAdmin } from '../../db/admins';
import type { HandedOver } from '../../lib/handover';
import { randomToken } from '../../lib/secrets';
import { newTotpSecret, totpStep, totpUri } from '../../lib/totp';
import type { ServiceDeps } from '../context';
import { HttpError } from '../errors';
import type { SignedIn } from '../owners/accounts';
import type { PasswordWork } from '../password-work';
import { sealState, unsealState } from '../sealed-state';
import type { AdminAccounts } from './admins';

/**
 * The first supervisor: at the first start the API makes a one-time link, valid for ADMIN_SETUP_LINK_TTL;
 * whoever opens it chooses an e-mail address and a password, adds the TOTP secret to an authenticator app and proves it
 * with a code. Only then is the supervisor made and the link spent, so a set-up abandoned half-way leaves the link
 * working until it expires. `npm run admin:setup-link` replaces an unused or expired link by a new one.
 */

const PURPOSE = 'first-supervisor';
const tokenHashOf = (store: AdminStore, token: string) => store.secrets.keyedHash('admin-setup', token);
export const setupLinkOf = (publicUrl: string, token: string) => `${publicUrl}/admin/setup/${token}`;
const unusedLink = { purpose: PURPOSE, usedAt: null } as const;

/**
 * A new set-up token for the first supervisor, working for `ttlMs`, kept as its keyed hash. While an unused one
 * exists (expired or not) this fails with a UniqueConstraintError: one unused link at a time.
 */
async function issueSetupToken(store: AdminStore, ttlMs: number, transaction?: Transaction): Promise<string> {
  const token = randomToken();
  await store.models.AdminSetupToken.create(
    { tokenHash: tokenHashOf(store, token), purpose: PURPOSE, expiresAt: new Date(Date.now() + ttlMs) },
    { transaction },
  );
  return token;
}

/**
 * At start: the first supervisor's set-up link while there is no admin and no unused link, for the caller to hand
 * over; it is given only this once. Undefined otherwise, and for the loser of processes starting together.
 */
export async function firstSupervisorSetupLink(
  store: AdminStore,
  publicUrl: string,
  ttlMs: number,
): Promise<string | undefined> {
  if ((await store.models.AdminUser.count()) > 0) return undefined;
  try {
    return setupLinkOf(publicUrl, await issueSetupToken(store, ttlMs));
  } catch (error) {
    if (error instanceof UniqueConstraintError) return undefined;
    throw error;
  }
}

/** Whether the console has no admin yet and its one unused set-up link has expired: a new one must be made. */
export async function setupLinkExpired(store: AdminStore): Promise<boolean> {
  if ((await store.models.AdminUser.count()) > 0) return false;
  const unused = await store.models.AdminSetupToken.findOne({ where: unusedLink });
  return unused !== null && unused.expiresAt.getTime() <= Date.now();
}

/**
 * `npm run admin:setup-link`: a new set-up link in place of the unused one, which stops working. While there is no admin
 * yet, for the link that was lost or expired; once there is one, only for `recovery` (every supervisor lost their
 * authenticator): the link makes a supervisor, and whoever runs the command on the server can read the database anyway.
 */
export async function replaceSetupLink(
  store: AdminStore,
  { publicUrl, ttlMs, recovery }: { publicUrl: string; ttlMs: number; recovery: boolean },
): Promise<string> {
  const admins = await store.models.AdminUser.count();
  if (admins > 0 && !recovery) {
    throw new HttpError(
      'forbidden',
      `The console has ${admins} admin(s) already: sign in, or run with --recovery to make a link for another supervisor.`,
    );
  }
  const sequelize = store.models.AdminSetupToken.sequelize as NonNullable<
    typeof store.models.AdminSetupToken.sequelize
  >;
  const token = await sequelize.transaction(async (transaction) => {
    await store.models.AdminSetupToken.destroy({ where: unusedLink, transaction });
    return issueSetupToken(store, ttlMs, transaction);
  });
  return setupLinkOf(publicUrl, token);
}

/** The first supervisor's set-up link as the operator gets it: at the first start, and from `npm run admin:setup-link`. */
export const setupLinkHandedOver = (link: string): HandedOver => ({
  what: 'the set-up link of the first supervisor of the admin console',
  value: link,
  file: 'admin-setup-link',
  note: 'Open it soon: it works once, until it expires (ADMIN_SETUP_LINK_TTL), and is given only this once (stored hashed).',
});

/** What a new admin chose on their link's first page, waiting sealed in their browser for the code. */
interface Choice {
  /** A keyed hash naming the link it was chosen on: it is good on that link only. */
  link: string;
  email: string;
  passwordHash: string;
  totpSecret: string;
}
const CHOICE_MS = 30 * 60_000;

/**
 * The two steps of every new admin's link (the first supervisor's, an invited manager's): an address and a password,
 * then an authenticator app confirmed with a code. The choice waits in the browser, sealed for its `purpose` and bound
 * to its link, for half an hour; nothing is stored before the code is right.
 */
export function credentialChoices({ secrets, config }: ServiceDeps, passwords: PasswordWork, purpose: string) {
  const open = (link: string, sealed: string | undefined) => {
    const choice = unsealState<Choice>(secrets, purpose, sealed);
    return choice?.link === link ? choice : undefined;
  };

  return {
    /** The address and password chosen, with a new TOTP secret: sealed for the browser until a code confirms them. */
    async choose(link: string, input: { email: string; password: string }): Promise<string> {
      const choice: Choice = {
        link,
        email: input.email,
        passwordHash: await passwords.hash(input.password),
        totpSecret: newTotpSecret(),
      };
      return sealState(secrets, purpose, choice, CHOICE_MS);
    },

    /** The secret to add to an app, as text and as the QR code's otpauth address; none without a live choice. */
    authenticator(link: string, sealed: string | undefined) {
      const choice = open(link, sealed);
      return (
        choice && {
          email: choice.email,
          secret: choice.totpSecret,
          uri: totpUri(choice.totpSecret, { issuer: config.siteName, label: choice.email }),
        }
      );
    },

    /** The choice a right code confirms, with the code's time step: stored as the admin's last, it cannot sign in. */
    confirm(link: string, sealed: string | undefined, code: string) {
      const choice = open(link, sealed);
      if (!choice) throw new HttpError('code_expired', 'This set-up has timed out. Start again from the link.');
      const step = totpStep(choice.totpSecret, code);
      if (step === undefined)
        throw new HttpError('invalid_code', 'That code is not right. Enter the code your app shows now.');
      return { ...choice, step };
    },
  };
}

const used = () => new HttpError('link_used', 'This set-up link has been used already. Sign in instead.');

export function createAdminSetup(
  deps: ServiceDeps,
  { passwords, admins }: { passwords: PasswordWork; admins: AdminAccounts },
) {
  const { models } = deps;
  const choices = credentialChoices(deps, passwords, 'admin-setup');

  /** The link's token, if it can still set someone up: 404 for one never made (or replaced), 410 for one used or expired. */
  const unused = async (token: string) => {
    const row = await models.AdminSetupToken.findOne({ where: { tokenHash: tokenHashOf(deps, token) } });
    if (!row)
      throw new HttpError('link_not_found', 'There is no such set-up link. Check that the address is complete.');
    if (row.usedAt) throw used();
    if (row.expiresAt.getTime() <= Date.now()) {
      throw new HttpError(
        'link_expired',
        'This set-up link has expired. Whoever runs the server makes a new one with "npm run admin:setup-link".',
      );
    }
  };

  return {
    check: unused,

    async choose(token: string, input: { email: string; password: string }): Promise<string> {
      await unused(token);
      return choices.choose(tokenHashOf(deps, token), input);
    },

    authenticator: (token: string, sealed: string | undefined) =>
      choices.authenticator(tokenHashOf(deps, token), sealed),

    /** A right code: the supervisor is made and the link spent, together, and the supervisor is signed in. */
    async complete(token: string, sealed: string | undefined, code: string): Promise<SignedIn> {
      await unused(token);
      const { link, email, passwordHash, totpSecret, step } = choices.confirm(tokenHashOf(deps, token), sealed, code);
      const sequelize = models.AdminSetupToken.sequelize as NonNullable<typeof models.AdminSetupToken.sequelize>;
      const user = await sequelize.transaction(async (transaction) => {
        const [spent] = await models.AdminSetupToken.update(
          { usedAt: new Date() },
          { where: { tokenHash: link, usedAt: null }, transaction },
        );
        if (spent === 0) throw used();
        const admin = { email, passwordHash, totpSecret, totpLastStep: step };
        return createAdmin(deps, { ...admin, role: 'supervisor', organisationId: null }, transaction);
      });
      return admins.startSession(user);
    },
  };
}

export type AdminSetup = ReturnType<typeof createAdminSetup>;
