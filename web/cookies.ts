import type { CookieOptions } from 'express';
import type { ServiceDeps } from '../services/context';

/**
 * The pages' cookies (registration, session, CSRF). Over https they are Secure, for the whole host, and named with the
 * `__Host-` prefix: the browser then takes them only from a secure page of this very host, so neither a plain-http page
 * nor a sibling subdomain can plant or overwrite one. Over http (the embedded default on localhost) they keep plain
 * names, scoped to the pages.
 */
export function pageCookieOptions(publicUrl: string): CookieOptions {
  const secure = publicUrl.startsWith('https:');
  return { httpOnly: true, sameSite: 'lax', secure, path: secure ? '/' : '/setup' };
}

/** A cookie's name under these options: `__Host-` prefixed when the browser will hold it to that prefix's rules. */
export function cookieName(base: string, options: CookieOptions): string {
  return options.secure && options.path === '/' && !options.domain ? `__Host-${base}` : base;
}

/**
 * The CSRF cookie's options. Both groups of pages set the same cookie (when a browser has none), so it lasts as long as
 * the longer of a session and a registration, whichever group a browser opens first.
 */
export function csrfCookieOptions(
  config: Pick<ServiceDeps['config'], 'publicUrl' | 'owners' | 'timings'>,
): CookieOptions {
  const { owners, timings } = config;
  return {
    ...pageCookieOptions(config.publicUrl),
    maxAge: Math.max(owners.sessionAbsoluteMs, timings.registrationTtlMs + timings.linkTtlMs),
  };
}
