import type { ZxcvbnFactory } from '@zxcvbn-ts/core';

/**
 * How guessable a new password is, estimated offline with zxcvbn (no password leaves the service). Length alone lets
 * "password1234" through; zxcvbn knows common passwords, words, names, keyboard walks, dates and l33t substitutions.
 */

/** zxcvbn's scale is 0 to 4; 3 ("safely unguessable": about 10^10 guesses) is the least a new password may score. */
export const MIN_PASSWORD_SCORE = 3;

let estimator: ZxcvbnFactory | undefined;

/**
 * Built on first use: the dictionaries take about 0.2 s to load and rank, and only the processes that set passwords
 * need them. The estimate runs on the event loop, so its cost is bounded: only the first 64 characters are judged
 * (a 64-character prefix that scores 3 is strong whatever follows; unbounded, a 200-character password takes over a
 * second) and l33t variants are tried for at most 5 substituted characters (enough for "P@55w0rd"; the default, 100,
 * alone costs up to 0.4 s on a password full of l33t characters).
 */
function zxcvbn(): ZxcvbnFactory {
  if (!estimator) {
    const { ZxcvbnFactory: Factory } = require('@zxcvbn-ts/core') as typeof import('@zxcvbn-ts/core');
    const common = require('@zxcvbn-ts/language-common') as typeof import('@zxcvbn-ts/language-common');
    const en = require('@zxcvbn-ts/language-en') as typeof import('@zxcvbn-ts/language-en');
    estimator = new Factory({
      dictionary: { ...common.dictionary, ...en.dictionary },
      graphs: common.adjacencyGraphs,
      translations: en.translations,
      maxLength: 64,
      l33tMaxSubstitutions: 5,
    });
  }
  return estimator;
}

/**
 * Why a password is too easy to guess, or undefined when it is not. `userInputs` are the owner's own details (names,
 * e-mail address): an attacker tries them first, so a password built from them scores lower. The message is zxcvbn's
 * own advice when it has some, so the owner learns what to change.
 */
export function passwordWeakness(password: string, userInputs: readonly string[] = []): string | undefined {
  // Whole inputs and their words: zxcvbn finds a user input only as a whole, and "ada.lovelace@example.com" is more
  // likely in a password as "lovelace". Words under 3 characters would make every password look a little weaker.
  const words = userInputs.flatMap((input) => [input, ...input.split(/[^\p{L}\p{N}]+/u)]);
  const inputs = [...new Set(words.map((word) => word.toLowerCase()).filter((word) => word.length >= 3))];
  const { score, feedback } = zxcvbn().check(password, inputs);
  if (score >= MIN_PASSWORD_SCORE) return undefined;
  const advice = [feedback.warning, ...feedback.suggestions].filter(Boolean).join(' ');
  return `too easy to guess. ${advice || 'Add more words that are less common, or make it longer.'}`;
}
