import RE2 from 're2';

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

/** Why a pattern cannot be saved, or undefined when it can. */
export function emailRequirementProblem(pattern: string): string | undefined {
  if (pattern.length > MAX_PATTERN_LENGTH) return `is longer than ${MAX_PATTERN_LENGTH} characters`;
  try {
    compile(pattern);
  } catch (error) {
    return `is not a regular expression this service runs (RE2 syntax: no look-arounds or back-references): ${(error as Error).message}`;
  }
  // Loaded on first use: only the settings API needs the analyser (31 MiB), not every worker and API process.
  const { checkSync } = require('recheck') as typeof import('recheck');
  const diagnosis = checkSync(pattern, 'iu', { timeout: 2_000 });
  if (diagnosis.status === 'vulnerable') {
    const where = diagnosis.hotspot.map((spot) => pattern.slice(spot.start, spot.end)).join(', ');
    return `can take ${diagnosis.complexity.type} time on some inputs (catastrophic backtracking${where ? ` in ${where}` : ''}); rewrite it without nested or overlapping repetition`;
  }
  return undefined;
}

/** Whether an address meets a requirement (empty accepts every address); linear time in the address. */
export function emailMeetsRequirement(requirement: string | null, email: string): boolean {
  return !requirement || compile(requirement).test(email);
}
