import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import type { AdminServices } from '../../services';
import { idParam, organisationBody } from '../../services/admin/settings-schemas';
import { HttpError } from '../../services/errors';
import { emailForm } from '../../services/schemas';
import { csrfToken } from '../csrf';
import { answerForm } from '../page-kit';
import type { FormState } from '../views/form';
import { invitationPages } from './invitations';
import { organisationPage, organisationPath, organisationsPage, revokeManagerPage } from './organisations.view';
import { type AdminKit, adminIn, managedOrganisation, noticeIn } from './shared';

const NOTICES = {
  created: 'The organisation is created. Invite its managers here.',
  invited: 'The invitation is on its way.',
  'sent-again': 'The invitation is sent again, with a new link: the old link no longer works.',
  withdrawn: 'The invitation is withdrawn: its link no longer works.',
  revoked: 'The manager is revoked: they are signed out and cannot sign in.',
};
type Notice = keyof typeof NOTICES;

/** The buttons of one invitation: its address, in a field of its own name (not the invite form's `email`). */
const invitationForm = z.strictObject({ invitation: emailForm.shape.email });

/**
 * Organisations: the list and a new one (a supervisor's, by web/admin/index.ts), each organisation's page
 * (its manager may read it) with its managers and invitations, and what a supervisor changes there — inviting,
 * sending again, withdrawing, revoking — each naming the supervisor who did it. The invited manager's link is here too.
 */
export function organisationPages(
  { settings, invitations, invitationAcceptance }: AdminServices,
  kit: AdminKit,
): Router {
  const { admins, showSignedIn, requireAdmin } = kit;
  const bySupervisor = requireAdmin('supervisor');

  const showList = async (req: Request, res: Response, state?: FormState, status?: number) => {
    const organisations = await admins.organisationsWithManagers();
    const notice = noticeIn(req, NOTICES);
    showSignedIn(res, organisationsPage({ csrf: csrfToken(res), organisations, state, notice }), status);
  };

  /** An organisation's page: a supervisor's with its invitations and forms, its manager's with its managers only. */
  const showOrganisation = async (req: Request, res: Response, state?: FormState, status?: number) => {
    const organisation = managedOrganisation(res);
    const supervisor = adminIn(res).user.role === 'supervisor';
    const [managers, invited] = await Promise.all([
      admins.managersOf(organisation),
      supervisor ? invitations.list(organisation.slug) : undefined,
    ]);
    const page = organisationPage({
      csrf: csrfToken(res),
      organisation,
      managers,
      invitations: invited,
      state,
      notice: noticeIn(req, NOTICES),
    });
    showSignedIn(res, page, status);
  };
  const afterwards = (res: Response, notice: Notice) =>
    `${organisationPath(managedOrganisation(res).slug)}?notice=${notice}`;

  /** A supervisor's change to one of the organisation's invitations; a refusal (a race) is said above the page. */
  const invitationChange = (change: 'resend' | 'withdraw', notice: Notice) => (req: Request, res: Response) =>
    answerForm(req, res, {
      schema: invitationForm,
      again: (state, status) => showOrganisation(req, res, state, status),
      run: async ({ invitation }) => {
        await invitations[change](managedOrganisation(res).slug, invitation, adminIn(res).user.email);
        return afterwards(res, notice);
      },
    });

  /** The manager of the address, of this organisation and not revoked yet. */
  const managerIn = async (req: Request, res: Response) => {
    const id = idParam.safeParse(req.params.id);
    const managers = await admins.managersOf(managedOrganisation(res));
    const manager = id.success && managers.find((each) => each.id === id.data && !each.disabledAt);
    if (!manager) throw new HttpError('not_found', 'There is no such manager of this organisation, or no longer.');
    return manager;
  };

  const router = Router();
  router.get('/organisations', (req, res) => showList(req, res));
  router.post('/organisations', (req, res) =>
    answerForm(req, res, {
      schema: organisationBody,
      fields: { organisation_exists: 'slug' },
      again: (state, status) => showList(req, res, state, status),
      run: async (body) => `${organisationPath((await settings.createOrganisation(body)).slug)}?notice=created`,
    }),
  );

  router.get('/organisations/:organisation', (req, res) => showOrganisation(req, res));
  router.post('/organisations/:organisation/invitations', bySupervisor, (req, res) =>
    answerForm(req, res, {
      schema: emailForm,
      fields: { account_exists: 'email', busy: 'email' },
      again: (state, status) => showOrganisation(req, res, state, status),
      run: async ({ email }) => {
        await invitations.invite(managedOrganisation(res).slug, email, adminIn(res).user.email);
        return afterwards(res, 'invited');
      },
    }),
  );
  router.post(
    '/organisations/:organisation/invitations/resend',
    bySupervisor,
    invitationChange('resend', 'sent-again'),
  );
  router.post(
    '/organisations/:organisation/invitations/withdraw',
    bySupervisor,
    invitationChange('withdraw', 'withdrawn'),
  );

  router.get('/organisations/:organisation/managers/:id/revoke', bySupervisor, async (req, res) => {
    const manager = await managerIn(req, res);
    showSignedIn(res, revokeManagerPage({ csrf: csrfToken(res), organisation: managedOrganisation(res), manager }));
  });
  router.post('/organisations/:organisation/managers/:id/revoke', bySupervisor, async (req, res) => {
    const manager = await managerIn(req, res);
    await admins.revokeManager(managedOrganisation(res), manager.id, adminIn(res));
    res.redirect(303, afterwards(res, 'revoked'));
  });

  router.use(invitationPages(invitations, invitationAcceptance, kit));
  return router;
}
