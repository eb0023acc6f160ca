import type { RequestHandler } from 'express';
import { HttpError } from './errors';

/** Whether any text of a parsed query or body, a key or a value at any depth, holds a NUL character. */
function holdsNul(parsed: unknown): boolean {
  // A loop, not recursion: a 64 KiB JSON body can nest deeper than the call stack goes.
  const pending: unknown[] = [parsed];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string') {
      if (value.includes('\0')) return true;
    } else if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (key.includes('\0')) return true;
        pending.push(inner);
      }
    }
  }
  return false;
}

/**
 * Refuses a request whose path, query or parsed body holds a NUL character, for the JSON API and the pages' forms alike: no
 * field takes one, and past the schemas it would reach what cannot store or search for it (PostgreSQL's text, Temporal's
 * visibility queries), a fault where the caller deserves a 400.
 */
export const refuseNul: RequestHandler = (req, _res, next) => {
  next(
    // The path too: a route's parameter (an organisation's slug) would reach the database as it is.
    /%00/i.test(req.path) || holdsNul(req.query) || holdsNul(req.body)
      ? new HttpError('invalid_request', 'The request holds a NUL character (U+0000), which no field accepts.')
      : undefined,
  );
};
