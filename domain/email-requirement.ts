import RE2 from 're2';
import type { Diagnostics } from 'recheck';

/**
 * An organisation's e-mail requirement is a regular expression typed by a manager and run on every registration, so it
 * must never be able to hang the service. Two guards: matching runs on RE2 (linear time whatever the pattern, so
 * matching is bounded), and patterns a backtracking engine would explode on are refused when saved (recheck's
 * analysis), because such a pattern is a mistake the manager should hear about, and must stay safe wherever it is
 * copied to.
 */

const MAX_PATTERN_LENGTH = 500;
const compiled = new Map<string, RE2>();

function compile(pattern: string): RE2 {
  let regex = compiled.get(pattern);
  if (!regex) {
    regex = new RE2(pattern, 'iu');
    if (compiled.size > 1000) compiled.clear();
    compiled.set(pattern, regex);
  }
  return regex;
}

/** recheck's own budget for one analysis, and the bound on waiting for its answer whatever the analyser does. */
const ANALYSIS_MS = 2_000;
const ANSWER_WITHIN_MS = 3_000;

/**
 * Why a pattern cannot be saved, or undefined when it can. The analysis runs off the event loop (recheck's 'auto'
 * backend: its native agent as a child process, else a worker thread), so a pattern that takes seconds to analyse
 * holds up only the manager who saves it, not every request the process serves.
 */
export async function emailRequirementProblem(pattern: string): Promise<string | undefined> {
  if (pattern.length > MAX_PATTERN_LENGTH) return `is longer than ${MAX_PATTERN_LENGTH} characters`;
  try {
    compile(pattern);
  } catch (error) {
    return `is not a regular expression this service runs (RE2 syntax: no look-arounds or back-references): ${(error as Error).message}`;
  }
  const diagnosis = await analyse(pattern);
  // An analysis that does not finish in time is refused, not waved through: a vulnerable construct can be hidden from
  // the analysis by surrounding it with enough counted repetition ("(a+)+" after three "(?:[a-z]{1,20}[0-9]{1,20}){1,20}"
  // runs out of time), so accepting on timeout would let such a pattern through. No real e-mail requirement needs such a
  // pattern, and the manager can rewrite it.
  if (
    diagnosis === undefined ||
    (diagnosis.status === 'unknown' && ['timeout', 'cancel'].includes(diagnosis.error.kind))
  ) {
    return `could not be shown free of catastrophic backtracking within ${ANALYSIS_MS / 1000} s; simplify it (fewer counted or nested repetitions)`;
  }
  if (diagnosis.status === 'vulnerable') {
    const where = diagnosis.hotspot.map((spot) => pattern.slice(spot.start, spot.end)).join(', ');
    return `can take ${diagnosis.complexity.type} time on some inputs (catastrophic backtracking${where ? ` in ${where}` : ''}); rewrite it without nested or overlapping repetition`;
  }
  return undefined;
}

/**
 * recheck's diagnosis, or undefined when none came within ANSWER_WITHIN_MS. recheck's own timeout does not count time
 * queued behind other analyses, and its agent never answers if it dies, so the signal both cancels the analysis (the
 * agent stops, a worker thread is terminated) and ends the wait.
 */
async function analyse(pattern: string): Promise<Diagnostics | undefined> {
  // Loaded on first use: only the settings API needs the analyser (31 MiB), not every worker and API process.
  const { check } = require('recheck') as typeof import('recheck');
  const signal = AbortSignal.timeout(ANSWER_WITHIN_MS);
  const givenUp = new Promise<undefined>((resolve) =>
    signal.addEventListener('abort', () => resolve(undefined), { once: true }),
  );
  const answered = check(pattern, 'iu', { timeout: ANALYSIS_MS, signal }).catch(() => undefined);
  return Promise.race([answered, givenUp]);
}

/** Whether an address meets a requirement (empty accepts every address); linear time in the address. */
export function emailMeetsRequirement(requirement: string | null, email: string): boolean {
  return !requirement || compile(requirement).test(email);
}
