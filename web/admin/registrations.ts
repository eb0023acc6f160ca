import { type Request, type Response, Router } from 'express';
import type { RegistrationAdmin } from '../../services/admin/registrations';
import { registrationFilters } from '../../services/admin/settings-schemas';
import { csrfToken } from '../csrf';
import { refusalOf } from '../page-kit';
import { refusalMessage } from '../problems';
import { keptValues, refused } from '../views/form';
import { endRegistrationPage, registrationPage, registrationPath, registrationsPage } from './registrations.view';
import { type AdminKit, adminIn, managedOrganisation, noticeIn } from './shared';

const NOTICES = {
  'code-sent': 'A new code is on its way to the owner.',
  ended: 'The registration has ended: it is expired.',
};
type Notice = keyof typeof NOTICES;

/** The filters as the GET form sends them, checked by the settings API's schema: an empty field filters nothing. */
const filtersIn = ({ query }: Request) => {
  const sent = (name: string) => (typeof query[name] === 'string' ? query[name].trim() : '') || undefined;
  return registrationFilters.safeParse({ step: sent('step'), email: sent('email') });
};

/**
 * An organisation's registrations, for a supervisor or the organisation's manager (the router in
 * web/admin/index.ts checks who): the list with filters and the funnel, each registration's timeline from its
 * workflow history, and the operators' actions on it — a new code, ending it — each naming the admin who did it. The
 * rules are services/admin/registrations.ts's and the registration workflow's.
 */
export function registrationPages(registrations: RegistrationAdmin, kit: AdminKit): Router {
  const { showSignedIn } = kit;

  async function showList(req: Request, res: Response) {
    const organisation = managedOrganisation(res);
    const filters = filtersIn(req);
    const [listed, funnel] = await Promise.all([
      filters.success ? registrations.list(organisation, filters.data) : [],
      registrations.funnel(organisation),
    ]);
    showSignedIn(
      res,
      registrationsPage({
        organisation,
        state: filters.success ? { values: keptValues(req.query), errors: {} } : refused(req.query, filters.error),
        registrations: listed,
        funnel,
        filtered: !filters.success || Boolean(filters.data.step || filters.data.email),
      }),
      filters.success ? 200 : 400,
    );
  }

  async function showRegistration(req: Request, res: Response, refusal?: string, status?: number) {
    const organisation = managedOrganisation(res);
    const registration = await registrations.timeline(organisation, String(req.params.registration));
    const notice = noticeIn(req, NOTICES);
    showSignedIn(res, registrationPage({ organisation, csrf: csrfToken(res), registration, notice, refusal }), status);
  }

  /** An operator's action: on to the registration with news, or back to it with the refusal (a wrong step: 409). */
  const action = (run: RegistrationAdmin['sendNewCode'], notice: Notice) => async (req: Request, res: Response) => {
    const organisation = managedOrganisation(res);
    const registrationId = String(req.params.registration);
    try {
      await run(organisation, registrationId, adminIn(res).user.email);
    } catch (error) {
      const answer = refusalOf(error, res);
      await showRegistration(req, res, refusalMessage(answer), answer.status);
      return;
    }
    res.redirect(303, `${registrationPath(organisation.slug, registrationId)}?notice=${notice}`);
  };

  const router = Router();
  router.get('/registrations', showList);
  router.get('/registrations/:registration', (req, res) => showRegistration(req, res));
  router.post('/registrations/:registration/new-code', action(registrations.sendNewCode, 'code-sent'));
  router.get('/registrations/:registration/end', async (req, res) => {
    const organisation = managedOrganisation(res);
    const registrationId = String(req.params.registration);
    const { email } = await registrations.timeline(organisation, registrationId);
    showSignedIn(res, endRegistrationPage({ organisation, csrf: csrfToken(res), registrationId, email }));
  });
  router.post('/registrations/:registration/end', action(registrations.end, 'ended'));
  return router;
}
