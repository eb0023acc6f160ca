import type { Models } from '../db/models';
import type { Secrets } from '../lib/secrets';
import { createMdmActivities } from '../platforms/apple/activities';
import type { AppleMdm } from '../platforms/apple/nanomdm';
import { createAccountActivities } from './accounts';
import { createAdminActivities } from './admins';
import { createDeviceActivities } from './devices';
import { createMailActivities, type Mailer } from './mail';
import { createSmsActivities, type SmsSender } from './sms';

export interface ActivityDeps {
  models: Models;
  mailer: Mailer;
  sms: SmsSender;
  secrets: Secrets;
  publicUrl: string;
  /** NanoMDM and the SCEP server, when Apple enrolment is on. */
  apple?: AppleMdm;
}

/** All activities, built over injected dependencies: the worker wires real clients, tests hand real parts on test ports. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createMailActivities(deps),
    ...createSmsActivities(deps),
    ...createAccountActivities(deps),
    ...createDeviceActivities(deps),
    ...createMdmActivities(deps),
    ...createAdminActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
