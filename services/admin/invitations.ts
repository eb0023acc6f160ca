import {
  WorkflowExecutionAlreadyStartedError,
  type WorkflowExecutionInfo,
  type WorkflowHandle,
} from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { invitationWorkflowId } from '../../domain/ids';
import { searchAttributesOf } from '../../domain/search-attributes';
import {
  acceptInvitationUpdate,
  type InvitationState,
  type InvitationView,
  invitationLinkQuery,
  invitationQuery,
  resendInvitationUpdate,
  withdrawInvitationUpdate,
} from '../../workflows/invitation/messages';
import type { invitation as invitationWorkflow } from '../../workflows/invitation/workflow';
import type { ServiceDeps } from '../context';
import { HttpError } from '../errors';
import type { SignedIn } from '../owners/accounts';
import type { PasswordWork } from '../password-work';
import type { AdminAccounts } from './admins';
import { credentialChoices } from './setup';

export interface Invitation extends InvitationView {
  organisation: string;
  email: string;
}

/** What an invitation's link opens to: the invitation's state, or `replaced` for an older link of an open one. */
export type LinkState = InvitationState | 'replaced';

/**
 * Invitations to manage an organisation, each a workflow `invitation/<organisation>/<address>`: a supervisor
 * invites, sends again or withdraws (each recorded with who did it); the invited manager accepts with the link from the
 * e-mail. A new invitation for the same address replaces only one that has ended.
 */
export function createInvitations({ client, models, secrets, config }: ServiceDeps) {
  const handle = (organisation: string, email: string) =>
    client.workflow.getHandle(invitationWorkflowId(organisation, email));
  const notFound = () => new HttpError('not_found', 'There is no such invitation.');
  const found = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw notFound();
      throw error;
    }
  };
  /** The organisation and address an invitation link's id names, if this key made it. */
  const partsOf = (invitationId: string): [string, string] => {
    const [, organisation, email] = /^invitation\/([^/]+)\/(.+)$/.exec(secrets.workflowIdOf(invitationId) ?? '') ?? [];
    if (!organisation || !email) throw notFound();
    return [organisation, email];
  };
  const tokenHashOf = (token: string) => secrets.keyedHash('invitation', token);
  /** An update of an invitation; one that has ended (its run closed) is refused as the open run's validators do. */
  const update = async (
    organisation: string,
    email: string,
    send: (invitation: WorkflowHandle) => Promise<InvitationView>,
  ) => {
    const invitation = handle(organisation, email);
    try {
      return await send(invitation);
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      const { state } = await found(() => invitation.query(invitationQuery));
      throw new HttpError('wrong_step', `This invitation is ${state}.`);
    }
  };

  /** An address that is an admin's already is not invited; a manager of this organisation revoked before may be. */
  const refuseAdmins = async (organisation: string, email: string) => {
    const admin = await models.AdminUser.findOne({ where: { email } });
    if (!admin) return;
    const revokedHere =
      admin.role === 'manager' &&
      admin.disabledAt !== null &&
      (await models.Organisation.findOne({ where: { slug: organisation } }))?.id === admin.organisationId;
    if (!revokedHere) throw new HttpError('account_exists', 'This address already belongs to an admin.');
  };

  return {
    async invite(organisation: string, email: string, by: string): Promise<Invitation> {
      await refuseAdmins(organisation, email);
      try {
        await client.workflow.start<typeof invitationWorkflow>('invitation', {
          workflowId: invitationWorkflowId(organisation, email),
          taskQueue: config.temporal.taskQueue,
          args: [{ organisation, email, invitedBy: by, ttlMs: config.invitationTtlMs }],
          typedSearchAttributes: searchAttributesOf(organisation, email),
        });
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) {
          throw new HttpError('busy', 'This address already has an open invitation: send it again or withdraw it.');
        }
        throw error;
      }
      return { organisation, email, ...(await found(() => handle(organisation, email).query(invitationQuery))) };
    },

    resend: (organisation: string, email: string, by: string) =>
      update(organisation, email, (invitation) => invitation.executeUpdate(resendInvitationUpdate, { args: [{ by }] })),

    withdraw: (organisation: string, email: string, by: string) =>
      update(organisation, email, (invitation) =>
        invitation.executeUpdate(withdrawInvitationUpdate, { args: [{ by }] }),
      ),

    /** The organisation's invitations, newest first, as their workflows say: of an address invited again, the newest. */
    async list(organisation: string): Promise<Invitation[]> {
      const newest = new Map<string, WorkflowExecutionInfo>();
      // The slug passed the slug pattern when it was created: safe inside the visibility query.
      const query = `WorkflowType = 'invitation' AND Organisation = '${organisation}'`;
      for await (const run of client.workflow.list({ query, pageSize: 100 })) {
        const other = newest.get(run.workflowId);
        if (!other || other.startTime < run.startTime) newest.set(run.workflowId, run);
        if (newest.size >= 200) break;
      }
      const runs = [...newest.values()].sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
      const prefix = invitationWorkflowId(organisation, '');
      return Promise.all(
        runs.map(async (run) => ({
          organisation,
          email: run.workflowId.slice(prefix.length),
          ...(await client.workflow.getHandle(run.workflowId, run.runId).query(invitationQuery)),
        })),
      );
    },

    /** What an invitation link opens: whose, to manage which organisation (its name), and whether it can accept. */
    async open(invitationId: string, token: string): Promise<Invitation & { name: string; link: LinkState }> {
      const [organisation, email] = partsOf(invitationId);
      const invitation = handle(organisation, email);
      const [view, newest, named] = await Promise.all([
        found(() => invitation.query(invitationQuery)),
        found(() => invitation.query(invitationLinkQuery, tokenHashOf(token))),
        models.Organisation.findOne({ where: { slug: organisation } }),
      ]);
      const link = view.state === 'open' && !newest ? 'replaced' : view.state;
      return { organisation, email, ...view, name: named?.name ?? organisation, link };
    },

    /** The invited manager accepts: their password (hashed) and second factor (sealed) become their account. */
    async accept(
      invitationId: string,
      token: string,
      credentials: { passwordHash: string; totpSecret: string; totpLastStep?: number },
    ): Promise<Invitation> {
      const [organisation, email] = partsOf(invitationId);
      const view = await update(organisation, email, (invitation) =>
        invitation.executeUpdate(acceptInvitationUpdate, {
          args: [
            {
              tokenHash: tokenHashOf(token),
              passwordHash: credentials.passwordHash,
              totpSecretSealed: secrets.seal(credentials.totpSecret),
              // The code that confirmed the app cannot also sign the manager in.
              totpLastStep: credentials.totpLastStep,
            },
          ],
        }),
      );
      return { organisation, email, ...view };
    },
  };
}

export type Invitations = ReturnType<typeof createInvitations>;

/**
 * The invited manager's way in, from the link in their mail while it is the open invitation's newest: a password and
 * an authenticator app, the steps of the first supervisor's link; a right code then accepts the invitation, which makes
 * their account, and signs them in.
 */
export function createInvitationAcceptance(
  deps: ServiceDeps,
  { invitations, passwords, admins }: { invitations: Invitations; passwords: PasswordWork; admins: AdminAccounts },
) {
  const choices = credentialChoices(deps, passwords, 'invitation');
  const linkOf = (invitationId: string, token: string) =>
    deps.secrets.keyedHash('invitation-link', `${invitationId}/${token}`);

  return {
    /** The password chosen for the invitation's address (the page judged it), while the link can still accept. */
    async choose(invitationId: string, token: string, password: string): Promise<string> {
      const { email, link } = await invitations.open(invitationId, token);
      if (link !== 'open') throw new HttpError('link_expired', 'This invitation link no longer works.');
      return choices.choose(linkOf(invitationId, token), { email, password });
    },

    authenticator: (invitationId: string, token: string, sealed: string | undefined) =>
      choices.authenticator(linkOf(invitationId, token), sealed),

    /** A right code: the invitation is accepted with the choice, which makes the manager, who is then signed in. */
    async complete(invitationId: string, token: string, sealed: string | undefined, code: string): Promise<SignedIn> {
      const { passwordHash, totpSecret, step } = choices.confirm(linkOf(invitationId, token), sealed, code);
      const credentials = { passwordHash, totpSecret, totpLastStep: step };
      const { email } = await invitations.accept(invitationId, token, credentials);
      const manager = await deps.models.AdminUser.findOne({ where: { email, disabledAt: null } });
      if (!manager) throw new Error('an accepted invitation left no manager account');
      return admins.startSession(manager);
    },
  };
}

export type InvitationAcceptance = ReturnType<typeof createInvitationAcceptance>;
