import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { describeError } from '../services/errors';

/** Every error of the JSON API in the contract's shape `{"error": {"code", "message"}}`; a fault is a logged 500. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const answer = describeError(error);
    // The path can hold a link token or a registration id: the logger (lib/logger.ts) redacts it by its key, `path`.
    if (!answer) logger.error({ err: error, method: req.method, path: req.path }, 'unexpected error');
    const { status, code, message, retryAfterSeconds } = answer ?? {
      status: 500,
      code: 'internal_error',
      message: 'Something went wrong on our side. It has been logged.',
    };
    if (retryAfterSeconds !== undefined) res.set('Retry-After', String(retryAfterSeconds));
    res.status(status).json({ error: { code, message } });
  };
}
