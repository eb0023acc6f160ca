import { type Request, type Response, Router } from 'express';
import type { ServiceDeps } from '../../services/context';
import type { ErrorAnswer } from '../../services/errors';
import { organisationForm } from '../../services/schemas';
import { csrfCookieOptions } from '../cookies';
import { formParsing } from '../page-kit';
import { errorPages, problemPageOf } from '../problems';
import type { Site } from '../views/document';
import { problemPage } from '../views/problem';
import { devicePages } from './devices';
import { passwordPages } from './password';
import { sessionPages } from './session';
import { devicesOf, type OwnerKit, type OwnerServices, ownerKit, signInOf } from './shared';

/** The pages whose forms get parsed bodies and CSRF checks here; the registration's pages get theirs in web/setup. */
const OWNER_PATHS = [
  '/:organisation/sign-in',
  '/:organisation/sign-out',
  '/:organisation/devices',
  '/:organisation/forgot-password',
  '/:organisation/reset-password',
];

/**
 * A returning device owner's pages: sign-in, My devices, adding a device, a device's link and QR code, removing a
 * device, a new link for an expired one, sign-out and the forgotten password. The rules are in services/owners/accounts.ts and
 * services/owners/devices.ts; these pages are forms over them.
 */
export function ownerPages(services: OwnerServices, deps: ServiceDeps, site: Site): Router {
  const kit = ownerKit(services, deps, site);
  const { config, secrets } = deps;
  const session = sessionPages(kit);
  const devices = devicePages(kit);
  const password = passwordPages(kit);

  const router = Router();
  router.use(OWNER_PATHS, ...formParsing(secrets, csrfCookieOptions(config)));
  router.get('/:organisation/sign-in', session.showSignIn);
  router.post('/:organisation/sign-in', session.signIn);
  router.post('/:organisation/sign-out', session.signOut);
  router.get('/:organisation/devices', devices.list);
  // Before `:id`, which would take "new" for a device's id.
  router.get('/:organisation/devices/new', devices.showAdd);
  router.post('/:organisation/devices/new', devices.add);
  router.get('/:organisation/devices/:id', devices.device);
  router.post('/:organisation/devices/:id/phone', devices.provePhone);
  router.get('/:organisation/devices/:id/link', devices.toDevice);
  router.post('/:organisation/devices/:id/link', devices.newLink);
  router.get('/:organisation/devices/:id/remove', devices.showRemove);
  router.post('/:organisation/devices/:id/remove', devices.remove);
  router.get('/:organisation/forgot-password', password.showForgot);
  router.post('/:organisation/forgot-password', password.forgot);
  router.get('/:organisation/reset-password', password.showReset);
  router.post('/:organisation/reset-password', password.reset);
  router.use(errorPages(deps.logger, problemOf(kit)));
  return router;
}

/** An ended session signs in again; a device the owner does not have leads back to the list. */
const problemOf =
  ({ show }: OwnerKit) =>
  (answer: ErrorAnswer, req: Request, res: Response) => {
    const slug = organisationForm.shape.organisation.safeParse(
      req.params.organisation ?? /^\/([a-z0-9-]+)/.exec(req.path)?.[1],
    );
    const organisation = slug.success ? slug.data : undefined;
    if (answer.code === 'unauthorized' && organisation) return res.redirect(303, signInOf(organisation, 'ended'));
    if (answer.code === 'device_not_found' && organisation) {
      const next = { href: devicesOf(organisation), text: 'Back to My devices' };
      return show(res, problemPage({ title: 'Device not found', message: answer.message, next }), 404);
    }
    show(res, problemPageOf(answer, organisation), answer.status);
  };
