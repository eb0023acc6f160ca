import {
  ActivityFailure,
  ApplicationFailure,
  ApplicationFailureCategory,
  ChildWorkflowFailure,
} from '@temporalio/common';

/**
 * The domain errors the clients rely on (docs/api.md lists them). Workflows and activities raise them as non-retryable
 * ApplicationFailures whose type is the code; services/errors.ts maps them to HTTP in one place.
 */
export const ERROR_CODES = [
  'invalid_request',
  'not_found',
  'self_service_disabled',
  'organisation_required',
  'organisation_not_found',
  'organisation_disabled',
  'email_not_allowed',
  'invalid_code',
  'code_expired',
  'too_many_attempts',
  'wrong_step',
  'busy',
  'platform_not_available',
  'phone_required',
  'invalid_phone',
  'account_exists',
  'link_not_found',
  'link_expired',
  'link_used',
  'registration_expired',
  'registration_complete',
  'unauthorized',
  'forbidden',
  'template_in_use',
  'organisation_exists',
  'invalid_credentials',
  'device_limit_reached',
  'device_not_found',
  'unavailable',
  'enrolment_not_found',
  'udid_in_use',
  'invalid_signature',
  'stale_event',
  'replayed_event',
  'unsupported_media_type',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface DomainErrorDetails {
  retryAfterSeconds?: number;
}

export function domainError(code: ErrorCode, message: string, details?: DomainErrorDetails): ApplicationFailure {
  // Benign: a refused step is the product working, not a fault worth a warning in the worker's log.
  return ApplicationFailure.create({
    type: code,
    message,
    nonRetryable: true,
    details: details ? [details] : [],
    category: ApplicationFailureCategory.BENIGN,
  });
}

export function isDomainCode(type: string | undefined | null): type is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(type ?? '');
}

/**
 * An activity's domain error arrives wrapped in an ActivityFailure; an update handler rethrows the domain error itself
 * so the update fails with the code the client relies on (any other error propagates unchanged).
 */
export function unwrapDomainError(error: unknown): unknown {
  const cause = error instanceof ActivityFailure || error instanceof ChildWorkflowFailure ? error.cause : undefined;
  return cause instanceof ApplicationFailure && isDomainCode(cause.type) ? cause : error;
}
