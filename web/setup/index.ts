import { Router } from 'express';
import type { ServiceDeps } from '../../services/context';
import { HttpError } from '../../services/errors';
import type { RegistrationService } from '../../services/registrations';
import { csrfCookieOptions } from '../cookies';
import { formParsing } from '../page-kit';
import { errorPages, problemPageOf } from '../problems';
import type { Site } from '../views/document';
import { setupKit } from './shared';
import { startPages } from './start';
import { stepPages, stepViews } from './steps';
import { codeView, verifyPages } from './verify';

/**
 * The device owner's registration as web pages, over the registration service. Every step is a plain form: POST, then
 * a redirect to the page of the step the registration is at, so it all works without JavaScript and a reload never
 * sends anything twice.
 */
export function setupPages(registrations: RegistrationService, deps: ServiceDeps, site: Site): Router {
  const kit = setupKit(registrations, deps, site, { verify: codeView, ...stepViews(registrations) });
  const start = startPages(kit);
  const verify = verifyPages(kit);
  const steps = stepPages(kit);

  const router = Router();
  router.use(...formParsing(deps.secrets, csrfCookieOptions(deps.config)));
  router.get('/', start.chooseOrganisation);
  // The e-mail's link before `/:organisation`, which would take "verify" for an organisation.
  router.get('/verify', verify.showLink);
  router.post('/verify', verify.confirmLink);
  router.get('/:organisation', start.showEmail);
  router.post('/:organisation', start.register);
  router.get('/:organisation/:page', kit.stepPage);
  router.post('/:organisation/verify', verify.enterCode);
  router.post('/:organisation/resend', verify.resend);
  router.post('/:organisation/profile', steps.profile);
  router.post('/:organisation/device', steps.device);
  router.post('/:organisation/phone', steps.phone);
  router.post('/:organisation/restart', start.restart);
  router.use((_req, _res, next) => next(new HttpError('not_found', 'There is no page at this address.')));
  router.use(
    errorPages(deps.logger, (answer, req, res) => {
      const [, first] = /^\/([a-z0-9-]+)/.exec(req.path) ?? [];
      kit.show(res, problemPageOf(answer, first === 'verify' ? undefined : first), answer.status);
    }),
  );
  return router;
}
