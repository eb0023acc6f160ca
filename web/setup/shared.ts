import type { CookieOptions, Request, RequestHandler, Response } from 'express';
import type { ZodType } from 'zod';
import type { ServiceDeps } from '../../services/context';
import { describeError } from '../../services/errors';
import type { RegistrationService } from '../../services/registrations';
import type { Step } from '../../workflows/registration/messages';
import { pageCookieOptions } from '../cookies';
import { csrfToken } from '../csrf';
import { answerForm, organisationIn } from '../page-kit';
import { donePage } from '../provision.view';
import { sendPage } from '../respond';
import type { Page, Site } from '../views/document';
import { blankForm, type FormState } from '../views/form';
import { type RegistrationSession, registrationSessions } from './sessions';

export type StepPage = 'verify' | 'profile' | 'device' | 'provision' | 'done';

/** The page each step is shown on; an expired registration starts again at the organisation's page. */
const PAGE_OF_STEP: Record<Step, StepPage | undefined> = {
  'verify-email': 'verify',
  profile: 'profile',
  device: 'device',
  provision: 'provision',
  done: 'done',
  expired: undefined,
};
export const startOf = (organisation: string) => `/setup/${organisation}`;
export const pathOf = (organisation: string, step: Step) =>
  PAGE_OF_STEP[step] ? `${startOf(organisation)}/${PAGE_OF_STEP[step]}` : startOf(organisation);

/** What a step's page is drawn from: the registration as this browser sees it, and the form as it was sent. */
export interface StepView {
  organisation: string;
  session: RegistrationSession;
  status: Awaited<ReturnType<RegistrationService['status']>>;
  csrf: string;
  state: FormState;
  codeSent: boolean;
}
/** The done page is drawn from nothing of the registration: a complete registration's token reads nothing more. */
export type StepViews = Record<Exclude<StepPage, 'done'>, (view: StepView) => Page | Promise<Page>>;

/**
 * The registration behind a browser's cookie is gone (its history deleted long after it ended), or a newer registration
 * of the same address has taken its place and does not know this browser's token.
 */
const isLostSession = (error: unknown) => ['unauthorized', 'not_found'].includes(describeError(error)?.code ?? '');
const isComplete = (error: unknown) => describeError(error)?.code === 'registration_complete';

/** What the registration's pages share: the browser's registration with each organisation, and where it stands. */
export function setupKit(registrations: RegistrationService, deps: ServiceDeps, site: Site, views: StepViews) {
  const { timings } = deps.config;
  const cookie: CookieOptions = {
    ...pageCookieOptions(deps.config.publicUrl),
    // A registration lives at most this long: unused for its lifetime, or waiting on a provisioning link.
    maxAge: timings.registrationTtlMs + timings.linkTtlMs,
  };
  const sessions = registrationSessions(cookie);
  const show = (res: Response, page: Page, status = 200) => sendPage(res, site, page, status);

  /**
   * The browser's registration with an organisation, and where it stands (`complete`, all a complete registration's
   * token still learns); a token nobody knows any more is dropped.
   */
  const current = async (req: Request, res: Response, organisation: string) => {
    const session = sessions.of(req, organisation);
    if (!session) return undefined;
    try {
      return { session, status: await registrations.status(session.registrationId, session.token) };
    } catch (error) {
      if (isComplete(error)) return 'complete' as const;
      if (!isLostSession(error)) throw error;
      sessions.forget(res, organisation);
      return undefined;
    }
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
    if (at === 'complete' && page === 'done') {
      // Shown once: the browser forgets the spent token, and the page says where the owner goes from now on.
      sessions.forget(res, organisation);
      return show(res, donePage(organisation));
    }
    if (at === 'complete') return res.redirect(303, pathOf(organisation, 'done'));
    // A registration that reads as anything but complete is not done.
    if (!at || page === 'done' || PAGE_OF_STEP[at.status.step] !== page) {
      res.redirect(303, at ? pathOf(organisation, at.status.step) : startOf(organisation));
      return;
    }
    const view = { organisation, ...at, csrf: csrfToken(res), state, codeSent: req.query.sent === '1' };
    show(res, await views[page](view), status);
  };

  /** Any step's page by its address; other addresses are not a step's. */
  const stepPage: RequestHandler = async (req, res, next) => {
    const page = req.params.page as StepPage;
    if (!Object.hasOwn(views, page) && page !== 'done') return next();
    await showStep(req, res, organisationIn(req), page);
  };

  /** A registration this browser has lost starts again; an expired one is forgotten, and its refusal goes on. */
  const startAgainIfLost = (res: Response, organisation: string) => (error: unknown) => {
    if (isLostSession(error)) {
      sessions.forget(res, organisation);
      return startOf(organisation);
    }
    if (describeError(error)?.code === 'registration_expired' || isComplete(error)) sessions.forget(res, organisation);
    throw error;
  };

  /**
   * A step's form, then a redirect to where the registration now stands. A refusal the owner can act on comes back on
   * the step's page, tied to its field (`fields`, by error code).
   */
  const formAction =
    <T>(
      page: StepPage,
      schema: ZodType<T>,
      fields: Partial<Record<string, string>>,
      run: (session: RegistrationSession, input: T, req: Request) => Promise<string>,
    ): RequestHandler =>
    async (req, res) => {
      const organisation = organisationIn(req);
      const session = sessions.of(req, organisation);
      if (!session) return res.redirect(303, startOf(organisation));
      await answerForm(req, res, {
        schema,
        fields,
        again: (state, status) => showStep(req, res, organisation, page, state, status),
        run: (input) => run(session, input, req).catch(startAgainIfLost(res, organisation)),
      });
    };

  return { registrations, deps, cookie, sessions, show, current, showStep, stepPage, formAction };
}

export type SetupKit = ReturnType<typeof setupKit>;
