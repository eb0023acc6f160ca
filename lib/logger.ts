import pino, { type Logger } from 'pino';

/**
 * The one logger of every process. Log lines leave the trust boundary (log shippers, support tickets), so pino's own
 * redaction takes out what would let a reader act as someone: live link tokens, registration ids, verification codes,
 * and SQL values. Redaction is by key; a value logged under another key is not seen, so callers log request paths as
 * `path` or `url` and errors as `err`.
 */

export const REDACTED = '[redacted]';

/** The path segment after these is a credential: `/provision/<token>(/checkin)`, `/registrations/<id>/…`. */
const SECRET_SEGMENT = /(\/(?:provision|registrations)\/+)[^/?#]+/gi;
/** Every query value: the one-click link's `registration` and `code`, and whatever a later link carries. */
const QUERY_VALUE = /([?&][^=&#]*=)[^&#]*/g;

/** A path or URL with its credentials replaced and its shape kept, so the log still tells which route failed. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_SEGMENT, `$1${REDACTED}`).replace(QUERY_VALUE, `$1${REDACTED}`);
}

const URL_KEYS = new Set(['path', 'url']);

/**
 * What a Sequelize error carries besides its message: the statement (v6 inlines values into it for many queries), its
 * bound parameters, Postgres's `detail` ("Key (email)=(…) already exists"), and the values and rows of the fields that
 * failed. pino's error serializer copies `original`/`parent` as errors of their own and the items of `errors` both as
 * they are and as `aggregateErrors`, hence each place.
 */
const SQL_PATHS = [
  ...['err', 'err.original', 'err.parent'].flatMap((error) => [
    `${error}.sql`,
    `${error}.parameters`,
    `${error}.detail`,
  ]),
  ...['err.fields', 'err.value', 'err.values', 'err.where', 'err.instance'],
  ...['err.errors', 'err.aggregateErrors'].flatMap((items) => [`${items}[*].value`, `${items}[*].instance`]),
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
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
