import cookieParser from 'cookie-parser';
import express, { type CookieOptions, type Request, type Response } from 'express';
import { ZodError, type ZodType, z } from 'zod';
import type { Secrets } from '../lib/secrets';
import { perAddressLimiter } from '../services/attempts';
import { type ErrorAnswer, HttpError } from '../services/errors';
import { organisationForm } from '../services/schemas';
import { refuseNul } from '../services/text-input';
import { csrfProtection } from './csrf';
import { formRefusal, refusalMessage } from './problems';
import { FORM_ERROR, type FormState, refused, refusedWith } from './views/form';

/**
 * What every group of form pages parses a request with: cookies, a small urlencoded body (no NUL in it or the query),
 * and the CSRF check. The parameter limit fits the longest form, an Apple device template's (about 25 fields).
 */
export function formParsing(secrets: Secrets, csrfCookie: CookieOptions) {
  return [
    cookieParser(),
    express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 40 }),
    refuseNul,
    csrfProtection(secrets, csrfCookie),
  ];
}

/** A checkbox as a form sends it (web/views/form.ts: `checkbox`): "on" when ticked, left out when not. */
export const ticked = z.literal('on').optional().transform(Boolean);

/** The per-address limit of the JSON API, awaited inside a page's handler so a refusal lands on the form. */
export function pageLimit(perMinute: number, what?: string) {
  const limiter = perAddressLimiter(perMinute, what);
  return (req: Request, res: Response) =>
    new Promise<void>((resolve, reject) => limiter(req, res, (error?: unknown) => (error ? reject(error) : resolve())));
}

/** The organisation in the path; a malformed one is as unknown as a missing one. */
export function organisationIn(req: Request): string {
  const slug = organisationForm.shape.organisation.safeParse(req.params.organisation);
  if (!slug.success) throw new HttpError('organisation_not_found', 'There is no organisation with that name.');
  return slug.data;
}

/** A form's POST, in the parts that differ from form to form. */
export interface FormAnswer<T> {
  schema: ZodType<T>;
  /** The form shown again with what was refused, under the status it was refused with. */
  again: (state: FormState, status: number) => unknown;
  /** Does what the form asks, and names the page to go on to. */
  run: (input: T) => Promise<string>;
  /** The field a refusal is about, by its code; any other refusal is about the whole form. */
  fields?: Partial<Record<string, string>>;
}

/**
 * POST/redirect/GET, so the pages work without JavaScript and a reload never sends a form twice. A refusal the person
 * can act on comes back on the form; anything else goes on to the error page.
 */
export async function answerForm<T>(
  req: Request,
  res: Response,
  { schema, again, run, fields = {} }: FormAnswer<T>,
): Promise<void> {
  const input = schema.safeParse(req.body ?? {});
  if (!input.success) {
    await again(refused(req.body, input.error), 400);
    return;
  }
  let next: string;
  try {
    next = await run(input.data);
  } catch (error) {
    // A service's refusal of one field (services/admin/settings.ts: `invalidField`) lands beside that field, as the schema's.
    if (error instanceof ZodError) {
      await again(refused(req.body, error), 400);
      return;
    }
    const answer = refusalOf(error, res);
    await again(refusedWith(req.body, fields[answer.code] ?? FORM_ERROR, refusalMessage(answer)), answer.status);
    return;
  }
  res.redirect(303, next);
}

/** A refusal to show on a form: its answer, with Retry-After when waiting helps (a code asked for too soon, say). */
export const refusalOf = (error: unknown, res: Response): ErrorAnswer => {
  const answer = formRefusal(error);
  if (answer.retryAfterSeconds !== undefined) res.set('Retry-After', String(answer.retryAfterSeconds));
  return answer;
};
