import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { expect } from 'chai';
import type { Activities } from '../../activities';
import { invitationWorkflowId } from '../../domain/ids';
import {
  acceptInvitationUpdate,
  invitationLinkQuery,
  invitationQuery,
  resendInvitationUpdate,
  withdrawInvitationUpdate,
} from '../../workflows/invitation/messages';
import type { invitation } from '../../workflows/invitation/workflow';
import { eventually } from '../support/eventually';
import { argsOf, type Lane, refusalOf, uniqueAddress, withStubbedActivities } from './support/workflows';

/** workflows/invitation: a manager's invitation on its own, with every activity stubbed. */

const ORG = 'unit-co';
const SUPERVISOR = { by: 'supervisor@example.com' };
const CREDENTIALS = { passwordHash: 'argon2-hash', totpSecretSealed: 'sealed-secret', totpLastStep: 12 };

const stubs = (): Partial<Activities> => ({
  sendInvitation: async ({ invitationNumber }) => ({ tokenHash: `invitation-${invitationNumber}` }),
  createManager: async () => undefined,
});

function withInvitation(
  ttlMs: number,
  test: (
    run: Lane & { email: string; handle: WorkflowHandleWithFirstExecutionRunId<typeof invitation> },
  ) => Promise<void>,
) {
  return withStubbedActivities(stubs(), async (lane) => {
    const email = uniqueAddress('manager');
    const handle = await lane.client.workflow.start<typeof invitation>('invitation', {
      taskQueue: lane.taskQueue,
      workflowId: invitationWorkflowId(ORG, email),
      args: [{ organisation: ORG, email, invitedBy: SUPERVISOR.by, ttlMs }],
    });
    // The first mail is on its way once its link is known.
    await eventually(
      () => handle.query(invitationLinkQuery, 'invitation-1'),
      (newest) => newest,
    );
    await test({ ...lane, email, handle });
  });
}

describe('the invitation workflow', () => {
  it('is sent again with a new link (the old one dies) and accepted with the newest, making the manager', () =>
    withInvitation(60_000, async ({ email, handle, calls }) => {
      expect(await handle.query(invitationQuery)).to.include({ state: 'open', invitedBy: SUPERVISOR.by, sent: 1 });
      const resent = await handle.executeUpdate(resendInvitationUpdate, { args: [SUPERVISOR] });
      expect(resent).to.include({ state: 'open', sent: 2 });
      expect(Date.parse(resent.expiresAt) - Date.now()).to.be.within(50_000, 60_000);
      expect(argsOf(calls, 'sendInvitation')).to.deep.equal(
        [1, 2].map((invitationNumber) => ({
          organisation: ORG,
          email,
          invitedBy: SUPERVISOR.by,
          ttlMs: 60_000,
          invitationNumber,
        })),
      );
      expect(await handle.query(invitationLinkQuery, 'invitation-1')).to.equal(false);
      expect(await handle.query(invitationLinkQuery, 'invitation-2')).to.equal(true);

      const withOldLink = handle.executeUpdate(acceptInvitationUpdate, {
        args: [{ tokenHash: 'invitation-1', ...CREDENTIALS }],
      });
      expect(await refusalOf(withOldLink)).to.include({ code: 'link_expired' });
      expect(argsOf(calls, 'createManager')).to.deep.equal([]);

      const accepted = await handle.executeUpdate(acceptInvitationUpdate, {
        args: [{ tokenHash: 'invitation-2', ...CREDENTIALS }],
      });
      expect(accepted).to.include({ state: 'accepted', sent: 2 });
      expect(argsOf(calls, 'createManager')).to.deep.equal([{ organisation: ORG, email, ...CREDENTIALS }]);
      expect(await handle.result()).to.include({ state: 'accepted' });
    }));

  it('is withdrawn and ends, making no manager', () =>
    withInvitation(60_000, async ({ handle, calls }) => {
      expect(await handle.executeUpdate(withdrawInvitationUpdate, { args: [SUPERVISOR] })).to.include({
        state: 'withdrawn',
      });
      expect(await handle.result()).to.include({ state: 'withdrawn', sent: 1 });
      expect(calls.map((call) => call.name)).to.deep.equal(['sendInvitation']);
    }));

  it('expires when its newest link runs out, a resend giving it the time again', () =>
    withInvitation(1_000, async ({ handle }) => {
      const started = Date.now();
      await handle.executeUpdate(resendInvitationUpdate, { args: [SUPERVISOR] });
      expect(await handle.result()).to.include({ state: 'expired', sent: 2 });
      expect(Date.now() - started).to.be.at.least(900);
      expect(await handle.query(invitationLinkQuery, 'invitation-2'), 'queried after its end').to.equal(true);
    }));
});
