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

describe('the configuration: Apple enrolment in a deployment', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sss-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const key = 'a-key-of-sixteen-characters-or-more';
  const engines = {
    DATA_DIR: dir,
    NANOMDM_URL: 'http://127.0.0.1:9000',
    NANOMDM_API_KEY: key,
    NANOMDM_WEBHOOK_KEY: key,
    SCEP_URL: 'http://127.0.0.1:9001/scep',
    SCEP_VERIFY_KEY: key,
  };

  it('refuses an http PUBLIC_URL, naming it, since Apple devices enrol only over https', () => {
    expect(() => loadConfig({ ...engines, PUBLIC_URL: 'http://setup.example.com' }))
      .to.throw(ConfigurationError)
      .with.property('message')
      .that.includes('PUBLIC_URL is http://setup.example.com');
  });

  it('takes an https PUBLIC_URL, and a loopback one for tests on this machine', () => {
    for (const url of ['https://setup.example.com', 'http://127.0.0.1:8080', 'http://localhost:3000']) {
      expect(loadConfig({ ...engines, PUBLIC_URL: url }).apple.mode).to.equal('external');
    }
  });
});
