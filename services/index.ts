import { createAppleEnrolment } from '../platforms/apple/enrolment';
import { createMdmEvents } from '../platforms/external-mdm/events';
import { createSettings } from './admin/settings';
import { createAttemptLimits } from './attempts';
import type { ServiceDeps } from './context';
import { createDeviceLimits } from './device-limits';
import { createOwnerAccounts } from './owners/accounts';
import { createOwnerDevices } from './owners/devices';
import { createPasswordWork } from './password-work';
import { createProvisioning } from './provisioning';
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
  const provisioning = createProvisioning(deps);
  const deviceLimits = createDeviceLimits(deps, guards.attempts);
  return {
    registrations: createRegistrationService(deps, { ...guards, deviceLimits }, provisioning),
    owners: {
      accounts: createOwnerAccounts(deps, guards),
      devices: createOwnerDevices(deps, provisioning, deviceLimits),
    },
    apple: createAppleEnrolment(deps),
    provisioning,
    mdmEvents: createMdmEvents(deps, provisioning),
    /** The supervisor's and managers' settings: the settings API and the admin pages. */
    settings: createSettings(deps),
  };
}

export type Services = ReturnType<typeof createServices>;
