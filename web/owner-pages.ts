import express, { type Request, type Response, Router } from 'express';
import { ownersOrganisation } from '../db/policy';
import { clientAddress } from '../services/attempts';
import type { ServiceDeps } from '../services/context';
import { describeError, type ErrorAnswer, HttpError } from '../services/errors';
import type { OwnedDevice, OwnerDevices } from '../services/owner-devices';
import type { Owner, OwnerAccounts } from '../services/owners';
import {
  deviceForm,
  deviceIdParam,
  organisationForm,
  passwordResetConfirmForm,
  passwordResetForm,
  phoneForm,
  signInForm,
} from '../services/schemas';
import { cookieName, pageCookieOptions } from './cookies';
import { csrfToken } from './csrf';
import { html } from './html';
import { formParsing, organisationIn, pageLimit } from './page-kit';
import { formRefusal, problemPageOf, refusalMessage, UNEXPECTED } from './problems';
import { qrCode } from './qr';
import { sendPage } from './respond';
import { devicePage } from './templates/device';
import {
  cannotAddPage,
  deviceStatusPage,
  devicesPage,
  RELINK_PHONE,
  relinkPage,
  removePage,
} from './templates/devices';
import type { Page, Site } from './templates/document';
import { blankForm, FORM_ERROR, type FormState, refused, refusedWith } from './templates/form';
import { forgotPasswordPage, resetPasswordPage, signInPage } from './templates/owner';
import { problemPage } from './templates/problem';
import { provisionPage } from './templates/provision';

/** The session token of a signed-in owner, one cookie per organisation (as registrations have). */
const SESSION_PREFIX = 'owner-';
/** The address a reset code was asked for, to fill in on the page the code is entered on. */
const RESET_PREFIX = 'reset-email-';
const RESET_COOKIE_MS = 30 * 60_000;

/** The pages of this module: their forms get parsed bodies and CSRF checks here, the others in setup-pages. */
const OWNER_PATHS = [
  '/:organisation/sign-in',
  '/:organisation/sign-out',
  '/:organisation/devices',
  '/:organisation/forgot-password',
  '/:organisation/reset-password',
];

/** Short news on the next page after a redirect, by a fixed key: no text travels in the address. */
const NOTICES: Record<string, string> = {
  ended: 'Your session has ended. Sign in again to continue.',
  'signed-out': 'You have signed out.',
  'password-changed': 'Your password has been changed. Sign in with your new password.',
  sent: 'If there is an account for this address, we have sent a code to it. It can take a minute to arrive.',
};
const noticeIn = (req: Request) =>
  typeof req.query.notice === 'string' && Object.hasOwn(NOTICES, req.query.notice)
    ? NOTICES[req.query.notice]
    : undefined;

const ADDING_OFF = 'Adding devices is switched off at the moment. Your devices stay as they are.';
/** What My devices and the add page say at the organisation's limit of devices that are not removed; else nothing. */
const limitReached = ({ organisation }: Owner, list: OwnedDevice[]) => {
  const kept = list.filter((device) => device.state !== 'removed').length;
  if (kept < organisation.maxDevicesPerOwner) return undefined;
  return `You have ${kept} ${kept === 1 ? 'device' : 'devices'}, the most ${organisation.name} allows. Remove one to add another.`;
};
const ADD_FIELDS: Partial<Record<string, string>> = {
  platform_not_available: 'platform',
  phone_required: 'phone',
  invalid_phone: 'phone',
};
const ADD_PHONE = {
  ...RELINK_PHONE,
  hint: 'Only for Android: we send its link by SMS, and keep the number for next time. In international format, for example +447700900123.',
  optional: true,
};

/**
 * A returning device owner's pages: sign-in, My devices, adding a device, a device's
 * link and QR code, removing a device, a new link for an expired one, sign-out and the forgotten password. The rules
 * are in api/owners.ts and api/owner-devices.ts; these pages are forms over them, POST/redirect/GET as in setup-pages.
 */
export function ownerPages(
  { accounts, devices }: { accounts: OwnerAccounts; devices: OwnerDevices },
  { config, models, secrets, logger }: ServiceDeps,
  site: Site,
): Router {
  const cookie = pageCookieOptions(config.publicUrl);
  const sessionPrefix = cookieName(SESSION_PREFIX, cookie);
  const resetPrefix = cookieName(RESET_PREFIX, cookie);
  const sessionCookie = { ...cookie, maxAge: config.owners.sessionAbsoluteMs };
  const csrfCookie = {
    ...cookie,
    maxAge: Math.max(config.owners.sessionAbsoluteMs, config.timings.registrationTtlMs + config.timings.linkTtlMs),
  };
  const limit = pageLimit(config.registrationsPerMinute, 'password resets');
  const show = (res: Response, page: Page, status = 200) => sendPage(res, site, page, status);

  const router = Router();
  router.use(OWNER_PATHS, ...formParsing(secrets, csrfCookie));

  const baseOf = (slug: string) => `/setup/${slug}`;
  const devicesOf = (slug: string) => `${baseOf(slug)}/devices`;
  const signInOf = (slug: string, notice?: keyof typeof NOTICES) =>
    `${baseOf(slug)}/sign-in${notice ? `?notice=${notice}` : ''}`;
  const deviceIdIn = (req: Request) => {
    const id = deviceIdParam.safeParse(req.params.id);
    if (!id.success) throw new HttpError('device_not_found', 'You have no such device.');
    return id.data;
  };

  const tokenIn = (req: Request, slug: string) => {
    const value = (req.cookies as Record<string, unknown> | undefined)?.[`${sessionPrefix}${slug}`];
    return typeof value === 'string' && /^[A-Za-z0-9_-]{16,512}$/.test(value) ? value : undefined;
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

  /** A refusal to show on a form: its answer, with Retry-After when waiting helps. */
  const refusalOf = (res: Response, error: unknown): ErrorAnswer => {
    const answer = formRefusal(error);
    if (answer.retryAfterSeconds !== undefined) res.set('Retry-After', String(answer.retryAfterSeconds));
    return answer;
  };

  // Sign-in, sign-out

  router.get('/:organisation/sign-in', async (req, res) => {
    const slug = organisationIn(req);
    const organisation = await ownersOrganisation(models, slug);
    const token = tokenIn(req, slug);
    if (token) {
      const owner = await accounts.ownerOf(token).catch(() => undefined);
      if (owner?.organisation.slug === slug) return res.redirect(303, devicesOf(slug));
    }
    show(res, signInPage({ organisation, csrf: csrfToken(res), notice: noticeIn(req) }));
  });

  router.post('/:organisation/sign-in', async (req, res) => {
    const slug = organisationIn(req);
    const organisation = await ownersOrganisation(models, slug);
    const again = (state: FormState, status: number) =>
      show(res, signInPage({ organisation, csrf: csrfToken(res), state }), status);
    const input = signInForm.safeParse(req.body ?? {});
    if (!input.success) return again(refused(req.body, input.error), 400);
    try {
      const { token } = await accounts.signIn({ organisation: slug, ...input.data }, clientAddress(req));
      res.cookie(`${sessionPrefix}${slug}`, token, sessionCookie);
      res.redirect(303, devicesOf(slug));
    } catch (error) {
      const answer = refusalOf(res, error);
      again(refusedWith(req.body, FORM_ERROR, refusalMessage(answer)), answer.status);
    }
  });

  router.post('/:organisation/sign-out', async (req, res) => {
    const slug = organisationIn(req);
    const token = tokenIn(req, slug);
    if (token) await accounts.signOut(token);
    forgetSession(res, slug);
    res.redirect(303, signInOf(slug, 'signed-out'));
  });

  // My devices

  const devicesView = async (req: Request, res: Response, owner: Owner, state?: FormState) => {
    const [list, platforms] = await Promise.all([devices.list(owner), devices.platforms(owner)]);
    const { organisation } = owner;
    const removed = typeof req.query.removed === 'string' && list.find((device) => device.id === req.query.removed);
    return devicesPage({
      organisation,
      email: owner.user.email,
      devices: list,
      csrf: csrfToken(res),
      cannotAdd: platforms.length === 0 ? ADDING_OFF : limitReached(owner, list),
      notice: removed ? `${removed.name} has been removed.` : noticeIn(req),
      state,
    });
  };

  router.get('/:organisation/devices', async (req, res) => {
    const owner = await signedIn(req, res, organisationIn(req));
    if (owner) show(res, await devicesView(req, res, owner));
  });

  const showAdd = async (res: Response, owner: Owner, state: FormState = blankForm, status = 200) => {
    const slug = owner.organisation.slug;
    const platforms = await devices.platforms(owner);
    if (platforms.length === 0) {
      return show(
        res,
        cannotAddPage({ organisation: slug, title: 'You cannot add a device now', message: ADDING_OFF }),
      );
    }
    const page = devicePage({
      organisation: slug,
      platforms,
      csrf: csrfToken(res),
      state,
      action: `${devicesOf(slug)}/new`,
      phone: owner.user.phone ? false : ADD_PHONE,
    });
    page.title = 'Add a device';
    show(res, { ...page, body: backToDevices(page.body, slug) }, status);
  };

  router.get('/:organisation/devices/new', async (req, res) => {
    const owner = await signedIn(req, res, organisationIn(req));
    if (!owner) return;
    const atLimit = limitReached(owner, await devices.list(owner));
    if (atLimit) {
      return show(
        res,
        cannotAddPage({
          organisation: owner.organisation.slug,
          title: 'You have the most devices allowed',
          message: atLimit,
        }),
      );
    }
    await showAdd(res, owner);
  });

  router.post('/:organisation/devices/new', async (req, res) => {
    const slug = organisationIn(req);
    const owner = await signedIn(req, res, slug);
    if (!owner) return;
    const input = deviceForm.safeParse(req.body ?? {});
    if (!input.success) return showAdd(res, owner, refused(req.body, input.error), 400);
    try {
      const link = await devices.add(owner, input.data);
      res.redirect(303, `${devicesOf(slug)}/${link.id}`);
    } catch (error) {
      const code = describeError(error)?.code;
      if (code === 'organisation_disabled' || code === 'self_service_disabled') {
        return show(
          res,
          cannotAddPage({ organisation: slug, title: 'You cannot add a device now', message: ADDING_OFF }),
          403,
        );
      }
      const answer = refusalOf(res, error);
      await showAdd(
        res,
        owner,
        refusedWith(req.body, ADD_FIELDS[answer.code] ?? FORM_ERROR, refusalMessage(answer)),
        answer.status,
      );
    }
  });

  // One device: its link and QR code, a new link, removal

  router.get('/:organisation/devices/:id', async (req, res) => {
    const slug = organisationIn(req);
    const owner = await signedIn(req, res, slug);
    if (!owner) return;
    const id = deviceIdIn(req);
    const [device, link] = await Promise.all([devices.get(owner, id), devices.currentLink(owner, id)]);
    if (!link) return show(res, deviceStatusPage({ organisation: slug, device, csrf: csrfToken(res) }));
    const page = provisionPage({
      organisation: slug,
      link,
      qrCode: await qrCode(link.provisioningUrl),
      statusHref: devicesOf(slug),
    });
    show(res, { ...page, body: backToDevices(page.body, slug) });
  });

  router.get('/:organisation/devices/:id/link', (req, res) => {
    res.redirect(303, `${devicesOf(organisationIn(req))}/${deviceIdIn(req)}`);
  });

  router.post('/:organisation/devices/:id/link', async (req, res) => {
    const slug = organisationIn(req);
    const owner = await signedIn(req, res, slug);
    if (!owner) return;
    const id = deviceIdIn(req);
    const relink = async (state: FormState, status: number) =>
      show(
        res,
        relinkPage({ organisation: slug, device: await devices.get(owner, id), csrf: csrfToken(res), state }),
        status,
      );
    const input = phoneForm.safeParse(req.body ?? {});
    if (!input.success) return relink(refused(req.body, input.error), 400);
    try {
      await devices.newLink(owner, id, input.data);
      res.redirect(303, `${devicesOf(slug)}/${id}`);
    } catch (error) {
      const answer = refusalOf(res, error);
      // An Android device whose account has no number: the number is asked for, not refused.
      if (answer.code === 'phone_required' && !input.data.phone) return relink(blankForm, 200);
      if (answer.code === 'phone_required' || answer.code === 'invalid_phone') {
        return relink(refusedWith(req.body, 'phone', refusalMessage(answer)), answer.status);
      }
      show(res, await devicesView(req, res, owner, refusedWith({}, FORM_ERROR, refusalMessage(answer))), answer.status);
    }
  });

  router.get('/:organisation/devices/:id/remove', async (req, res) => {
    const slug = organisationIn(req);
    const owner = await signedIn(req, res, slug);
    if (!owner) return;
    const device = await devices.get(owner, deviceIdIn(req));
    show(res, removePage({ organisation: slug, device, csrf: csrfToken(res) }));
  });

  router.post('/:organisation/devices/:id/remove', async (req, res) => {
    const slug = organisationIn(req);
    const owner = await signedIn(req, res, slug);
    if (!owner) return;
    const id = deviceIdIn(req);
    await devices.remove(owner, id);
    res.redirect(303, `${devicesOf(slug)}?removed=${id}`);
  });

  // Forgotten password

  router.get('/:organisation/forgot-password', async (req, res) => {
    const organisation = await ownersOrganisation(models, organisationIn(req));
    show(res, forgotPasswordPage({ organisation, csrf: csrfToken(res) }));
  });

  router.post('/:organisation/forgot-password', async (req, res) => {
    const slug = organisationIn(req);
    const organisation = await ownersOrganisation(models, slug);
    const input = passwordResetForm.safeParse(req.body ?? {});
    if (!input.success) {
      return show(
        res,
        forgotPasswordPage({ organisation, csrf: csrfToken(res), state: refused(req.body, input.error) }),
        400,
      );
    }
    try {
      await limit(req, res);
      await accounts.requestPasswordReset({ organisation: slug, email: input.data.email });
    } catch (error) {
      const answer = refusalOf(res, error);
      const state = refusedWith(req.body, FORM_ERROR, refusalMessage(answer));
      return show(res, forgotPasswordPage({ organisation, csrf: csrfToken(res), state }), answer.status);
    }
    res.cookie(`${resetPrefix}${slug}`, input.data.email, { ...cookie, maxAge: RESET_COOKIE_MS });
    res.redirect(303, `${baseOf(slug)}/reset-password?notice=sent`);
  });

  router.get('/:organisation/reset-password', async (req, res) => {
    const slug = organisationIn(req);
    const organisation = await ownersOrganisation(models, slug);
    const email = (req.cookies as Record<string, unknown>)[`${resetPrefix}${slug}`];
    const state = typeof email === 'string' ? { values: { email }, errors: {} } : blankForm;
    show(res, resetPasswordPage({ organisation, csrf: csrfToken(res), state, notice: noticeIn(req) }));
  });

  router.post('/:organisation/reset-password', async (req, res) => {
    const slug = organisationIn(req);
    const organisation = await ownersOrganisation(models, slug);
    const again = (state: FormState, status: number) =>
      show(res, resetPasswordPage({ organisation, csrf: csrfToken(res), state }), status);
    const input = passwordResetConfirmForm.safeParse(req.body ?? {});
    if (!input.success) return again(refused(req.body, input.error), 400);
    try {
      await limit(req, res);
      await accounts.confirmPasswordReset({ organisation: slug, ...input.data }, clientAddress(req));
    } catch (error) {
      const answer = refusalOf(res, error);
      const field = ['invalid_code', 'code_expired', 'too_many_attempts'].includes(answer.code) ? 'code' : FORM_ERROR;
      return again(refusedWith(req.body, field, refusalMessage(answer)), answer.status);
    }
    forgetSession(res, slug);
    res.clearCookie(`${resetPrefix}${slug}`, cookie);
    res.redirect(303, signInOf(slug, 'password-changed'));
  });

  router.use((error: unknown, req: Request, res: Response, _next: express.NextFunction) => {
    const answer = describeError(error) ?? UNEXPECTED;
    const slug = organisationForm.shape.organisation.safeParse(
      req.params.organisation ?? /^\/([a-z0-9-]+)/.exec(req.path)?.[1],
    );
    const organisation = slug.success ? slug.data : undefined;
    if (answer.code === 'unauthorized' && organisation) return res.redirect(303, signInOf(organisation, 'ended'));
    if (answer === UNEXPECTED) logger.error({ err: error, method: req.method, path: req.path }, 'unexpected error');
    if (answer.code === 'device_not_found' && organisation) {
      return show(
        res,
        problemPage({
          title: 'Device not found',
          message: answer.message,
          next: { href: devicesOf(organisation), text: 'Back to My devices' },
        }),
        404,
      );
    }
    show(res, problemPageOf(answer, organisation), answer.status);
  });
  return router;
}

/** A signed-in page's way back to the list. */
const backToDevices = (body: Page['body'], slug: string) =>
  html`${body}
<p><a href="/setup/${slug}/devices">Back to My devices</a></p>`;
