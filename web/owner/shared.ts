import type { Request, RequestHandler, Response } from 'express';
import type { ZodType } from 'zod';
import type { Organisation } from '../../db/models';
import { ownersOrganisation } from '../../db/policy';
import type { ServiceDeps } from '../../services/context';
import { describeError } from '../../services/errors';
import type { Owner, OwnerAccounts, SignedIn } from '../../services/owners/accounts';
import type { OwnerDevices } from '../../services/owners/devices';
import { cookieName, pageCookieOptions } from '../cookies';
import { csrfToken } from '../csrf';
import { answerForm, type FormAnswer, organisationIn } from '../page-kit';
import { sendPage } from '../respond';
import type { Page, Site } from '../views/document';
import type { FormState } from '../views/form';

export interface OwnerServices {
  accounts: OwnerAccounts;
  devices: OwnerDevices;
}

/** Short news on the next page after a redirect, by a fixed key: no text travels in the address. */
const NOTICES = {
  ended: 'Your session has ended. Sign in again to continue.',
  'signed-out': 'You have signed out.',
  'password-changed': 'Your password has been changed. Sign in with your new password.',
  sent: 'If there is an account for this address, we have sent a code to it. It can take a minute to arrive.',
};
type Notice = keyof typeof NOTICES;

export const noticeIn = (req: Request): string | undefined =>
  typeof req.query.notice === 'string' && Object.hasOwn(NOTICES, req.query.notice)
    ? NOTICES[req.query.notice as Notice]
    : undefined;

export const baseOf = (slug: string) => `/setup/${slug}`;
export const devicesOf = (slug: string) => `${baseOf(slug)}/devices`;
export const signInOf = (slug: string, notice?: Notice) =>
  `${baseOf(slug)}/sign-in${notice ? `?notice=${notice}` : ''}`;

/** What the owner's pages share: the services, the session cookie of each organisation, and the site's frame. */
export function ownerKit({ accounts, devices }: OwnerServices, deps: ServiceDeps, site: Site) {
  const { config } = deps;
  const cookie = pageCookieOptions(config.publicUrl);
  // One cookie per organisation, as registrations have, so sessions with different organisations live side by side.
  const sessionPrefix = cookieName('owner-', cookie);
  const sessionCookie = { ...cookie, maxAge: config.owners.sessionAbsoluteMs };
  // The device token of each organisation's account, too: it outlives sessions (sign-out keeps it) for the next sign-in.
  // Not `owner-device-…`: that is the session cookie of an organisation whose slug begins with `device-`.
  const devicePrefix = cookieName('known-device-', cookie);
  const deviceCookie = { ...cookie, maxAge: config.owners.knownDeviceTtlMs };

  const show = (res: Response, page: Page, status = 200) => sendPage(res, site, page, status);

  const cookieIn = (req: Request, name: string) => {
    const value = (req.cookies as Record<string, unknown> | undefined)?.[name];
    return typeof value === 'string' && /^[A-Za-z0-9_-]{16,512}$/.test(value) ? value : undefined;
  };
  const tokenIn = (req: Request, slug: string) => cookieIn(req, `${sessionPrefix}${slug}`);
  const deviceTokenIn = (req: Request, slug: string) => cookieIn(req, `${devicePrefix}${slug}`);
  const keepSession = (res: Response, slug: string, signedIn: SignedIn) => {
    res.cookie(`${sessionPrefix}${slug}`, signedIn.token, sessionCookie);
    res.cookie(`${devicePrefix}${slug}`, signedIn.deviceToken, deviceCookie);
  };
  const forgetSession = (res: Response, slug: string) => res.clearCookie(`${sessionPrefix}${slug}`, cookie);

  /** The owner signed in with this organisation; undefined when nobody is, or the session ended (with a redirect). */
  const signedIn = async (req: Request, res: Response, slug: string): Promise<Owner | undefined> => {
    const token = tokenIn(req, slug);
    if (!token) {
      res.redirect(303, signInOf(slug));
      return undefined;
    }
    try {
      const owner = await accounts.ownerOf(token);
      if (owner.organisation.slug === slug) return owner;
    } catch (error) {
      if (describeError(error)?.code !== 'unauthorized') throw error;
    }
    forgetSession(res, slug);
    res.redirect(303, signInOf(slug, 'ended'));
    return undefined;
  };

  /** A page only a signed-in owner sees; anyone else is sent to sign in. */
  const signedInPage =
    (handle: (req: Request, res: Response, owner: Owner) => unknown): RequestHandler =>
    async (req, res) => {
      const owner = await signedIn(req, res, organisationIn(req));
      if (owner) await handle(req, res, owner);
    };

  const answer = <T>(req: Request, res: Response, form: FormAnswer<T>) => answerForm(req, res, form);

  /** A form on the organisation's page for someone not signed in: the page again on a refusal, else `run`'s page. */
  const signedOutForm =
    <T>(
      page: (input: { organisation: Organisation; csrf: string; state: FormState }) => Page,
      schema: ZodType<T>,
      run: (input: T, slug: string, req: Request, res: Response) => Promise<string>,
      fields?: FormAnswer<T>['fields'],
    ): RequestHandler =>
    async (req, res) => {
      const slug = organisationIn(req);
      const organisation = await ownersOrganisation(deps.models, slug);
      await answer(req, res, {
        schema,
        fields,
        again: (state, status) => show(res, page({ organisation, csrf: csrfToken(res), state }), status),
        run: (input) => run(input, slug, req, res),
      });
    };

  return {
    accounts,
    devices,
    deps,
    cookie,
    show,
    tokenIn,
    deviceTokenIn,
    keepSession,
    forgetSession,
    signedInPage,
    answer,
    signedOutForm,
  };
}

export type OwnerKit = ReturnType<typeof ownerKit>;
