import cookieParser from 'cookie-parser';
import express, { type CookieOptions, type Request, type Response } from 'express';
import type { Secrets } from '../lib/secrets';
import { registrationLimiter } from '../services/attempts';
import { HttpError } from '../services/errors';
import { organisationForm } from '../services/schemas';
import { csrfProtection } from './csrf';

/** What every group of form pages parses a request with: cookies, a small urlencoded body, and the CSRF check. */
export function formParsing(secrets: Secrets, csrfCookie: CookieOptions) {
  return [
    cookieParser(),
    express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 }),
    csrfProtection(secrets, csrfCookie),
  ];
}

/** The per-address limit of the JSON API, awaited inside a page's handler so a refusal lands on the form. */
export function pageLimit(perMinute: number, what?: string) {
  const limiter = registrationLimiter(perMinute, what);
  return (req: Request, res: Response) =>
    new Promise<void>((resolve, reject) => limiter(req, res, (error?: unknown) => (error ? reject(error) : resolve())));
}

/** The organisation in the path; a malformed one is as unknown as a missing one. */
export function organisationIn(req: Request): string {
  const slug = organisationForm.shape.organisation.safeParse(req.params.organisation);
  if (!slug.success) throw new HttpError('organisation_not_found', 'There is no organisation with that name.');
  return slug.data;
}
