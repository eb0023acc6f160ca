import { createAppleEnrolment } from '../platforms/apple/enrolment';
import { createMdmEvents } from '../platforms/external-mdm/events';
import { createAdminAccounts } from './admin/admins';
import { createApiTokens } from './admin/api-tokens';
import { createDeviceAdmin } from './admin/devices';
import { createInvitationAcceptance, createInvitations } from './admin/invitations';
import { createRegistrationAdmin } from './admin/registrations';
import { createSettings } from './admin/settings';
import { createAdminSetup } from './admin/setup';
import { type AttemptLimits, createAttemptLimits } from './attempts';
import type { ServiceDeps } from './context';
import { createDeviceLimits } from './device-limits';
import { createOwnerAccounts } from './owners/accounts';
import { createOwnerDevices, type OwnerDevices } from './owners/devices';
import { createPasswordWork, type PasswordWork } from './password-work';
import { createProvisioning } from './provisioning';
import { createRegistrationService } from './registrations';

/**
 * The domain operations both front ends call (the JSON API in api/, the pages in web/), built once per process so that
 * they share their guards: the attempt counters and the bounded password-hashing queue, which owners' and admins'
 * passwords alike wait in (two queues would take every thread of libuv's pool, which sqlite3 and the files share).
 */
export function createServices(deps: ServiceDeps) {
  const guards = {
    attempts: createAttemptLimits(deps.rateLimitStore),
    passwords: createPasswordWork(deps.config.limits.hashingQueue),
  };
  const provisioning = createProvisioning(deps);
  const deviceLimits = createDeviceLimits(deps, guards.attempts);
  const owners = {
    accounts: createOwnerAccounts(deps, guards),
    devices: createOwnerDevices(deps, provisioning, deviceLimits),
  };
  return {
    registrations: createRegistrationService(deps, { ...guards, deviceLimits }, provisioning),
    owners,
    apple: createAppleEnrolment(deps),
    provisioning,
    mdmEvents: createMdmEvents(deps, provisioning),
    admin: createAdminServices(deps, guards, owners.devices),
  };
}

/**
 * The supervisors' and managers' services: the admin console's (web/admin/) and the settings API's (api/settings.ts),
 * over the owners' own paths where an operator acts for an owner (a device's new link, its removal).
 */
function createAdminServices(
  deps: ServiceDeps,
  { attempts, passwords }: { attempts: AttemptLimits; passwords: PasswordWork },
  ownerDevices: OwnerDevices,
) {
  const apiTokens = createApiTokens(deps);
  const settings = createSettings(deps, apiTokens);
  const accounts = createAdminAccounts(deps, { attempts, passwords });
  const invitations = createInvitations(deps);
  return {
    apiTokens,
    settings,
    accounts,
    setup: createAdminSetup(deps, { passwords, admins: accounts }),
    invitations,
    invitationAcceptance: createInvitationAcceptance(deps, { invitations, passwords, admins: accounts }),
    registrations: createRegistrationAdmin(deps, settings),
    devices: createDeviceAdmin(deps, { settings, ownerDevices }),
  };
}

export type Services = ReturnType<typeof createServices>;
/** The admin console's and the settings API's services. */
export type AdminServices = Services['admin'];
