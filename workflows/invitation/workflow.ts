import { allHandlersFinished, condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { domainError, unwrapDomainError } from '../../domain/errors';
import { constantTimeEqual, stepActivities } from '../util';
import {
  acceptInvitationUpdate,
  type InvitationInput,
  type InvitationState,
  type InvitationView,
  invitationLinkQuery,
  invitationQuery,
  resendInvitationUpdate,
  withdrawInvitationUpdate,
} from './messages';

const { sendInvitation } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

/**
 * A supervisor invites an organisation manager by e-mail: the invitation is mailed with a link, can be sent
 * again (a new link, for as long as the first; the old one stops working) or withdrawn, and expires. The manager
 * accepts it with the link, a password and a second factor, which makes their admin account. Who did what is in the
 * history: each update names its author.
 */
export async function invitation(input: InvitationInput): Promise<InvitationView> {
  let state: InvitationState = 'open';
  let sent = 0;
  /** When the newest link stops working. */
  let expiresAt = 0;
  /** The keyed hash of the newest link's token: only that link accepts. */
  let tokenHash: string | undefined;
  const isNewest = (hash: string) => tokenHash !== undefined && constantTimeEqual(hash, tokenHash);
  let busy = false;
  const view = (): InvitationView => ({
    state,
    invitedBy: input.invitedBy,
    sent,
    expiresAt: new Date(expiresAt).toISOString(),
  });

  const mail = async () => {
    sent += 1;
    expiresAt = Date.now() + input.ttlMs;
    tokenHash = (await sendInvitation({ ...input, invitationNumber: sent })).tokenHash;
  };
  const exclusively = async (work: () => Promise<void>): Promise<InvitationView> => {
    busy = true;
    try {
      await work();
      return view();
    } catch (error) {
      throw unwrapDomainError(error);
    } finally {
      busy = false;
    }
  };
  const open = () => {
    if (state !== 'open') throw domainError('wrong_step', `This invitation is ${state}.`);
    if (busy) throw domainError('busy', 'This invitation is being changed; try again.');
  };

  setHandler(invitationQuery, view);
  setHandler(invitationLinkQuery, isNewest);
  // The author (`by`) is the update's argument: it stays in the history beside what they did.
  setHandler(resendInvitationUpdate, (_actor) => exclusively(mail), { validator: (_actor) => open() });
  setHandler(
    withdrawInvitationUpdate,
    (_actor) =>
      exclusively(async () => {
        state = 'withdrawn';
      }),
    { validator: (_actor) => open() },
  );
  setHandler(
    acceptInvitationUpdate,
    ({ passwordHash, totpSecretSealed, totpLastStep }) =>
      exclusively(async () => {
        await stepActivities<Activities>().createManager({
          organisation: input.organisation,
          email: input.email,
          passwordHash,
          totpSecretSealed,
          totpLastStep,
        });
        state = 'accepted';
      }),
    {
      validator: (acceptance) => {
        open();
        if (!isNewest(acceptance.tokenHash)) {
          throw domainError('link_expired', 'This invitation link is no longer valid: use the newest one.');
        }
      },
    },
  );

  await exclusively(mail);
  // Open until accepted or withdrawn, or until its newest link's time is up with nothing under way.
  while (state === 'open') {
    const deadline = expiresAt;
    const timeLeft = Math.max(deadline - Date.now(), 1);
    if (!(await condition(() => state !== 'open' || expiresAt !== deadline, timeLeft))) {
      await condition(() => !busy);
      if (state === 'open' && expiresAt === deadline) state = 'expired';
    }
  }
  await condition(allHandlersFinished);
  return view();
}
