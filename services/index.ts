import { createAppleEnrolment } from './apple-enrolment';
import { createAttemptLimits } from './attempts';
import type { ServiceDeps } from './context';
import { createOwnerDevices } from './owner-devices';
import { createOwnerAccounts } from './owners';
import { createPasswordWork } from './password-work';
import { createRegistrationService } from './registrations';

/**
 * The domain operations both front ends call (the JSON API in api/, the pages in web/), built once per process so that
 * they share their guards: the attempt counters and the bounded password-hashing queue.
 */
export function createServices(deps: ServiceDeps) {
  const guards = {
    attempts: createAttemptLimits(deps.rateLimitStore),
    passwords: createPasswordWork(deps.config.limits.hashingQueue),
  };
  return {
    registrations: createRegistrationService(deps, guards),
    owners: { accounts: createOwnerAccounts(deps, guards), devices: createOwnerDevices(deps) },
    apple: createAppleEnrolment(deps),
  };
}

export type Services = ReturnType<typeof createServices>;
