import type { ErrorRequestHandler, Request, Response } from 'express';
import type { Logger } from 'pino';
import { describeError, type ErrorAnswer } from '../services/errors';
import type { Page } from './views/document';
import { problemPage } from './views/problem';

interface PageProblem {
  title: string;
  /** What the owner can do about it. */
  advice?: string;
  next?: (organisation?: string) => { href: string; text: string };
}

const ASK_IT = 'Ask your IT team how to get your device set up.';

/** Codes after which the flow cannot go on from the form the owner is on: they get a page of their own. */
const PAGE_PROBLEMS: Record<string, PageProblem> = {
  self_service_disabled: { title: 'Device setup is switched off', advice: `Try again later. ${ASK_IT}` },
  organisation_not_found: {
    title: 'Organisation not found',
    advice: 'Check the address you were given.',
    next: () => ({ href: '/setup', text: 'Enter your organisation' }),
  },
  organisation_disabled: { title: 'Registrations are closed', advice: ASK_IT },
  registration_complete: {
    title: 'Your registration is complete',
    next: (organisation) =>
      organisation ? { href: `/setup/${organisation}/sign-in`, text: 'Sign in' } : { href: '/setup', text: 'Sign in' },
  },
  registration_expired: {
    title: 'Your registration has expired',
    next: (organisation) => ({ href: `/setup/${organisation ?? ''}`, text: 'Start again' }),
  },
  forbidden: {
    title: 'This form has expired',
    next: (organisation) => ({ href: `/setup/${organisation ?? ''}`, text: 'Go back to the start' }),
  },
  not_found: { title: 'Page not found', next: () => ({ href: '/setup', text: 'Go to the start' }) },
  unavailable: { title: 'Please try again in a moment' },
  internal_error: { title: 'Something went wrong' },
};

/** Whether a refusal belongs on the form the owner sent (a field, or the whole form) rather than a page of its own. */
const isFormProblem = (answer: ErrorAnswer) => answer.status < 500 && !(answer.code in PAGE_PROBLEMS);

/** The sentence a form shows for a refusal, with how long to wait when waiting helps. */
export const refusalMessage = ({ message, retryAfterSeconds }: ErrorAnswer) =>
  retryAfterSeconds === undefined
    ? message
    : `${message} You can try again in ${retryAfterSeconds} ${retryAfterSeconds === 1 ? 'second' : 'seconds'}.`;

export const UNEXPECTED: ErrorAnswer = {
  status: 500,
  code: 'internal_error',
  message: 'Something went wrong on our side. It has been logged; please try again later.',
};

/**
 * The last handler of a group of pages: `show` draws the page of what went wrong. An error nobody expected is logged
 * first, with the request it broke.
 */
export const errorPages =
  (logger: Logger, show: (answer: ErrorAnswer, req: Request, res: Response) => void): ErrorRequestHandler =>
  (error, req, res, _next) => {
    const answer = describeError(error) ?? UNEXPECTED;
    // The whole path (a group mounted at /provision sees only what follows it): the log's redaction needs the prefix.
    const path = req.baseUrl + req.path;
    if (answer === UNEXPECTED) logger.error({ err: error, method: req.method, path }, 'unexpected error');
    show(answer, req, res);
  };

export function problemPageOf(answer: ErrorAnswer, organisation?: string): Page {
  const problem = PAGE_PROBLEMS[answer.code] ?? { title: 'We could not do that' };
  return problemPage({
    title: problem.title,
    message: answer.message,
    advice: problem.advice,
    next: problem.next?.(organisation),
  });
}

/** The refusal to show on the form that was sent; anything else (a page-level problem, a fault) goes on to the error page. */
export function formRefusal(error: unknown): ErrorAnswer {
  const answer = describeError(error);
  if (!answer || !isFormProblem(answer)) throw error;
  return answer;
}

/** A wrong, expired or used-up code: wherever a code is entered, these refusals are about its field. */
export const CODE_FIELDS: Partial<Record<string, string>> = {
  invalid_code: 'code',
  code_expired: 'code',
  too_many_attempts: 'code',
};
