import type { CookieOptions, Request, Response } from 'express';
import { cookieName } from '../cookies';

/**
 * The registration a browser is in, one per organisation: the registration id and this browser's registration token,
 * kept in an HttpOnly cookie (scripts never see the token) named after the organisation, so registrations with
 * different organisations live side by side.
 */
export interface RegistrationSession {
  organisation: string;
  registrationId: string;
  token: string;
}

/** Both parts are URL-safe base64, which has no dot. */
const VALUE = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;

export function registrationSessions(options: CookieOptions) {
  const PREFIX = cookieName('registration-', options);
  const all = (req: Request): RegistrationSession[] =>
    Object.entries((req.cookies ?? {}) as Record<string, unknown>).flatMap(([name, value]) => {
      const parts = name.startsWith(PREFIX) && typeof value === 'string' ? VALUE.exec(value) : null;
      return parts
        ? [{ organisation: name.slice(PREFIX.length), registrationId: parts[1] as string, token: parts[2] as string }]
        : [];
    });

  return {
    of: (req: Request, organisation: string) => all(req).find((s) => s.organisation === organisation),
    /** The browser's session on a registration, whichever organisation it belongs to (for the e-mail's link). */
    withId: (req: Request, registrationId: string) => all(req).find((s) => s.registrationId === registrationId),
    keep(res: Response, { organisation, registrationId, token }: RegistrationSession) {
      res.cookie(`${PREFIX}${organisation}`, `${registrationId}.${token}`, options);
    },
    forget(res: Response, organisation: string) {
      const { maxAge: _, ...rest } = options;
      res.clearCookie(`${PREFIX}${organisation}`, rest);
    },
  };
}
