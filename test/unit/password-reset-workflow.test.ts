import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { expect } from 'chai';
import type { Activities } from '../../activities';
import { passwordResetWorkflowId } from '../../domain/ids';
import { confirmResetUpdate, requestResetUpdate, resetRefusalQuery } from '../../workflows/password-reset/messages';
import type { passwordReset } from '../../workflows/password-reset/workflow';
import {
  argsOf,
  called,
  type Lane,
  refusalOf,
  TIMINGS,
  uniqueAddress,
  withStubbedActivities,
} from './support/workflows';

/** workflows/password-reset: a forgotten password on its own, with every activity stubbed. */

const ORG = 'unit-co';

/** The reset of an address with an account (its n-th code's hash is `reset-<n>`), or without one (no code at all). */
function withReset(
  account: boolean,
  test: (
    run: Lane & { email: string; handle: WorkflowHandleWithFirstExecutionRunId<typeof passwordReset> },
  ) => Promise<void>,
) {
  const stubs: Partial<Activities> = {
    sendResetCode: async ({ codeNumber }) => ({ codeHash: account ? `reset-${codeNumber}` : null }),
    setPassword: async () => undefined,
  };
  return withStubbedActivities(stubs, async (lane) => {
    const email = uniqueAddress('reset');
    const handle = await lane.client.workflow.start<typeof passwordReset>('passwordReset', {
      taskQueue: lane.taskQueue,
      workflowId: passwordResetWorkflowId(ORG, email),
      args: [{ organisation: ORG, email, timings: TIMINGS }],
    });
    await test({ ...lane, email, handle });
  });
}

describe('the password reset workflow', () => {
  it('mails a code once, counts a wrong one, and sets the new password with the right one', () =>
    withReset(true, async ({ email, handle, calls }) => {
      await handle.executeUpdate(requestResetUpdate);
      expect(await called(calls, 'sendResetCode')).to.deep.equal([
        { organisation: ORG, email, codeNumber: 1, codeTtlMinutes: 1 },
      ]);
      // Asked again at once: the same answer, and no second mail.
      await handle.executeUpdate(requestResetUpdate);
      expect(await handle.query(resetRefusalQuery)).to.equal(null);

      const confirm = (codeHash: string) =>
        handle.executeUpdate(confirmResetUpdate, { args: [{ codeHash, passwordHash: 'new-hash' }] });
      expect(await refusalOf(confirm('wrong'))).to.include({
        code: 'invalid_code',
        message: 'That code is not right. 2 attempts left.',
      });
      expect(argsOf(calls, 'setPassword')).to.deep.equal([]);
      await confirm('reset-1');
      expect(argsOf(calls, 'setPassword')).to.deep.equal([{ organisation: ORG, email, passwordHash: 'new-hash' }]);
      expect(await handle.result()).to.deep.equal({ changed: true });
      expect(await handle.query(resetRefusalQuery)).to.deep.equal({
        code: 'code_expired',
        message: 'This code has been used. Ask for a new one.',
      });
      expect(argsOf(calls, 'sendResetCode')).to.have.length(1);
    }));

  it('takes no code for an address without an account, answering as for any wrong code', () =>
    withReset(false, async ({ handle, calls }) => {
      await handle.executeUpdate(requestResetUpdate);
      await called(calls, 'sendResetCode');
      const guess = handle.executeUpdate(confirmResetUpdate, { args: [{ codeHash: 'reset-1', passwordHash: 'h' }] });
      expect(await refusalOf(guess)).to.include({
        code: 'invalid_code',
        message: 'That code is not right. 2 attempts left.',
      });
      expect(argsOf(calls, 'setPassword')).to.deep.equal([]);
    }));
});
