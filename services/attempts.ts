import type { Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRes,
  RateLimiterSQLite,
} from 'rate-limiter-flexible';
import type { RateLimitStore } from '../db';
import type { Limit } from '../lib/config';
import { describeError, HttpError } from './errors';

/**
 * Limits on guessing a secret (a password, a verification or reset code), kept in the database so every API process
 * shares them. An attempt is counted before the secret is checked, and given back when it was right: the count is an
 * atomic upsert, so however many guesses arrive at once, no more than the limit are ever checked.
 */

/** One counter an attempt is taken from: a limit and the key it counts under (an account, an address, both). */
export type Counter = [RateLimiterAbstract, string];

/** The client as the limits see it: its address (after TRUST_PROXY), an IPv6 client by its /64, as one host is. */
export function clientAddress(req: Request): string {
  return ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? 'unknown', 64);
}

export function createAttemptLimits(store: RateLimitStore) {
  /** A limit's counter table: one for all, told apart by the prefix of their keys. */
  const limiter = (keyPrefix: string, { points, windowMs }: Limit): RateLimiterAbstract => {
    const options = {
      tableName: 'sign_in_limits',
      tableCreated: true,
      // The store sweeps expired counters itself (db/index.ts): one timer, stopped on close, failures contained.
      clearExpiredByTimeout: false,
      keyPrefix,
      points,
      duration: Math.ceil(windowMs / 1000),
    };
    const { serially: _, ...client } = store;
    return client.dialect === 'postgres'
      ? new RateLimiterPostgres({ ...options, ...client })
      : new RateLimiterSQLite({ ...options, ...client });
  };

  /**
   * Takes one attempt from each counter, most specific first. Past any limit: 429 with the wait, and what was taken
   * from the counters before it is given back — an address that is locked out must not wear down the account's own
   * allowance, which would lock its owner out everywhere else.
   */
  const take = async (counters: Counter[], message: string) => {
    const taken: Counter[] = [];
    for (const counter of counters) {
      const [limit, key] = counter;
      try {
        await store.serially(() => limit.consume(key));
        taken.push(counter);
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        await giveBack(taken);
        throw new HttpError('too_many_attempts', message, {
          retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)),
        });
      }
    }
    return {
      /** The secret was right, or never checked: the attempt does not count. */
      giveBack: () => giveBack(taken),
    };
  };

  const giveBack = async (counters: Counter[]) => {
    await Promise.all(counters.map(([limit, key]) => store.serially(() => limit.reward(key))));
  };

  /**
   * Runs a check of a secret as one counted attempt: `counts(error)` says whether a refusal was a wrong guess (it
   * stays counted); success and every other refusal give the attempt back.
   */
  const attempt = async <T>(
    counters: Counter[],
    message: string,
    check: () => Promise<T>,
    counts: (error: unknown) => boolean,
  ): Promise<T> => {
    const taken = await take(counters, message);
    try {
      const result = await check();
      await taken.giveBack();
      return result;
    } catch (error) {
      if (!counts(error)) await taken.giveBack();
      throw error;
    }
  };

  return { limiter, take, attempt };
}

export type AttemptLimits = ReturnType<typeof createAttemptLimits>;

const RELAYED = 'relayedAnswer';
/** Marks an answer as an engine's own, passed on as the engine gave it: not a refusal of ours (`refusalLimiter`). */
export const markRelayed = (res: Response): void => {
  res.locals[RELAYED] = true;
};

/**
 * Limits the refusals one client address gets per minute on the machine routes (a 4xx: a bad signature, an unknown
 * link or enrolment, a replay), in this process's memory. A refusal is counted when it is sent, never a call in flight,
 * so a device or MDM that speaks correctly is not slowed however many calls it makes at once; one that probes waits
 * out the minute of its first refusal, whatever it sends. A 5xx is ours (the caller is asked to try again), and a 429
 * is this limit's own: neither counts. Nor does an engine's answer we pass on as it gave it (`markRelayed`): NanoMDM
 * refusing an expired identity or a `UserAuthenticate` is between it and the device, and counting it would let
 * the devices behind one address lock each other out.
 */
export function refusalLimiter(perMinute: number): RequestHandler {
  const refusals = new RateLimiterMemory({ points: perMinute, duration: 60 });
  return async (req, res, next) => {
    const key = clientAddress(req);
    const seen = await refusals.get(key);
    if (seen && seen.consumedPoints >= perMinute) {
      next(
        new HttpError('too_many_attempts', 'Too many refused calls from this address; try again in a minute.', {
          retryAfterSeconds: Math.max(1, Math.ceil(seen.msBeforeNext / 1000)),
        }),
      );
      return;
    }
    res.on('finish', () => {
      if (res.locals[RELAYED] === true) return;
      if (res.statusCode >= 400 && res.statusCode < 500 && res.statusCode !== 429) void refusals.penalty(key, 1);
    });
    next();
  };
}

/** A refusal that was a wrong guess at a code (verification or reset): the attempt stays counted. */
export const isWrongCode = (error: unknown) =>
  ['invalid_code', 'too_many_attempts'].includes(describeError(error)?.code ?? '');

/**
 * Limits how many requests of a kind one client address makes per minute: registrations, password-reset requests,
 * SCEP requests (each certificate request costs a check in a new process). Codes and resends are limited in the
 * workflows.
 */
export function perAddressLimiter(perMinute: number, what = 'registrations') {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    keyGenerator: clientAddress,
    legacyHeaders: false,
    handler: (_req, _res, next) =>
      next(
        new HttpError('too_many_attempts', `Too many ${what} from this address; try again in a minute.`, {
          retryAfterSeconds: 60,
        }),
      ),
  });
}
