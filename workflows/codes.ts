import { condition, log } from '@temporalio/workflow';
import { domainError } from '../domain/errors';
import type { CodeRules } from '../domain/timings';
import { constantTimeEqual } from './util';

const tooManyWrongCodes = () => domainError('too_many_attempts', 'Too many wrong codes. Ask for a new code.');

interface Code {
  number: number;
  /** Known once the mail activity has made and sent the code; null when it sent none (no such account). */
  hash?: string | null;
  expiresAt: number;
  attempts: number;
}

/**
 * The codes of one workflow run (verification codes of a registration, reset codes of a password reset, the SMS code
 * that proves a device's phone number): issued through a mail or SMS activity that returns only the code's hash,
 * expiring, with wrong guesses and resends limited. `sent` hears what else the activity reported (a registration's
 * link), as soon as the code's hash is known.
 */
export function mailedCodes<Sent extends { codeHash: string | null }>(
  timings: CodeRules,
  send: (codeNumber: number) => Promise<Sent>,
  sent: (answer: Sent) => void = () => {},
) {
  let code: Code | undefined;
  let issued = 0;
  let lastIssuedAt = 0;

  /** Why no code can be right now, as a domain error; undefined when one can. */
  const refusal = () => {
    if (!code || (code.hash !== undefined && Date.now() > code.expiresAt)) {
      return domainError('code_expired', 'The code has expired. Ask for a new code.');
    }
    if (code.attempts >= timings.maxCodeAttempts) return tooManyWrongCodes();
    return undefined;
  };
  const usable = () => code !== undefined && Date.now() <= code.expiresAt && code.attempts < timings.maxCodeAttempts;

  return {
    usable,
    get lastIssuedAt() {
      return lastIssuedAt;
    },
    /** Whether another code may be sent now; the reason it may not, as a domain error, otherwise. */
    resendRefusal() {
      if (issued > timings.maxResends) {
        return domainError('too_many_attempts', 'No more codes can be sent for this address. Start again later.');
      }
      const waitMs = lastIssuedAt + timings.resendIntervalMs - Date.now();
      if (waitMs > 0) {
        return domainError('too_many_attempts', 'A code was sent a moment ago. Wait before asking for another.', {
          retryAfterSeconds: Math.ceil(waitMs / 1000),
        });
      }
      return undefined;
    },
    mayIssue: () => issued <= timings.maxResends,

    issue() {
      const number = ++issued;
      lastIssuedAt = Date.now();
      const current: Code = { number, expiresAt: Date.now() + timings.codeTtlMs, attempts: 0 };
      code = current;
      void send(number).then(
        (answer) => {
          sent(answer);
          // The code's lifetime starts when it is on its way, not when it was asked for.
          if (code === current) {
            Object.assign(current, { hash: answer.codeHash, expiresAt: Date.now() + timings.codeTtlMs });
          }
        },
        (error) => log.warn('code not sent', { error: String(error) }),
      );
    },

    refusal,

    /** Validator half of a check: refuses without a trace in history when no code can be right now. */
    assertCheckable() {
      const refused = refusal();
      if (refused) throw refused;
    },

    /**
     * Handler half: compares the typed code's hash with the current code's, counting wrong guesses; a right code is
     * spent. The mail can reach a quick owner before the activity's answer reaches us, so it may wait briefly for it.
     */
    async check(codeHash: string, mayWait: boolean) {
      const current = code as Code;
      const arrived = () => current.hash !== undefined || code !== current;
      const mustWait = mayWait ? !arrived() : true;
      if ((mustWait && !(await condition(arrived, '30s'))) || code !== current) {
        throw domainError('code_expired', 'That code is no longer valid. Use the newest code we sent.');
      }
      // Guesses that passed the validator together while the code was on its way are checked one by one now: none
      // past the limit may be compared, whatever the timing.
      if (current.attempts >= timings.maxCodeAttempts) throw tooManyWrongCodes();
      if (!current.hash || !constantTimeEqual(codeHash, current.hash)) {
        current.attempts += 1;
        const left = timings.maxCodeAttempts - current.attempts;
        throw left > 0
          ? domainError('invalid_code', `That code is not right. ${left} ${left === 1 ? 'attempt' : 'attempts'} left.`)
          : tooManyWrongCodes();
      }
      code = undefined;
    },
  };
}
