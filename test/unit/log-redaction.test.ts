import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { DatabaseError, UniqueConstraintError } from 'sequelize';
import { type Database, openDatabase } from '../../db';
import { createLogger, temporalLogger } from '../../lib/logger';
import { createSecrets } from '../../lib/secrets';
import { memoryLog } from '../support/memory-log';

/** lib/logger.ts's redaction, on real Sequelize errors from a database in memory (the system lane logs a real API). */
describe('logs: no code, registration id or SQL value in clear', () => {
  const secrets = createSecrets(Buffer.from('a secret for the unit lane only, 32+ bytes'));
  let db: Database;
  before(async () => {
    db = await openDatabase('sqlite::memory:');
  });
  after(() => db.close());

  it('redacts SQL, its parameters and the values of Sequelize errors, and ids and codes in paths and URLs', async () => {
    const out = memoryLog();
    const logger = createLogger('info', out.stream);
    const secret = `leak-${randomUUID()}`;
    const registration = secrets.registrationId(`registration-${secret}`);
    // A real UniqueConstraintError: its items carry the value and the whole row being written.
    await db.models.Organisation.create({ slug: secret, name: secret });
    const unique = await db.models.Organisation.create({ slug: secret, name: secret }).catch((error) => error);
    expect(unique).to.be.instanceOf(UniqueConstraintError);
    // Postgres's shape (SQLite leaves them out): the bound parameters on the error and on the driver's error.
    const database = new DatabaseError(
      Object.assign(new Error('canceling statement due to statement timeout'), {
        sql: 'SELECT * FROM "users" WHERE "email" = $1',
        parameters: [secret],
      }),
    );

    for (const err of [unique, database]) {
      logger.error(
        {
          err,
          method: 'POST',
          path: `/api/setup/registrations/${registration}/verify`,
          url: `/setup/verify?registration=${registration}&code=123456`,
        },
        'unexpected error',
      );
    }

    // The worker's runtime logger, as it reports an activity that failed: the error under `error`.
    temporalLogger(logger).warn('Activity failed', { activityType: 'createAccount', error: unique });

    const text = out.lines.join('');
    expect(text).not.to.include(secret);
    expect(text).not.to.include(registration);
    expect(text).not.to.include('123456');
    const [first, second] = out.entries() as Array<Record<string, unknown> & { err: Record<string, unknown> }>;
    expect(first.path).to.equal('/api/setup/registrations/[redacted]/verify');
    expect(first.url).to.equal('/setup/verify?registration=[redacted]&code=[redacted]');
    expect(first.err).to.include({ type: 'UniqueConstraintError', sql: '[redacted]' });
    expect(JSON.stringify(first.err.errors)).to.include('slug must be unique');
    expect(second.err).to.include({ type: 'DatabaseError', sql: '[redacted]', parameters: '[redacted]' });
    expect(second.err.message).to.equal('canceling statement due to statement timeout');
    const third = out.entries()[2] as Record<string, unknown> & { error: Record<string, unknown> };
    expect(third).to.include({ msg: 'Activity failed', activityType: 'createAccount', level: 40 });
    expect(third.error).to.include({ type: 'UniqueConstraintError', sql: '[redacted]' });
    // Redaction works on the log line only: the error itself is left as it was.
    expect(unique.errors[0].value).to.equal(secret);
  });
});
