import type { Request } from 'express';
import { HttpError } from './errors';

/** The bearer token of a request; absent or malformed is `401 unauthorized`. */
export function bearerToken(req: Request): string {
  const match = /^Bearer ([A-Za-z0-9_-]{16,512})$/.exec(req.get('authorization') ?? '');
  if (!match) throw new HttpError('unauthorized', 'Send the registration token as "Authorization: Bearer <token>".');
  return match[1] as string;
}
