import { type Request, type Response, Router } from 'express';
import type { AdminServices } from '../../services';
import type { ServiceDeps } from '../../services/context';
import { type ErrorAnswer, HttpError } from '../../services/errors';
import { formParsing } from '../page-kit';
import { errorPages } from '../problems';
import type { Site } from '../views/document';
import { problemPage } from '../views/problem';
import { deviceSetupPages } from './device-setup';
import { devicePages } from './devices';
import { organisationPages } from './organisations';
import { supervisorPages } from './platforms';
import { registrationPages } from './registrations';
import { sessionPages } from './session';
import { setupPages } from './setup';
import { type AdminKit, adminKit, signInOf } from './shared';

/**
 * The admin console, under `/admin`: the first supervisor's set-up link, sign-in with a password and a
 * TOTP code, sign-out, and the home page with the sections the admin's role may use. The rules are in
 * services/admin/admins.ts and services/admin/setup.ts; these pages are forms over them. Every form is CSRF-checked.
 */
export function adminPages(admin: AdminServices, deps: ServiceDeps, site: Site): Router {
  const kit = adminKit(admin, deps, site);
  const { requireAdmin, requireOrganisationAccess } = kit;
  const setup = setupPages(kit);
  const session = sessionPages(kit);

  const router = Router();
  router.use(...formParsing(deps.secrets, kit.csrfCookie), kit.identify);
  router.get('/setup/:token', setup.show);
  router.post('/setup/:token', setup.choose);
  router.get('/setup/:token/code', setup.showCode);
  router.post('/setup/:token/code', setup.complete);
  router.get('/sign-in', session.showSignIn);
  router.post('/sign-in', session.signIn);
  router.get('/sign-in/code', session.showCode);
  router.post('/sign-in/code', session.code);
  router.post('/sign-out', session.signOut);
  router.get('/', requireAdmin(), session.home);

  // Who may use which section, in one place: the sections' pages, mounted below these lines, inherit it. A new
  // organisation is made on the list's own address (POST /organisations), so everything below
  // /organisations/<slug> is about an existing organisation.
  router.use(['/configuration', '/tokens'], requireAdmin('supervisor'));
  router.all('/organisations', requireAdmin('supervisor'));
  router.use('/organisations/:organisation', requireOrganisationAccess());

  // The sections, each a module of its own (web/admin/<section>.ts):
  router.use('/organisations/:organisation', registrationPages(admin.registrations, kit));
  router.use('/organisations/:organisation', deviceSetupPages(kit, admin.settings));
  router.use('/organisations/:organisation', devicePages(kit, admin.devices));
  router.use(organisationPages(admin, kit));
  router.use(supervisorPages(admin.settings, deps, kit));

  router.use((_req, _res, next) => next(new HttpError('not_found', 'There is nothing at this address.')));
  router.use(errorPages(deps.logger, problemOf(kit)));
  return router;
}

/** What the console's problem pages are titled, by the code of what went wrong. */
const TITLES: Partial<Record<string, string>> = {
  link_not_found: 'This set-up link does not work',
  link_used: 'This set-up link has been used',
  link_expired: 'This set-up link has expired',
  forbidden: 'You cannot do that',
  organisation_not_found: 'Organisation not found',
  not_found: 'Page not found',
  unavailable: 'Please try again in a moment',
  internal_error: 'Something went wrong',
};

/** A page that says what went wrong, and leads on: from a set-up link to sign-in, from anything else home. */
const problemOf =
  ({ show }: AdminKit) =>
  (answer: ErrorAnswer, _req: Request, res: Response) => {
    const next = answer.code.startsWith('link_')
      ? { href: signInOf(), text: 'Sign in' }
      : { href: '/admin', text: 'Go to the admin home' };
    const title = TITLES[answer.code] ?? 'We could not do that';
    show(res, problemPage({ title, message: answer.message, next }), answer.status);
  };
