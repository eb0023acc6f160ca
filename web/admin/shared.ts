import type { CookieOptions, Request, RequestHandler, Response } from 'express';
import type { Organisation } from '../../db/models';
import type { AdminServices } from '../../services';
import type { SignedInAdmin } from '../../services/admin/admins';
import type { ServiceDeps } from '../../services/context';
import { describeError, HttpError } from '../../services/errors';
import type { SignedIn } from '../../services/owners/accounts';
import { opaqueParam } from '../../services/schemas';
import { cookieName, csrfCookieOptions } from '../cookies';
import { csrfToken } from '../csrf';
import { sendPage } from '../respond';
import type { Page, Site } from '../views/document';
import { adminFrame } from './layout.view';

/** Short news on the next page after a redirect, by a fixed key: no text travels in the address. */
const NOTICES = {
  ended: 'Your session has ended. Sign in again to continue.',
  'signed-out': 'You have signed out.',
  'timed-out': 'Your sign-in took too long. Start again.',
  'set-up': 'Your account is set up and you are signed in.',
};
type Notice = keyof typeof NOTICES;

/** The notice a page was sent to with (`?notice=<key>`), of the session's or of a section's own `notices`. */
export const noticeIn = (req: Request, notices: Readonly<Record<string, string>> = NOTICES): string | undefined =>
  typeof req.query.notice === 'string' && Object.hasOwn(notices, req.query.notice)
    ? notices[req.query.notice]
    : undefined;

export const signInOf = (notice?: Notice) => `/admin/sign-in${notice ? `?notice=${notice}` : ''}`;

/**
 * The admin pages' cookies: as the owner's (web/cookies.ts: HttpOnly, over https Secure and `__Host-` for the whole
 * host), but SameSite=Strict — no other site's link or form arrives signed in, and an admin follows no links from
 * mail into the console — and over http for /admin only.
 */
function adminCookieOptions(publicUrl: string): CookieOptions {
  const secure = publicUrl.startsWith('https:');
  return { httpOnly: true, sameSite: 'strict', secure, path: secure ? '/' : '/admin' };
}

/** The signed-in admin of a request that passed `requireAdmin`. */
export const adminIn = (res: Response): SignedInAdmin => res.locals.admin as SignedInAdmin;

/** The organisation of a request that passed `requireOrganisationAccess`. */
export const managedOrganisation = (res: Response): Organisation => res.locals.organisation as Organisation;

/**
 * What the admin pages share: the services, the cookies (the session; the browser's device token; the proven password
 * waiting for its code; the first supervisor's choices waiting for theirs), the site's frame, and the guards of the
 * signed-in pages.
 */
export function adminKit({ accounts: admins, setup }: AdminServices, { config }: ServiceDeps, site: Site) {
  const cookie = adminCookieOptions(config.publicUrl);
  // Over https the very cookie the owner's pages use (`__Host-csrf-id`, for the whole host); over http one for /admin.
  const csrfCookie = { ...csrfCookieOptions(config), path: cookie.path };
  const names = {
    session: cookieName('admin', cookie),
    firstFactor: cookieName('admin-first-factor', cookie),
    device: cookieName('admin-device', cookie),
    setup: cookieName('admin-setup', cookie),
  };
  const cookieIn = (req: Request, name: string) => {
    const value = (req.cookies as Record<string, unknown> | undefined)?.[name];
    return typeof value === 'string' ? value : undefined;
  };
  const opaqueCookieIn = (req: Request, name: string) => {
    const token = opaqueParam.safeParse(cookieIn(req, name));
    return token.success ? token.data : undefined;
  };
  const sessionIn = (req: Request) => opaqueCookieIn(req, names.session);
  const deviceTokenIn = (req: Request) => opaqueCookieIn(req, names.device);

  const sessionCookie = { ...cookie, maxAge: config.owners.sessionAbsoluteMs };
  // The browser's device token outlives sessions (sign-out keeps it): its next sign-in is counted apart from strangers'.
  const deviceCookie = { ...cookie, maxAge: config.owners.knownDeviceTtlMs };
  const keepSession = (res: Response, session: SignedIn) => {
    res.cookie(names.session, session.token, sessionCookie);
    res.cookie(names.device, session.deviceToken, deviceCookie);
  };
  const forgetSession = (res: Response) => res.clearCookie(names.session, cookie);

  const show = (res: Response, page: Page, status = 200) => sendPage(res, site, page, status);
  /** A page of a signed-in admin, in the console's frame. */
  const showSignedIn = (res: Response, page: Page, status?: number) =>
    show(res, adminFrame({ admin: adminIn(res), csrf: csrfToken(res) }, page), status);

  /**
   * Runs before every admin page: who is signed in (`res.locals.admin`). A session that has ended is forgotten, and
   * remembered for this request, so that sign-in can say why it is asked for.
   */
  const identify: RequestHandler = async (req, res, next) => {
    const token = sessionIn(req);
    if (token) {
      try {
        res.locals.admin = await admins.adminOf(token);
      } catch (error) {
        if (describeError(error)?.code !== 'unauthorized') throw error;
        forgetSession(res);
        res.locals.sessionEnded = true;
      }
    }
    next();
  };

  /** Sends someone not signed in to sign in; true when an admin is signed in. */
  const signedIn = (res: Response) => {
    if (res.locals.admin) return true;
    res.redirect(303, signInOf(res.locals.sessionEnded ? 'ended' : undefined));
    return false;
  };

  /** Only a signed-in admin (with `role`: only a supervisor) gets on; a manager gets the 403 page. */
  const requireAdmin =
    (role?: 'supervisor'): RequestHandler =>
    (_req, res, next) => {
      if (!signedIn(res)) return;
      if (role && adminIn(res).user.role !== role) {
        next(new HttpError('forbidden', 'Only a supervisor may open this page.'));
        return;
      }
      next();
    };

  /**
   * Only an admin who may manage the organisation named by the path parameter gets on: a supervisor any, a manager
   * their own (403 otherwise); its record is then `managedOrganisation(res)`.
   */
  const requireOrganisationAccess =
    (param = 'organisation'): RequestHandler =>
    async (req, res, next) => {
      if (!signedIn(res)) return;
      res.locals.organisation = await admins.organisationFor(adminIn(res), String(req.params[param]));
      next();
    };

  return {
    admins,
    setup,
    cookie,
    csrfCookie,
    names,
    cookieIn,
    sessionIn,
    deviceTokenIn,
    keepSession,
    forgetSession,
    show,
    showSignedIn,
    identify,
    requireAdmin,
    requireOrganisationAccess,
  };
}

export type AdminKit = ReturnType<typeof adminKit>;
