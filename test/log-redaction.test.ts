import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { DatabaseError, UniqueConstraintError } from 'sequelize';
import { createLogger, temporalLogger } from '../lib/logger';
import { ANDROID_DEVICE } from './support/flow';
import { type ApiUnderTest, type HttpAnswer, system } from './support/system';

/** A log destination that keeps every line, to read back what would have reached the operator. */
function memoryLog() {
  const lines: string[] = [];
  return {
    lines,
    stream: { write: (line: string) => void lines.push(line) },
    entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('logs: no token, code, registration id or SQL value in clear', () => {
  const log = memoryLog();
  let api: ApiUnderTest;

  before(async () => {
    api = await system().startApi({ logger: createLogger('info', log.stream) });
  });
  after(() => api.close());

  it('logs a fault on a provisioning link with the route shape but without the token or the SQL', async () => {
    const token = system().secrets.linkToken(randomUUID(), 1);
    const hash = system().secrets.keyedHash('link', token);
    const { sequelize } = system().db;
    log.lines.length = 0;

    // A real fault on the lookup of an unknown link: its second query (is it a retired link?) meets a missing table, a
    // Sequelize DatabaseError whose SQL has the link's hash inlined. Only replacing a link writes that table, and no
    // test does while this one runs. (A second database would not do: the models are bound to one Sequelize at a time.)
    await sequelize.getQueryInterface().renameTable('retired_links', 'retired_links_hidden_by_log_test');
    let checkIn: HttpAnswer;
    let page: HttpAnswer;
    try {
      // A device policy app's check-in, as an Android device sends it.
      checkIn = await api.call('POST', `/api/provision/${token}/checkin`, { body: { deviceInfo: ANDROID_DEVICE } });
      page = await api.call('GET', `/provision/${token}`);
    } finally {
      await sequelize.getQueryInterface().renameTable('retired_links_hidden_by_log_test', 'retired_links');
    }
    expect([checkIn.status, checkIn.body?.error?.code]).to.deep.equal([500, 'internal_error']);
    expect(page.status).to.equal(500);

    const faults = log.entries().filter((entry) => entry.msg === 'unexpected error');
    expect(faults.map((entry) => entry.path)).to.deep.equal([
      '/api/provision/[redacted]/checkin',
      '/provision/[redacted]',
    ]);
    for (const fault of faults) {
      const err = fault.err as Record<string, Record<string, unknown>>;
      // Still useful: what failed, and where.
      expect(err.message).to.include('no such table: retired_links');
      expect(err.sql).to.equal('[redacted]');
      expect(err.original?.sql).to.equal('[redacted]');
      expect(err.parent?.sql).to.equal('[redacted]');
    }
    const text = log.lines.join('');
    expect(text).not.to.include(token);
    expect(text).not.to.include(hash);
  });

  it('redacts SQL, its parameters and the values of Sequelize errors, and ids and codes in paths and URLs', async () => {
    const out = memoryLog();
    const logger = createLogger('info', out.stream);
    const secret = `leak-${randomUUID()}`;
    const registration = system().secrets.registrationId(`registration-${secret}`);
    // A real UniqueConstraintError: its items carry the value and the whole row being written.
    await system().db.models.Organisation.create({ slug: secret, name: secret });
    const unique = await system()
      .db.models.Organisation.create({ slug: secret, name: secret })
      .catch((error) => error);
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
