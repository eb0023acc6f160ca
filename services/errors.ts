import { ServiceError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { ZodError } from 'zod';
import { type DomainErrorDetails, type ErrorCode, isDomainCode } from '../domain/errors';

/**
 * The one place that says what went wrong in the contract's terms: a code, a message and the HTTP status it stands for.
 * The JSON API (api/errors.ts) and the web pages (web/problems.ts) both answer from it.
 */

const STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  not_found: 404,
  self_service_disabled: 403,
  organisation_required: 400,
  organisation_not_found: 404,
  organisation_disabled: 403,
  email_not_allowed: 403,
  invalid_code: 400,
  code_expired: 410,
  too_many_attempts: 429,
  wrong_step: 409,
  busy: 409,
  platform_not_available: 409,
  phone_required: 400,
  invalid_phone: 400,
  account_exists: 409,
  link_not_found: 404,
  link_expired: 410,
  link_used: 410,
  registration_expired: 410,
  registration_complete: 410,
  unauthorized: 401,
  forbidden: 403,
  template_in_use: 409,
  organisation_exists: 409,
  invalid_credentials: 401,
  device_limit_reached: 409,
  device_not_found: 404,
  unavailable: 503,
  enrolment_not_found: 404,
  udid_in_use: 409,
  invalid_signature: 401,
  stale_event: 400,
  replayed_event: 409,
  unsupported_media_type: 415,
};

/** A domain error raised in the API itself (workflows and activities raise ApplicationFailures). */
export class HttpError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: DomainErrorDetails = {},
  ) {
    super(message);
  }
}

export interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
  retryAfterSeconds?: number;
}

function domainAnswer(code: ErrorCode, message: string, details?: DomainErrorDetails): ErrorAnswer {
  return { status: STATUS[code], code, message, retryAfterSeconds: details?.retryAfterSeconds };
}

/** The status, code and message for an error the contract knows; undefined for a fault (a 500). */
export function describeError(error: unknown): ErrorAnswer | undefined {
  if (error instanceof HttpError) return domainAnswer(error.code, error.message, error.details);
  if (error instanceof WorkflowUpdateFailedError) return describeError(error.cause);
  if (error instanceof ApplicationFailure && isDomainCode(error.type)) {
    return domainAnswer(error.type, error.message, error.details?.[0] as DomainErrorDetails | undefined);
  }
  if (error instanceof ZodError) {
    const problems = error.issues.map(
      (issue) => (issue.path.length ? `${issue.path.join('.')}: ` : '') + issue.message,
    );
    return { status: 400, code: 'invalid_request', message: problems.join('; ') };
  }
  if (error instanceof WorkflowNotFoundError) return domainAnswer('not_found', 'There is no such registration.');
  const bodyParserType = (error as { type?: string }).type;
  if (bodyParserType === 'entity.too.large') {
    return { status: 413, code: 'payload_too_large', message: 'The request body is too large.' };
  }
  if (bodyParserType === 'entity.parse.failed' || bodyParserType === 'encoding.unsupported') {
    return { status: 400, code: 'invalid_request', message: 'The request body is not valid JSON.' };
  }
  if (error instanceof ServiceError) {
    return { status: 503, code: 'unavailable', message: 'The service is busy or restarting; try again shortly.' };
  }
  return undefined;
}
