import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigurationError, loadConfig } from '../../lib/config';

describe('the configuration: payloads without our encryption', () => {
  // loadConfig keeps the installation's generated secrets in the data folder.
  const dir = mkdtempSync(path.join(tmpdir(), 'sss-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives way to TEMPORAL_PLAINTEXT_PAYLOADS, which takes refuse or accept only', () => {
    const env = { DATA_DIR: dir, APPLE_ENROLMENT: 'off' };
    expect(loadConfig(env).plaintextPayloads).to.equal(undefined);
    expect(loadConfig({ ...env, TEMPORAL_PLAINTEXT_PAYLOADS: 'accept' }).plaintextPayloads).to.equal('accept');
    expect(() => loadConfig({ ...env, TEMPORAL_PLAINTEXT_PAYLOADS: 'yes' }))
      .to.throw(ConfigurationError)
      .with.property('message')
      .that.includes('TEMPORAL_PLAINTEXT_PAYLOADS');
  });
});
