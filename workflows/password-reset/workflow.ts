import { allHandlersFinished, condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { domainError, type ErrorCode, unwrapDomainError } from '../../domain/errors';
import { mailedCodes } from '../codes';
import { stepActivities } from '../util';
import { confirmResetUpdate, type PasswordResetInput, requestResetUpdate, resetRefusalQuery } from './messages';

const { sendResetCode } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

/** A code's lifetime starts when its mail is on its way, a little after it was asked for. */
const MAIL_SLACK_MS = 60_000;

/**
 * A forgotten password: the owner asks with their address, gets a code by e-mail, and sets a new password
 * with it, which ends every session they had. Asking answers the same whether or not the address has an account; an
 * address without one simply never gets a code. The run ends when the password is changed or its last code expires.
 */
export async function passwordReset({
  organisation,
  email,
  timings,
}: PasswordResetInput): Promise<{ changed: boolean }> {
  const codes = mailedCodes(timings, (codeNumber) =>
    sendResetCode({ organisation, email, codeNumber, codeTtlMinutes: Math.round(timings.codeTtlMs / 60_000) }),
  );
  let changed = false;
  let changing = false;
  const refusal = () => {
    if (changed) return domainError('code_expired', 'This code has been used. Ask for a new one.');
    if (changing) return domainError('busy', 'The password is being changed; try again.');
    return codes.refusal();
  };

  setHandler(requestResetUpdate, () => {
    // Asking again soon after, or too often, sends nothing new; the answer stays the same so it reveals nothing.
    if (!changed && !codes.resendRefusal()) codes.issue();
  });

  setHandler(
    confirmResetUpdate,
    async ({ codeHash, passwordHash }) => {
      changing = true;
      try {
        await codes.check(codeHash, true);
        await stepActivities<Activities>().setPassword({ organisation, email, passwordHash });
        changed = true;
      } catch (error) {
        throw unwrapDomainError(error);
      } finally {
        changing = false;
      }
    },
    {
      validator: (_confirmation) => {
        const refused = refusal();
        if (refused) throw refused;
      },
    },
  );

  setHandler(resetRefusalQuery, () => {
    const refused = refusal();
    return refused ? { code: refused.type as ErrorCode, message: refused.message } : null;
  });

  // Open while its newest code can still be used (with room for a slow mail), each new code extending that.
  await condition(() => codes.lastIssuedAt > 0);
  for (;;) {
    const issuedAt = codes.lastIssuedAt;
    const openFor = Math.max(issuedAt + timings.codeTtlMs + MAIL_SLACK_MS - Date.now(), 1);
    if (!(await condition(() => changed || codes.lastIssuedAt !== issuedAt, openFor)) || changed) break;
  }
  await condition(allHandlersFinished);
  return { changed };
}
