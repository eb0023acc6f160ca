import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createLogger } from '../lib/logger';
import { ANDROID_DEVICE } from './support/flow';
import { memoryLog } from './support/memory-log';
import { type ApiUnderTest, type HttpAnswer, system } from './support/system';

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
});
