import { type LocalActivityOptions, patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';

/** Database work a waiting owner or device depends on: a few quick retries, then an answer. */
export const STEP_ACTIVITY_OPTIONS: LocalActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', maximumInterval: '2s', maximumAttempts: 5 },
};

/**
 * Runs started before this patch scheduled step work as ordinary activities and always armed a timer while verifying;
 * they replay on that path (test/histories/before-encryption/). New runs use local activities and no idle timer.
 * Remove the old path with `deprecatePatch` once no registration older than the change can still be open.
 */
export const LEAN_STEPS_PATCH = 'lean-steps-v1';

/** Step activities as this run was started with: local ones for new runs, ordinary ones for runs before the patch. */
export function stepActivities<A extends object>(): A {
  return (patched(LEAN_STEPS_PATCH) ? localSteps : remoteSteps) as unknown as A;
}

const localSteps = proxyLocalActivities(STEP_ACTIVITY_OPTIONS);
const remoteSteps = proxyActivities(STEP_ACTIVITY_OPTIONS);

/** Compares two hashes without an early exit, so timing tells nothing about how much of a guess was right. */
export function constantTimeEqual(a: string, b: string): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    difference |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  }
  return difference === 0;
}
