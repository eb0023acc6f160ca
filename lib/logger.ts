import { DefaultLogger, type LogLevel } from '@temporalio/worker';
import pino, { type Logger } from 'pino';

/**
 * The one logger of every process. Log lines leave the trust boundary (log shippers, support tickets), so pino's own
 * redaction takes out what would let a reader act as someone: live link tokens, registration ids, verification codes,
 * and SQL values. Redaction is by key; a value logged under another key is not seen, so callers log request paths as
 * `path` or `url` and errors as `err`.
 */

export const REDACTED = '[redacted]';

/**
 * The path segment after these is a credential: `/provision/<token>(/checkin)`, `/registrations/<id>/…`,
 * `/admin/setup/<token>`, `/admin/invitations/<id>`; an invitation's link has its token next (INVITATION_TOKEN).
 */
const SECRET_SEGMENT = /(\/(?:provision|registrations|admin\/setup|admin\/invitations)\/+)[^/?#]+/gi;
const INVITATION_TOKEN = /(\/admin\/invitations\/+[^/?#]+\/+)[^/?#]+/gi;
/** Every query value: the one-click link's `registration` and `code`, and whatever a later link carries. */
const QUERY_VALUE = /([?&][^=&#]*=)[^&#]*/g;

/** A path or URL with its credentials replaced and its shape kept, so the log still tells which route failed. */
export function redactUrl(url: string): string {
  return url
    .replace(INVITATION_TOKEN, `$1${REDACTED}`)
    .replace(SECRET_SEGMENT, `$1${REDACTED}`)
    .replace(QUERY_VALUE, `$1${REDACTED}`);
}

const URL_KEYS = new Set(['path', 'url']);

/**
 * What a Sequelize error carries besides its message: the statement (v6 inlines values into it for many queries), its
 * bound parameters, Postgres's `detail` ("Key (email)=(…) already exists"), and the values and rows of the fields that
 * failed. pino's error serializer copies `original`/`parent` as errors of their own and the items of `errors` both as
 * they are and as `aggregateErrors`, hence each place.
 */
const sqlPathsUnder = (root: string) => [
  ...[root, `${root}.original`, `${root}.parent`].flatMap((error) => [
    `${error}.sql`,
    `${error}.parameters`,
    `${error}.detail`,
  ]),
  ...['fields', 'value', 'values', 'where', 'instance'].map((field) => `${root}.${field}`),
  ...['errors', 'aggregateErrors'].flatMap((items) => [`${root}.${items}[*].value`, `${root}.${items}[*].instance`]),
];
/** Our own log calls put errors under `err`; Temporal's worker (an activity that failed) puts them under `error`. */
const ERROR_KEYS = ['err', 'error'];
const SQL_PATHS = ERROR_KEYS.flatMap(sqlPathsUnder);

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      serializers: Object.fromEntries(ERROR_KEYS.map((key) => [key, pino.stdSerializers.err])),
      redact: {
        paths: [...URL_KEYS, ...SQL_PATHS],
        // Paths and URLs keep their route; everything else is dropped whole.
        censor: (value, path) =>
          path.length === 1 && URL_KEYS.has(path[0] ?? '') && typeof value === 'string' ? redactUrl(value) : REDACTED,
      },
    },
    destination,
  );
}

const TEMPORAL_LEVELS = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/** Temporal's runtime logger writing through ours, so its lines are redacted like every other. */
export function temporalLogger(logger: Logger): DefaultLogger {
  const level = (logger.level.toUpperCase() in TEMPORAL_LEVELS ? logger.level.toUpperCase() : 'ERROR') as LogLevel;
  return new DefaultLogger(level, ({ level: entryLevel, message, meta }) => {
    logger[TEMPORAL_LEVELS[entryLevel]]({ ...meta }, message);
  });
}
