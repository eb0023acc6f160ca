import pLimit from 'p-limit';
import { hashPassword, verifyPassword } from '../lib/secrets';
import { HttpError } from './errors';

/**
 * Argon2 runs on libuv's thread pool (four threads), which sqlite3 and the file system share: a flood of password
 * requests would stall every other request. Hashing gets two threads and a bounded queue; when the queue is full the
 * caller hears 503 with Retry-After at once instead of waiting behind a flood.
 */
const THREADS = 2;

export function createPasswordWork(maxQueued: number) {
  const threads = pLimit(THREADS);
  const queued = <T>(work: () => Promise<T>): Promise<T> => {
    if (threads.pendingCount >= maxQueued) {
      throw new HttpError('unavailable', 'The service is busy checking passwords; try again in a moment.', {
        retryAfterSeconds: 1,
      });
    }
    return threads(work);
  };
  return {
    hash: (password: string) => queued(() => hashPassword(password)),
    verify: (passwordHash: string, password: string) => queued(() => verifyPassword(passwordHash, password)),
  };
}

export type PasswordWork = ReturnType<typeof createPasswordWork>;
