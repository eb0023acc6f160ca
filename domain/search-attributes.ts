import { defineSearchAttributeKey, type SearchAttributePair, SearchAttributeType } from '@temporalio/common';

/** What operators search registrations and devices by in the Temporal Web UI; the only data left in clear. */
export const ORGANISATION = defineSearchAttributeKey('Organisation', SearchAttributeType.KEYWORD);
export const REGISTRATION_EMAIL = defineSearchAttributeKey('RegistrationEmail', SearchAttributeType.KEYWORD);
export const REGISTRATION_STEP = defineSearchAttributeKey('RegistrationStep', SearchAttributeType.KEYWORD);
/**
 * The furthest step a registration reached (`profile` … `done`), kept when it expires or goes back to choose a device
 * again: what the admin console's funnel counts. Absent until the first step is passed, and in runs before it.
 */
export const REGISTRATION_REACHED = defineSearchAttributeKey('RegistrationReached', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [ORGANISATION, REGISTRATION_EMAIL, REGISTRATION_STEP, REGISTRATION_REACHED];

/** The search attributes a run of any self-service workflow starts with: whose it is, and (for some) its step. */
export function searchAttributesOf(organisation: string, email: string, step?: string): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [
    { key: ORGANISATION, value: organisation },
    { key: REGISTRATION_EMAIL, value: email },
  ];
  return step === undefined ? pairs : [...pairs, { key: REGISTRATION_STEP, value: step }];
}
