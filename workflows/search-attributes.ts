import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** What operators search registrations and devices by in the Temporal Web UI; the only data left in clear. */
export const ORGANISATION = defineSearchAttributeKey('Organisation', SearchAttributeType.KEYWORD);
export const REGISTRATION_EMAIL = defineSearchAttributeKey('RegistrationEmail', SearchAttributeType.KEYWORD);
export const REGISTRATION_STEP = defineSearchAttributeKey('RegistrationStep', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [ORGANISATION, REGISTRATION_EMAIL, REGISTRATION_STEP];
