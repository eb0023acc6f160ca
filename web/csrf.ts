import { timingSafeEqual } from 'node:crypto';
import type { CookieOptions, RequestHandler, Response } from 'express';
import { randomToken, type Secrets } from '../lib/secrets';
import { HttpError } from '../services/errors';
import { opaqueParam } from '../services/schemas';
import { cookieName } from './cookies';

/**
 * CSRF protection of every form: an HMAC synchronizer token without server state. Each browser gets a random id in an
 * HttpOnly, SameSite cookie; its forms carry the keyed hash of that id (APP_SECRET). Another site can make a browser
 * send the cookie but cannot read a page to learn the hash, so a POST without the right token is refused before it
 * does anything.
 */

const COOKIE = 'csrf-id';
export const CSRF_FIELD = '_csrf';

export function csrfProtection(secrets: Secrets, options: CookieOptions): RequestHandler {
  const tokenFor = (browserId: string) => secrets.keyedHash('csrf', browserId);
  const name = cookieName(COOKIE, options);
  return (req, res, next) => {
    const sent = opaqueParam.safeParse(req.cookies?.[name]);
    if (req.method === 'POST') {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const token = body[CSRF_FIELD];
      if (!sent.success || typeof token !== 'string' || !sameText(token, tokenFor(sent.data))) {
        next(
          new HttpError('forbidden', 'This form has expired or did not come from this site. Reload it and try again.'),
        );
        return;
      }
      delete body[CSRF_FIELD];
    }
    const browserId = sent.success ? sent.data : randomToken();
    if (!sent.success) res.cookie(name, browserId, options);
    res.locals.csrfToken = tokenFor(browserId);
    next();
  };
}

/** The token the current response's forms must carry. */
export const csrfToken = (res: Response): string => res.locals.csrfToken as string;

function sameText(a: string, b: string): boolean {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
}
