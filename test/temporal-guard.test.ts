import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { expect } from 'chai';
import { EncryptionCodec, encryptingDataConverter } from '../lib/codec';
import { freeLoopbackPort } from '../lib/loopback';
import { createWorker } from '../lib/worker';
import { eventually } from './support/eventually';
import { CODEC_KEYS, SUPERVISOR_TOKEN, system, TASK_QUEUE, TEST_TIMINGS } from './support/system';

/** `npm start`'s entry point as a child process in a fresh data folder; resolves with its exit code and stderr. */
function runAllInOne(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'main', 'all-in-one.ts')], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, APPLE_ENROLMENT: 'off', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 50_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stderr });
    }),
  );
}

/** Another process on a loopback port: a plain TCP listener, which accepts connections and says nothing. */
async function squat(): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer((socket) => socket.on('error', () => {}));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('npm start and a Temporal port another process holds', () => {
  const dataDirs: string[] = [];
  after(() => {
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });

  for (const setting of ['TEMPORAL_DEV_PORT', 'TEMPORAL_UI_PORT'] as const) {
    it(`stops in one line naming ${setting} when its port is taken, serving nothing`, async function () {
      this.timeout(60_000);
      const squatter = await squat();
      const dataDir = mkdtempSync(path.join(tmpdir(), 'sss-guard-'));
      dataDirs.push(dataDir);
      const [port, other] = [await freeLoopbackPort(), await freeLoopbackPort()];
      const ports = setting === 'TEMPORAL_DEV_PORT' ? [squatter.port, other] : [other, squatter.port];
      try {
        const { code, stderr } = await runAllInOne({
          DATA_DIR: dataDir,
          PORT: String(port),
          TEMPORAL_DEV_PORT: String(ports[0]),
          TEMPORAL_UI_PORT: String(ports[1]),
        });
        // Exited by itself with runMain's code for a configuration problem (not killed by runAllInOne's timer).
        expect(code, stderr).to.equal(1);
        const lines = stderr.split('\n').filter((line) => line.trim() !== '');
        expect(lines, stderr).to.have.length(1);
        expect(lines[0]).to.include(setting).and.include(`127.0.0.1:${squatter.port} is taken`);
        // No dev server was started (it would have made its database), and the API never listened.
        expect(existsSync(path.join(dataDir, 'temporal.db'))).to.equal(false);
        const answer = await fetch(`http://127.0.0.1:${port}/healthz`).catch((error: Error) => error);
        expect(answer).to.be.instanceOf(Error);
      } finally {
        await squatter.close();
      }
    });
  }
});

describe('payloads without our encryption', () => {
  /** Whoever reaches Temporal without our key: a client with the SDK's default converter (JSON in clear). */
  const plaintextClient = () => new Client({ connection: system().temporal.client.connection, namespace: 'default' });
  const started: WorkflowHandle[] = [];
  after(() => Promise.all(started.map((handle) => handle.terminate().catch(() => {}))));

  const startInClear = async (taskQueue: string) => {
    const handle = await plaintextClient().workflow.start('registration', {
      taskQueue,
      workflowId: `plaintext-${taskQueue}-${Date.now()}`,
      args: [{ organisation: 'none', email: `clear-${Date.now()}@example.com`, timings: TEST_TIMINGS }],
    });
    started.push(handle);
    return handle;
  };
  const events = async (handle: WorkflowHandle) =>
    ((await handle.fetchHistory()).events ?? []) as temporal.api.history.v1.IHistoryEvent[];
  const failedTask = (list: temporal.api.history.v1.IHistoryEvent[]) =>
    list.find((event) => event.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes;
  const completedTask = (list: temporal.api.history.v1.IHistoryEvent[]) =>
    list.some((event) => event.workflowTaskCompletedEventAttributes);

  it('are refused by the worker of a new installation: the workflow never runs on their input', async function () {
    this.timeout(30_000);
    const handle = await startInClear(TASK_QUEUE);
    const history = await eventually(
      () => events(handle),
      (list) => failedTask(list) !== undefined,
    );
    await handle.terminate();
    // The failure's message travels encrypted (lib/failure-converter.ts), as every failure does.
    const encoded = failedTask(history)?.failure?.encodedAttributes;
    const [attributes] = await new EncryptionCodec(CODEC_KEYS).decode(encoded ? [encoded] : []);
    const { message } = defaultPayloadConverter.fromPayload<{ message: string }>(attributes ?? {});
    expect(message).to.include('not encrypted by this service (encoding "json/plain") refused');
    expect(completedTask(history)).to.equal(false);
  });

  it('are read by a worker while the installation accepts them (from before encryption)', async function () {
    this.timeout(30_000);
    const taskQueue = `${TASK_QUEUE}-accepting-plaintext`;
    const worker = await createWorker({
      connection: system().temporal.nativeConnection,
      namespace: 'default',
      taskQueue,
      activities: system().activities,
      dataConverter: encryptingDataConverter(CODEC_KEYS, 'accept'),
      workflowBundle: system().workflowBundle,
    });
    const running = worker.run();
    try {
      const handle = await startInClear(taskQueue);
      const history = await eventually(
        () => events(handle),
        (list) => completedTask(list),
      );
      expect(completedTask(history)).to.equal(true);
      expect(failedTask(history)).to.equal(undefined);
    } finally {
      worker.shutdown();
      await running;
    }
  });

  const decode = (url: string) =>
    fetch(`${url}/codec/decode`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SUPERVISOR_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        payloads: [
          {
            metadata: { encoding: Buffer.from('json/plain').toString('base64') },
            data: Buffer.from('{"email":"old@example.com"}').toString('base64'),
          },
        ],
      }),
    });

  it('are refused by the codec endpoint (400), and read while the installation accepts them', async () => {
    const refused = await decode(system().api.url);
    expect(refused.status).to.equal(400);
    expect(((await refused.json()) as { error: { code: string } }).error.code).to.equal('invalid_request');
    const accepting = await system().startApi({ plaintextPayloads: 'accept' });
    const read = await decode(accepting.url);
    expect(read.status).to.equal(200);
    const { payloads } = (await read.json()) as { payloads: Array<{ data: string }> };
    expect(Buffer.from(payloads[0]?.data ?? '', 'base64').toString()).to.equal('{"email":"old@example.com"}');
  });

  describe('the default, per installation', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sss-installation-'));
    after(() => rmSync(dir, { recursive: true, force: true }));

    /**
     * The default each of three starts on one SQLite file finds, in a process of its own (the models are bound to one
     * database per process): new, started again, and as a version before the setting left it (every migration but
     * the installation's own).
     */
    const defaultsOfThreeStarts = (databaseUrl: string): string[] => {
      const script = `
        const { openDatabase } = require('./db');
        (async () => {
          const found = [];
          for (let start = 1; start <= 3; start++) {
            const db = await openDatabase(process.env.DATABASE_URL);
            found.push(db.installation.plaintextPayloads);
            if (start === 2) {
              await db.sequelize.query('DROP TABLE installation');
              await db.sequelize.query("DELETE FROM schema_migrations WHERE name = '011-installation'");
            }
            await db.close();
          }
          console.log(JSON.stringify(found));
        })();`;
      const env = { ...process.env, DATABASE_URL: databaseUrl };
      return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { env }).toString());
    };

    it('is refuse for a new database and stays so; accept for a database from before the setting', function () {
      this.timeout(30_000);
      expect(defaultsOfThreeStarts(`sqlite:${path.join(dir, 'app.sqlite')}`)).to.deep.equal([
        'refuse',
        'refuse',
        'accept',
      ]);
    });
  });
});
