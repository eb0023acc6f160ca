import express, { type CookieOptions, type Request, type Response, Router } from 'express';
import type { ZodType } from 'zod';
import { openOrganisation } from '../db/policy';
import { clientAddress } from '../services/attempts';
import type { ServiceDeps } from '../services/context';
import { describeError, HttpError } from '../services/errors';
import type { RegistrationService } from '../services/registrations';
import {
  deviceForm,
  emailForm,
  emptyBody,
  linkForm,
  organisationForm,
  profileForm,
  verifyBody,
} from '../services/schemas';
import type { Step } from '../workflows/messages';
import { pageCookieOptions } from './cookies';
import { csrfToken } from './csrf';
import { formParsing, organisationIn, pageLimit } from './page-kit';
import { formRefusal, problemPageOf, refusalMessage, UNEXPECTED } from './problems';
import { qrCode } from './qr';
import { sendPage } from './respond';
import { type RegistrationSession, registrationSessions } from './session';
import { devicePage } from './templates/device';
import type { Page, Site } from './templates/document';
import { blankForm, FORM_ERROR, type FormState, refused, refusedWith } from './templates/form';
import { problemPage } from './templates/problem';
import { profilePage } from './templates/profile';
import { donePage, provisionPage } from './templates/provision';
import { emailPage, organisationPage } from './templates/start';
import { codePage, linkPage, RESEND } from './templates/verify';

type StepPage = 'verify' | 'profile' | 'device' | 'provision' | 'done';

/** The page each step is shown on; an expired registration starts again at the organisation's page. */
const PAGE_OF_STEP: Record<Step, StepPage | undefined> = {
  'verify-email': 'verify',
  profile: 'profile',
  device: 'device',
  provision: 'provision',
  done: 'done',
  expired: undefined,
};
const startOf = (organisation: string) => `/setup/${organisation}`;
const pathOf = (organisation: string, step: Step) =>
  PAGE_OF_STEP[step] ? `${startOf(organisation)}/${PAGE_OF_STEP[step]}` : startOf(organisation);

/** What a step's page is drawn from: the registration as this browser sees it, and the form as it was sent. */
interface StepView {
  organisation: string;
  session: RegistrationSession;
  status: Awaited<ReturnType<RegistrationService['status']>>;
  csrf: string;
  state: FormState;
  codeSent: boolean;
}

/**
 * The registration behind a browser's cookie is gone (its history deleted long after it ended), or a newer registration
 * of the same address has taken its place and does not know this browser's token.
 */
const isLostSession = (error: unknown) => ['unauthorized', 'not_found'].includes(describeError(error)?.code ?? '');

const INVALID_LINK = problemPage({
  title: 'This link is not valid',
  message: 'Open the link exactly as it is in the e-mail, or enter the code from the e-mail on the registration page.',
});

/**
 * The device owner's flow as web pages, over the registration service. Every step is a plain form:
 * POST, then a redirect to the page of the step the registration is at (POST/redirect/GET), so it all works without
 * JavaScript and a reload never sends anything twice.
 */
export function setupPages(
  registrations: RegistrationService,
  { config, models, secrets, logger }: ServiceDeps,
  site: Site,
) {
  const cookie: CookieOptions = {
    ...pageCookieOptions(config.publicUrl),
    // A registration lives at most this long: unused for its lifetime, or waiting on a provisioning link.
    maxAge: config.timings.registrationTtlMs + config.timings.linkTtlMs,
  };
  const sessions = registrationSessions(cookie);
  const limit = pageLimit(config.registrationsPerMinute);
  const show = (res: Response, page: Page, status = 200) => sendPage(res, site, page, status);

  const router = Router();
  router.use(...formParsing(secrets, cookie));

  /** The browser's registration with an organisation, and where it stands; a token nobody knows any more is dropped. */
  const current = async (req: Request, res: Response, organisation: string) => {
    const session = sessions.of(req, organisation);
    if (!session) return undefined;
    try {
      return { session, status: await registrations.status(session.registrationId, session.token) };
    } catch (error) {
      if (!isLostSession(error)) throw error;
      sessions.forget(res, organisation);
      return undefined;
    }
  };

  const views: Record<StepPage, (view: StepView) => Page | Promise<Page>> = {
    verify: ({ organisation, status, csrf, state, codeSent }) =>
      codePage({
        organisation,
        email: status.email,
        csrf,
        state,
        notice: codeSent ? `We sent a new code to ${status.email}.` : undefined,
      }),
    profile: ({ organisation, csrf, state }) => profilePage({ organisation, csrf, state }),
    device: ({ organisation, status, csrf, state }) =>
      devicePage({
        organisation,
        platforms: status.platforms,
        csrf,
        state,
        linkExpired: status.devices.at(-1)?.state === 'link-expired',
      }),
    provision: async ({ organisation, session }) => {
      const link = await registrations.currentLink(session.registrationId, session.token);
      // The link has expired in the moment since the step was read; the next visit offers the device choice again.
      if (!link) {
        return problemPage({
          title: 'Your provisioning link has expired',
          message: 'Choose your device again to get a new link.',
          next: { href: startOf(organisation), text: 'Choose again' },
        });
      }
      return provisionPage({ organisation, link, qrCode: await qrCode(link.provisioningUrl) });
    },
    done: () => donePage(),
  };

  /** A step's page, if the registration is at that step; otherwise the owner is sent to the step it is at. */
  const showStep = async (
    req: Request,
    res: Response,
    organisation: string,
    page: StepPage,
    state: FormState = blankForm,
    status = 200,
  ) => {
    const at = await current(req, res, organisation);
    if (!at || PAGE_OF_STEP[at.status.step] !== page) {
      res.redirect(303, at ? pathOf(organisation, at.status.step) : startOf(organisation));
      return;
    }
    const view = { organisation, ...at, csrf: csrfToken(res), state, codeSent: req.query.sent === '1' };
    show(res, await views[page](view), status);
  };

  /**
   * A step's form: its input checked by its schema, then the step, then a redirect to where the registration now
   * stands. A refusal the owner can act on comes back on the form, tied to its field (`fields`, by error code).
   */
  const formAction = <T>(
    action: string,
    page: StepPage,
    schema: ZodType<T>,
    fields: Partial<Record<string, string>>,
    run: (session: RegistrationSession, input: T, req: Request) => Promise<string>,
  ) => {
    router.post(`/:organisation/${action}`, async (req, res) => {
      const organisation = organisationIn(req);
      const session = sessions.of(req, organisation);
      if (!session) return res.redirect(303, startOf(organisation));
      const input = schema.safeParse(req.body ?? {});
      if (!input.success) return showStep(req, res, organisation, page, refused(req.body, input.error), 400);
      try {
        res.redirect(303, await run(session, input.data, req));
      } catch (error) {
        if (isLostSession(error)) {
          sessions.forget(res, organisation);
          return res.redirect(303, startOf(organisation));
        }
        if (describeError(error)?.code === 'registration_expired') sessions.forget(res, organisation);
        const answer = formRefusal(error);
        const state = refusedWith(req.body, fields[answer.code] ?? FORM_ERROR, refusalMessage(answer));
        await showStep(req, res, organisation, page, state, answer.status);
      }
    });
  };

  router.get('/', async (req, res) => {
    if (req.query.organisation !== undefined) {
      // "Sign in" instead of "Continue": a returning owner.
      const { then, ...query } = req.query;
      const input = organisationForm.safeParse(query);
      if (!input.success) return show(res, organisationPage(refused(query, input.error)), 400);
      return res.redirect(303, `${startOf(input.data.organisation)}${then === 'sign-in' ? '/sign-in' : ''}`);
    }
    try {
      res.redirect(303, startOf((await openOrganisation(models, undefined)).slug));
    } catch (error) {
      // No default organisation: ask for it rather than guess.
      if (describeError(error)?.code !== 'organisation_required') throw error;
      show(res, organisationPage());
    }
  });

  // The one-click link from the e-mail. Opening it changes nothing: mail scanners open links too, and would use up
  // the code. The owner confirms with a button, in whichever browser the mail app opened.
  router.get('/verify', (req, res) => {
    const link = linkForm.safeParse(req.query);
    if (!link.success) return show(res, INVALID_LINK, 400);
    show(res, linkPage({ ...link.data, csrf: csrfToken(res) }));
  });

  router.post('/verify', async (req, res) => {
    const link = linkForm.safeParse(req.body ?? {});
    if (!link.success) return show(res, INVALID_LINK, 400);
    const { registration, code } = link.data;
    let session = sessions.withId(req, registration);
    if (!session) {
      // Another browser than the one that registered: it joins the registration with a token of its own.
      const resumed = await registrations.resume(registration).catch((error: unknown) => {
        if (describeError(error)?.code === 'not_found') return undefined;
        throw error;
      });
      if (!resumed) return show(res, INVALID_LINK, 404);
      session = { organisation: resumed.organisation, registrationId: resumed.registrationId, token: resumed.token };
      sessions.keep(res, session);
    }
    try {
      await registrations.verify(session.registrationId, session.token, code, clientAddress(req));
      res.redirect(303, startOf(session.organisation));
    } catch (error) {
      const answer = formRefusal(error);
      const stale = ['invalid_code', 'code_expired', 'too_many_attempts'].includes(answer.code);
      const message = stale
        ? 'This link is no longer valid. Enter the code from our newest e-mail, or ask for a new one.'
        : refusalMessage(answer);
      await showStep(req, res, session.organisation, 'verify', refusedWith({}, 'code', message), answer.status);
    }
  });

  router.get('/:organisation', async (req, res) => {
    const slug = organisationIn(req);
    // A registration under way continues (its link, say, still works); the workflow applies the settings to each step.
    const at = await current(req, res, slug);
    if (at && at.status.step !== 'expired') return res.redirect(303, pathOf(slug, at.status.step));
    if (at) sessions.forget(res, slug);
    const organisation = await openOrganisation(models, slug);
    const notice = at ? 'Your earlier registration has expired. Start again with your e-mail address.' : undefined;
    show(res, emailPage({ organisation, csrf: csrfToken(res), notice }));
  });

  router.post('/:organisation', async (req, res) => {
    const slug = organisationIn(req);
    const organisation = await openOrganisation(models, slug);
    const refusedForm = (state: FormState, status: number) =>
      show(res, emailPage({ organisation, csrf: csrfToken(res), state }), status);
    const input = emailForm.safeParse(req.body ?? {});
    if (!input.success) return refusedForm(refused(req.body, input.error), 400);
    try {
      await limit(req, res);
      const started = await registrations.register({ organisation: slug, email: input.data.email });
      sessions.keep(res, { organisation: slug, registrationId: started.registrationId, token: started.token });
      res.redirect(303, pathOf(slug, started.step));
    } catch (error) {
      const answer = formRefusal(error);
      const field = answer.code === 'email_not_allowed' ? 'email' : FORM_ERROR;
      refusedForm(refusedWith(req.body, field, refusalMessage(answer)), answer.status);
    }
  });

  router.get('/:organisation/:page', async (req, res, next) => {
    const page = req.params.page as StepPage;
    if (!Object.hasOwn(views, page)) return next();
    await showStep(req, res, organisationIn(req), page);
  });

  formAction(
    'verify',
    'verify',
    verifyBody,
    { invalid_code: 'code', code_expired: 'code', too_many_attempts: 'code' },
    async (s, { code }, req) =>
      pathOf(s.organisation, (await registrations.verify(s.registrationId, s.token, code, clientAddress(req))).step),
  );
  formAction('resend', 'verify', emptyBody, { too_many_attempts: RESEND }, async (s) => {
    await registrations.resend(s.registrationId, s.token);
    return `${pathOf(s.organisation, 'verify-email')}?sent=1`;
  });
  formAction(
    'profile',
    'profile',
    profileForm,
    { invalid_phone: 'phone', phone_required: 'phone' },
    async (s, profile) =>
      pathOf(s.organisation, (await registrations.profile(s.registrationId, s.token, profile)).step),
  );
  formAction(
    'device',
    'device',
    deviceForm,
    { platform_not_available: 'platform', phone_required: 'phone', invalid_phone: 'phone' },
    async (s, choice) => {
      await registrations.chooseDevice(s.registrationId, s.token, choice);
      return pathOf(s.organisation, 'provision');
    },
  );

  router.post('/:organisation/restart', (req, res) => {
    const organisation = organisationIn(req);
    sessions.forget(res, organisation);
    res.redirect(303, startOf(organisation));
  });

  router.use((_req, _res, next) => next(new HttpError('not_found', 'There is no page at this address.')));
  router.use((error: unknown, req: Request, res: Response, _next: express.NextFunction) => {
    const answer = describeError(error) ?? UNEXPECTED;
    if (answer === UNEXPECTED) logger.error({ err: error, method: req.method, path: req.path }, 'unexpected error');
    const [, first] = /^\/([a-z0-9-]+)/.exec(req.path) ?? [];
    show(res, problemPageOf(answer, first === 'verify' ? undefined : first), answer.status);
  });
  return router;
}
