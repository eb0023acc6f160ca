import { WorkflowNotFoundError } from '@temporalio/common';
import { RateLimiterPostgres, RateLimiterRes, RateLimiterSQLite } from 'rate-limiter-flexible';
import { Op } from 'sequelize';
import type { Organisation, User } from '../db/models';
import { ownersOrganisation } from '../db/policy';
import { hashPassword, randomToken, verifyPassword } from '../lib/secrets';
import { confirmResetUpdate, passwordResetWorkflowId, requestResetUpdate } from '../workflows/messages';
import type { passwordReset } from '../workflows/password-reset';
import type { ApiDeps } from './context';
import { describeError, HttpError } from './errors';
import { flowStart } from './flow-start';

/** A signed-in device owner, as the routes and pages see them. */
export interface Owner {
  user: User;
  organisation: Organisation;
  sessionId: number;
}

export interface SignedIn {
  token: string;
  /** When the session ends at the latest; idleness can end it sooner. */
  expiresAt: string;
}

/** Compared against when the address has no account, so an unknown address costs as long as a wrong password. */
const UNKNOWN_ACCOUNT_HASH = hashPassword(randomToken());

/**
 * Wrong reset codes one account may have in a day, across all its codes: a 6-digit code must not be guessable by
 * asking for code after code.
 */
const RESET_FAILURES_PER_DAY = 10;
const DAY_MS = 86_400_000;

/** Sessions are touched at most this often: a page full of requests should not be a page full of writes. */
const TOUCH_EVERY_MS = 60_000;

/**
 * The rules of returning device owners in one place (issue 7): sign-in with its limits on failed attempts per account
 * and per client address, sessions with idle and absolute limits, sign-out, and password resets. The JSON API
 * (api/me.ts) and the web pages both go through here; routes stay thin.
 */
export function createOwnerAccounts({ client, models, secrets, config, rateLimitStore }: ApiDeps) {
  const rules = config.owners;
  const limiter = (keyPrefix: string, points: number, windowMs: number) => {
    const options = {
      tableName: 'sign_in_limits',
      tableCreated: true,
      clearExpiredByTimeout: true,
      keyPrefix,
      points,
      duration: Math.ceil(windowMs / 1000),
    };
    const store =
      rateLimitStore.dialect === 'postgres'
        ? new RateLimiterPostgres({ ...options, ...rateLimitStore })
        : new RateLimiterSQLite({ ...options, ...rateLimitStore });
    return { store, points };
  };
  type Limit = ReturnType<typeof limiter>;
  const signInFailuresPerAccount = limiter('account', rules.signInFailuresPerAccount, rules.signInWindowMs);
  const signInFailuresPerAddress = limiter('address', rules.signInFailuresPerAddress, rules.signInWindowMs);
  const resetFailuresPerAccount = limiter('reset', RESET_FAILURES_PER_DAY, DAY_MS);
  const sessionHash = (token: string) => secrets.keyedHash('owner-session', token);
  /** A session that can still be used: not ended, not past its absolute limit, not idle past the idle limit. */
  const live = (now: number) => ({
    endedAt: null,
    expiresAt: { [Op.gt]: new Date(now) },
    lastSeenAt: { [Op.gt]: new Date(now - rules.sessionIdleMs) },
  });
  const accountKeyOf = (organisation: Organisation, email: string) =>
    secrets.keyedHash('sign-in', `${organisation.id}\0${email}`);

  /** 429 with the wait when any counter is spent; checked before the secret is, so guessing stops there. */
  const refuseWhenLimited = async (counters: Array<[Limit, string]>, message: string) => {
    const states = await Promise.all(counters.map(([limit, key]) => limit.store.get(key)));
    const waits = states.map((state, i) =>
      state && state.consumedPoints >= (counters[i]?.[0].points ?? 0) ? state.msBeforeNext : 0,
    );
    const waitMs = Math.max(0, ...waits);
    if (waitMs > 0) throw new HttpError('too_many_attempts', message, { retryAfterSeconds: Math.ceil(waitMs / 1000) });
  };

  const countFailure = async (counters: Array<[Limit, string]>) => {
    // consume() rejects with the counter once it goes past the limit; the count is what matters here.
    await Promise.all(
      counters.map(([limit, key]) =>
        limit.store.consume(key).catch((rejection: unknown) => {
          if (!(rejection instanceof RateLimiterRes)) throw rejection;
        }),
      ),
    );
  };

  const resetWorkflow = async (input: { organisation?: string; email: string }) => {
    const organisation = await ownersOrganisation(models, input.organisation);
    return { organisation, workflowId: passwordResetWorkflowId(organisation.slug, input.email) };
  };

  return {
    /**
     * Signs an owner in. An unknown address and a wrong password get the same answer after the same work; failures
     * count against the account and the client address.
     */
    async signIn(
      input: { organisation?: string; email: string; password: string },
      address: string,
    ): Promise<SignedIn> {
      const organisation = await ownersOrganisation(models, input.organisation);
      const counters: Array<[Limit, string]> = [
        [signInFailuresPerAccount, accountKeyOf(organisation, input.email)],
        [signInFailuresPerAddress, address],
      ];
      await refuseWhenLimited(counters, 'Too many failed sign-ins. Wait a while before trying again.');
      const user = await models.User.findOne({ where: { organisationId: organisation.id, email: input.email } });
      const matches = await verifyPassword(user?.passwordHash ?? (await UNKNOWN_ACCOUNT_HASH), input.password);
      if (!user || !matches) {
        await countFailure(counters);
        throw new HttpError('invalid_credentials', 'The e-mail address or the password is not right.');
      }
      await signInFailuresPerAccount.store.delete(accountKeyOf(organisation, input.email));
      const token = randomToken();
      const now = Date.now();
      const expiresAt = new Date(now + rules.sessionAbsoluteMs);
      // Sessions that can no longer be used go when their owner signs in again: the table stays as small as its users.
      await models.OwnerSession.destroy({ where: { userId: user.id, [Op.not]: live(now) } });
      await models.OwnerSession.create({
        tokenHash: sessionHash(token),
        userId: user.id,
        lastSeenAt: new Date(now),
        expiresAt,
      });
      return { token, expiresAt: expiresAt.toISOString() };
    },

    /** The owner behind a session token; 401 once the session has ended, idled out or aged out. */
    async ownerOf(token: string): Promise<Owner> {
      const now = Date.now();
      const session = await models.OwnerSession.findOne({
        where: { tokenHash: sessionHash(token), ...live(now) },
      });
      const user = session && (await models.User.findByPk(session.userId));
      const organisation = user && (await models.Organisation.findByPk(user.organisationId));
      if (!session || !user || !organisation) {
        throw new HttpError('unauthorized', 'You are not signed in, or your session has ended. Sign in again.');
      }
      if (now - session.lastSeenAt.getTime() > Math.min(TOUCH_EVERY_MS, rules.sessionIdleMs / 4))
        await session.update({ lastSeenAt: new Date(now) });
      return { user, organisation, sessionId: session.id };
    },

    /** Ends a session; an already ended or unknown one is left as it is. */
    async signOut(token: string): Promise<void> {
      await models.OwnerSession.update(
        { endedAt: new Date() },
        { where: { tokenHash: sessionHash(token), endedAt: null } },
      );
    },

    /**
     * Asks for a reset code. Every address gets the same answer at the same speed: the password-reset workflow looks
     * the account up itself, and mails a code only when there is one.
     */
    async requestPasswordReset(input: { organisation?: string; email: string }): Promise<void> {
      const { organisation, workflowId } = await resetWorkflow(input);
      await client.workflow.executeUpdateWithStart(requestResetUpdate, {
        startWorkflowOperation: flowStart<typeof passwordReset>(config.taskQueue, 'passwordReset', {
          workflowId,
          args: [{ organisation: organisation.slug, email: input.email, timings: config.timings }],
          organisation: organisation.slug,
          email: input.email,
          conflict: 'USE_EXISTING',
        }),
      });
    },

    /** Sets a new password with a reset code; every session of the owner ends. */
    async confirmPasswordReset(input: {
      organisation?: string;
      email: string;
      code: string;
      password: string;
    }): Promise<void> {
      const { organisation, workflowId } = await resetWorkflow(input);
      // Wrong codes are limited per code in the workflow; this bounds them per account across every code and run.
      const counters: Array<[Limit, string]> = [[resetFailuresPerAccount, accountKeyOf(organisation, input.email)]];
      await refuseWhenLimited(counters, 'Too many wrong reset codes for this address. Try again tomorrow.');
      const passwordHash = await hashPassword(input.password);
      try {
        await client.workflow.getHandle(workflowId).executeUpdate(confirmResetUpdate, {
          args: [{ codeHash: secrets.keyedHash('reset', input.code), passwordHash }],
        });
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) {
          throw new HttpError('code_expired', 'That code has expired or was never sent. Ask for a new one.');
        }
        const refusal = describeError(error)?.code;
        if (refusal === 'invalid_code' || refusal === 'too_many_attempts') await countFailure(counters);
        throw error;
      }
    },
  };
}

export type OwnerAccounts = ReturnType<typeof createOwnerAccounts>;
