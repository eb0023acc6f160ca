import { QueryNotRegisteredError, type WorkflowHandle } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { Op } from 'sequelize';
import type { Organisation, User } from '../../db/models';
import { ownersOrganisation } from '../../db/policy';
import { passwordResetWorkflowId } from '../../domain/ids';
import { hashPassword, randomToken } from '../../lib/secrets';
import { confirmResetUpdate, requestResetUpdate, resetRefusalQuery } from '../../workflows/password-reset/messages';
import type { passwordReset } from '../../workflows/password-reset/workflow';
import { type AttemptLimits, isWrongCode } from '../attempts';
import type { ServiceDeps } from '../context';
import { HttpError } from '../errors';
import { addressFlowStart } from '../flow-start';
import type { PasswordWork } from '../password-work';
import { passwordResetStrength } from '../schemas';
import { createKnownDevices, type DeviceToken } from './known-devices';

/** A signed-in device owner, as the routes and pages see them. */
export interface Owner {
  user: User;
  organisation: Organisation;
  sessionId: number;
}

/** A new session, and the device token the client signs in with next time (see services/owners/known-devices.ts). */
export interface SignedIn extends DeviceToken {
  token: string;
  /** When the session ends at the latest; idleness can end it sooner. */
  expiresAt: string;
}

/** Compared against when the address has no account, so an unknown address costs as long as a wrong password. */
const UNKNOWN_ACCOUNT_HASH = hashPassword(randomToken());

/** Sessions are touched at most this often: a page full of requests should not be a page full of writes. */
const TOUCH_EVERY_MS = 60_000;

/**
 * The rules of returning device owners in one place: sign-in with its limits on failed attempts per account
 * and per client address, sessions with idle and absolute limits, sign-out, and password resets. The JSON API
 * (api/me.ts) and the web pages both go through here; routes stay thin.
 */
export function createOwnerAccounts(
  { client, models, secrets, config }: ServiceDeps,
  { attempts, passwords }: { attempts: AttemptLimits; passwords: PasswordWork },
) {
  const rules = config.owners;
  const { limits } = config;
  const signInPerAccountAndAddress = attempts.limiter('account-address', limits.signInPerAccountAndAddress);
  const signInPerAddress = attempts.limiter('address', limits.signInPerAddress);
  const signInPerAccount = attempts.limiter('account', limits.signInPerAccount);
  const resetPerAccountAndAddress = attempts.limiter('reset-address', limits.resetPerAccountAndAddress);
  const resetPerAccount = attempts.limiter('reset', limits.resetPerAccount);
  const knownDevices = createKnownDevices({ models, secrets, config }, attempts, 'owner');
  const sessionHash = (token: string) => secrets.keyedHash('owner-session', token);
  /** A session that can still be used: not ended, not past its absolute limit, not idle past the idle limit. */
  const live = (now: number) => ({
    endedAt: null,
    expiresAt: { [Op.gt]: new Date(now) },
    lastSeenAt: { [Op.gt]: new Date(now - rules.sessionIdleMs) },
  });
  const accountKeyOf = (organisation: Organisation, email: string) =>
    secrets.keyedHash('sign-in', `${organisation.id}\0${email}`);

  const resetWorkflow = async (input: { organisation?: string; email: string }) => {
    const organisation = await ownersOrganisation(models, input.organisation);
    return { organisation, workflowId: passwordResetWorkflowId(organisation.slug, input.email) };
  };

  return {
    /**
     * Signs an owner in. An unknown address and a wrong password get the same answer after the same work; failures
     * count against the device token the client presented, when it is one this account was given, and otherwise
     * against the account and the client address.
     */
    async signIn(
      input: { organisation?: string; email: string; password: string; deviceToken?: string },
      address: string,
    ): Promise<SignedIn> {
      const organisation = await ownersOrganisation(models, input.organisation);
      const account = accountKeyOf(organisation, input.email);
      const found = await models.User.findOne({ where: { organisationId: organisation.id, email: input.email } });
      const device = await knownDevices.recognise(input.deviceToken, found?.id);
      const user = await attempts.attempt(
        knownDevices.counters(device, [
          [signInPerAccountAndAddress, `${account}|${address}`],
          [signInPerAddress, address],
          [signInPerAccount, account],
        ]),
        'Too many failed sign-ins. Wait a while before trying again.',
        async () => {
          const matches = await passwords.verify(found?.passwordHash ?? (await UNKNOWN_ACCOUNT_HASH), input.password);
          if (!found || !matches) {
            throw new HttpError('invalid_credentials', 'The e-mail address or the password is not right.');
          }
          return found;
        },
        (error) => error instanceof HttpError && error.code === 'invalid_credentials',
      );
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
      return { token, expiresAt: expiresAt.toISOString(), ...(await knownDevices.issue(user.id, device)) };
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
        startWorkflowOperation: addressFlowStart<typeof passwordReset>(config.temporal.taskQueue, 'passwordReset', {
          workflowId,
          organisation: organisation.slug,
          email: input.email,
          timings: config.timings,
        }),
      });
    },

    /** Sets a new password with a reset code; every session of the owner ends. */
    async confirmPasswordReset(
      input: { organisation?: string; email: string; code: string; password: string },
      address: string,
    ): Promise<void> {
      const { organisation, workflowId } = await resetWorkflow(input);
      const account = accountKeyOf(organisation, input.email);
      // Wrong codes are limited per code in the workflow; these bound them across every code and run of the account.
      await attempts.attempt(
        [
          [resetPerAccountAndAddress, `${account}|${address}`],
          [resetPerAccount, account],
        ],
        'Too many wrong reset codes for this address. Wait a while before trying again.',
        async () => {
          const handle = client.workflow.getHandle(workflowId);
          // As the profile step: a confirmation that cannot succeed costs no zxcvbn estimate and no Argon2 hash.
          await refuseUnlessConfirmable(handle);
          passwordResetStrength.parse(input);
          const passwordHash = await passwords.hash(input.password);
          await handle
            .executeUpdate(confirmResetUpdate, {
              args: [{ codeHash: secrets.keyedHash('reset', input.code), passwordHash }],
            })
            .catch((error: unknown) => {
              throw error instanceof WorkflowNotFoundError ? noResetCode() : error;
            });
        },
        isWrongCode,
      );
    },
  };
}

const noResetCode = () => new HttpError('code_expired', 'That code has expired or was never sent. Ask for a new one.');

/**
 * Refuses, before any costly work, a confirmation the reset's workflow would refuse whatever the code: no open run for
 * the address (it never asked, or its codes ran out), no code waiting, or the password already changed. A closed run is
 * told by its description, so it is not replayed to answer a query. A wrong code, or a code of an address without an
 * account, is known only to the workflow: it costs a hash as it always did, bounded by the code's attempts and the reset
 * limits, so the time of the answer says nothing about the account.
 */
async function refuseUnlessConfirmable(handle: WorkflowHandle): Promise<void> {
  const running = await handle.describe().then(
    ({ status }) => status.name === 'RUNNING',
    (error: unknown) => {
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    },
  );
  if (!running) throw noResetCode();
  // A worker of an older release has no such query: the update itself then decides, as before.
  const refusal = await handle.query(resetRefusalQuery).catch((error: unknown) => {
    if (error instanceof QueryNotRegisteredError) return null;
    throw error;
  });
  if (refusal) throw new HttpError(refusal.code, refusal.message);
}

export type OwnerAccounts = ReturnType<typeof createOwnerAccounts>;
