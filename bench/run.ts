import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, WithStartWorkflowOperation } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { PlistObject } from 'plist';
import { REGISTRATION_EMAIL } from '../domain/search-attributes';
import { encryptingDataConverter, newCodecKey, parseCodecKeys } from '../lib/codec';
import { startDevServer, type TemporalConnections } from '../lib/temporal';
import { findAppleEngineBinaries, type RunningAppleEngines, startAppleEngines } from '../platforms/apple/engines';
import {
  type CheckInMessageType,
  DeviceHttpError,
  type EnrolmentProfile,
  SimulatedAppleDevice,
} from '../test/support/apple-device';
import { mdmSignature, unixNow } from '../test/support/mdm-events';
import { healthy, post, sleep, spawnEntry, stop, waitFor } from '../test/support/processes';
import { codeIn, MailCatcher } from '../test/support/smtp';
import {
  appleFloor,
  appleFloorUpdates,
  FLOOR_STEPS,
  type FloorStep,
  floor,
  floorUpdates,
  OWNER_STEPS,
  type OwnerStep,
  ownerFloor,
  ownerFloorUpdates,
} from './floor-workflow';

/**
 * `npm run bench`: whole registrations through the real HTTP API (separate API and worker processes, mail through a
 * real SMTP server on loopback) side by side with the engine floor (bench/floor-workflow.ts) on the same Temporal
 * server, at several concurrencies; then returning owners' new devices, and iPhones enrolling through the API against
 * NanoMDM and scepserver beside the same requests sent to the engines alone. `--open N` then measures the system while
 * N registrations wait at verify-email.
 */

const { values: options } = parseArgs({
  options: {
    levels: { type: 'string', default: '1,10,50' },
    scale: { type: 'string', default: '1' },
    open: { type: 'string', default: '0' },
    out: { type: 'string', default: 'bench-results' },
    /** Write V8 CPU profiles of the API and worker processes into this folder (open them in Chrome's DevTools). */
    profile: { type: 'string' },
  },
});
const LEVELS = options.levels.split(',').map(Number);
/** Jobs per concurrency, times --scale: the count listed for it, or `perConcurrency` times the concurrency. */
const scaledCount = (counts: Record<number, number>, perConcurrency: number) => (concurrency: number) =>
  Math.round((counts[concurrency] ?? concurrency * perConcurrency) * Number(options.scale));
const countFor = scaledCount({ 1: 20, 10: 100, 50: 250 }, 5);
/** Fewer Apple enrolments: each runs scepclient, and scepserver its challenge check (a Node process), per identity. */
const enrolmentsFor = scaledCount({ 1: 10, 10: 50, 50: 100 }, 2);
const OPEN = Number(options.open);
const PRODUCT_STEPS = ['register', 'verify', 'profile', 'device', 'checkin'] as const;
type Timings = Record<FloorStep, number>;
/** An iPhone's enrolment: its profile, its identity by SCEP, two check-ins, then its settings and the owner's done. */
const APPLE_STEPS = ['link', 'identity', 'authenticate', 'tokenUpdate', 'settings', 'done'] as const;
type AppleStep = (typeof APPLE_STEPS)[number];
/** The floor's TokenUpdate in its two parts: the check-in straight to NanoMDM, then the bare workflow's update. */
const TOKEN_UPDATE_PARTS = ['tokenUpdateNanomdm', 'tokenUpdateWorkflow'] as const;
type TokenUpdatePart = (typeof TOKEN_UPDATE_PARTS)[number];
/** How often an enrolled iPhone connects for its commands (there is no push here). */
const POLL_MS = 100;
const secret = () => randomBytes(24).toString('base64url');

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const rssMiB = (pid: number | undefined, field = 'VmRSS') => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return Math.round(Number(line?.split(/\s+/)[1]) / 1024);
};

/** Runs `count` jobs with `concurrency` of them in flight; returns each job's step timings and the wall time. */
async function pool<R>(concurrency: number, count: number, job: (i: number) => Promise<R>) {
  const results: R[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) results.push(await job(next++));
    }),
  );
  return { results, seconds: (performance.now() - started) / 1000 };
}

async function timed<T, S extends string>(
  timings: Partial<Record<S, number>>,
  step: S,
  work: () => Promise<T>,
): Promise<T> {
  const t = performance.now();
  const value = await work();
  timings[step] = performance.now() - t;
  return value;
}

/** Asks every POLL_MS until the answer is yes; a refusal on the way is not retried but thrown. */
async function until(yes: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await yes())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

/** A check-in the device must get 200 for, as SimulatedAppleDevice.enrol requires. */
async function checkIn(device: SimulatedAppleDevice, messageType: CheckInMessageType): Promise<void> {
  const answer = await device.checkIn(messageType);
  if (answer.status !== 200) throw new DeviceHttpError(`${messageType} check-in`, answer.status, answer.body);
}

/**
 * NanoMDM and scepserver for the product's processes, which as a deployment (TEMPORAL_ADDRESS set) enrol Apple devices
 * only with engines named in their configuration: started here like `npm start` does, calling back the API at `url`,
 * with keys made for this run. Without the binaries Apple enrolment stays off, and its phase is left out.
 */
async function startEngines(
  dir: string,
  url: string,
): Promise<{ engines: RunningAppleEngines; env: Record<string, string> } | { off: string }> {
  const found = findAppleEngineBinaries();
  if ('off' in found) return { off: found.off };
  const keys = { NANOMDM_API_KEY: secret(), NANOMDM_WEBHOOK_KEY: secret(), SCEP_VERIFY_KEY: secret() };
  const engines = await startAppleEngines({
    binaries: found.binaries,
    dir: path.join(dir, 'apple'),
    apiKey: keys.NANOMDM_API_KEY,
    webhookUrl: `${url}/mdm/webhook`,
    webhookKey: keys.NANOMDM_WEBHOOK_KEY,
    verifier: { url: `${url}/mdm/scep-verify`, key: keys.SCEP_VERIFY_KEY },
  });
  return { engines, env: { NANOMDM_URL: engines.nanomdmUrl, SCEP_URL: engines.scepUrl, ...keys } };
}

/**
 * The product's processes: one worker and one API, from the scale-out entry points, on this run's Temporal, with the
 * Apple engines they are configured with.
 */
async function startProduct(dir: string, temporalAddress: string, smtpUrl: string, env: Record<string, string>) {
  const port = 30_000 + Math.floor(Math.random() * 20_000);
  const url = `http://127.0.0.1:${port}`;
  const apple = await startEngines(dir, url);
  const shared = {
    ...process.env,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_TASK_QUEUE: 'bench-product',
    DATABASE_URL: `sqlite:${path.join(dir, 'app.sqlite')}`,
    DATA_DIR: dir,
    SMTP_URL: smtpUrl,
    APP_SECRET: randomBytes(32).toString('base64url'),
    TEMPORAL_CODEC_KEY: newCodecKey(),
    SUPERVISOR_TOKEN: secret(),
    PORT: String(port),
    PUBLIC_URL: url,
    // Every simulated owner comes from 127.0.0.1: the per-address limits are raised, as an operator testing load would
    // (docs/security.md); the hashing queue is sized for the highest concurrency.
    REGISTRATIONS_PER_MINUTE: '10000000',
    SIGN_IN_FAILURES_PER_ADDRESS: '10000000',
    CODE_FAILURES_PER_ADDRESS: '10000000',
    SCEP_REQUESTS_PER_MINUTE: '10000000',
    PASSWORD_HASHING_QUEUE: '1000',
    LOG_LEVEL: 'warn',
    ...('env' in apple && apple.env),
    ...env,
  };
  const profiling = options.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(options.profile)}`] : [];
  const start = (entry: 'api.ts' | 'worker.ts') => {
    const child = spawnEntry(entry, shared, profiling);
    // A failed run exits without stop(): its processes must not outlive it.
    process.once('exit', () => child.kill());
    return child;
  };
  // The worker first: it migrates and seeds the demo organisation before the API opens the same SQLite file.
  const worker = start('worker.ts');
  await waitFor(async () => {
    const { Sequelize } = await import('sequelize');
    const db = new Sequelize({ dialect: 'sqlite', storage: path.join(dir, 'app.sqlite'), logging: false });
    try {
      return ((await db.query('select count(*) as n from organisations'))[0] as Array<{ n: number }>)[0]?.n === 1;
    } catch {
      return false;
    } finally {
      await db.close();
    }
  }, 'the worker to seed the database');
  const api = start('api.ts');
  await healthy(url);
  // The demo organisation's MDM, which reports its Windows PCs' enrolments through the signed webhook.
  const made = await post(`${url}/api/organisations/demo/mdm-webhook-secret`, undefined, shared.SUPERVISOR_TOKEN);
  return { api, worker, url, codecKey: shared.TEMPORAL_CODEC_KEY, apple, mdmSecret: made.secret as string };
}

/**
 * The profile with the device's SCEP URL and check-in URL pointed straight at scepserver and NanoMDM, past our API;
 * the SCEP challenge and the enrolment (NanoMDM's URL parameter) stay.
 */
function straightToEngines(profile: EnrolmentProfile, engines: RunningAppleEngines): EnrolmentProfile {
  return {
    ...profile,
    PayloadContent: profile.PayloadContent.map((payload) => {
      if (payload.PayloadType === 'com.apple.security.scep') {
        return { ...payload, PayloadContent: { ...(payload.PayloadContent as PlistObject), URL: engines.scepUrl } };
      }
      if (payload.PayloadType === 'com.apple.mdm') {
        return { ...payload, CheckInURL: `${engines.nanomdmUrl}/checkin${new URL(String(payload.CheckInURL)).search}` };
      }
      return payload;
    }),
  };
}

/** Each step's p50/p95/p99 over the jobs that took it (NaN for a step none took), and the jobs per second. */
function summarise<S extends string>(results: Array<Partial<Record<S, number>>>, seconds: number, names: readonly S[]) {
  const steps = Object.fromEntries(
    names.map((step) => {
      const values = results.map((r) => r[step]).filter((value) => value !== undefined);
      return [step, { p50: percentile(values, 50), p95: percentile(values, 95), p99: percentile(values, 99) }];
    }),
  ) as Record<S, { p50: number; p95: number; p99: number }>;
  return { registrations: results.length, seconds, perSecond: results.length / seconds, steps };
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const dir = mkdtempSync(path.join(tmpdir(), 'sss-bench-'));
  const mail = new MailCatcher();
  const smtpUrl = await mail.start();
  const temporal: TemporalConnections = await startDevServer({
    namespace: 'default',
    dataConverter: encryptingDataConverter(parseCodecKeys(newCodecKey())),
  });
  const plainClient = new Client({ connection: temporal.client.connection, namespace: 'default' });
  const floorWorker = await Worker.create({
    connection: temporal.nativeConnection,
    taskQueue: 'bench-floor',
    workflowsPath: require.resolve('./floor-workflow'),
    maxCachedWorkflows: 500,
  });
  const floorRunning = floorWorker.run();
  // Long enough for all of them to be open at once while measuring (they open at ~15-20/s), short enough to wait for.
  const registrationTtlSeconds = OPEN > 0 ? Math.max(120, Math.ceil(OPEN / 15) + 60) : 86_400;
  const registrationTtl = `${registrationTtlSeconds}s`;
  const product = await startProduct(dir, temporal.address, smtpUrl, { REGISTRATION_TTL: registrationTtl });
  const productClient = new Client({
    connection: temporal.client.connection,
    namespace: 'default',
    dataConverter: encryptingDataConverter(parseCodecKeys(product.codecKey)),
  });
  const run = Date.now().toString(36);

  /** A floor workflow's first step: update-with-start, as the product's first step of each flow. */
  const startFloor = (workflow: typeof floor, update: (typeof floorUpdates)['register'], workflowId: string) =>
    plainClient.workflow.executeUpdateWithStart(update, {
      args: ['token'],
      startWorkflowOperation: new WithStartWorkflowOperation(workflow, {
        workflowId,
        taskQueue: 'bench-floor',
        workflowIdConflictPolicy: 'FAIL',
      }),
    });

  const floorRegistration = async (i: number): Promise<Timings> => {
    const t: Partial<Timings> = {};
    const workflowId = `bench-floor/${run}/${i}`;
    await timed(t, 'register', () => startFloor(floor, floorUpdates.register, workflowId));
    const handle = plainClient.workflow.getHandle(workflowId);
    for (const step of FLOOR_STEPS.slice(1)) {
      await timed(t, step, () => handle.executeUpdate(floorUpdates[step], { args: ['token'] }));
    }
    return t as Timings;
  };

  let productCount = 0;
  /** Owners with a finished registration, for the returning-owner phase. */
  const registered: string[] = [];
  /** A new owner's registration through the API up to the device's link: register → verify → profile → device. */
  const chooseDevice = async (label: string, platform: 'windows' | 'ios', t: Partial<Timings> = {}) => {
    const email = `${label}.${run}.${productCount++}@example.com`;
    const base = `${product.url}/api/setup/registrations`;
    const created = await timed(t, 'register', () => post(base, { email }));
    const registration = `${base}/${created.registrationId}`;
    const token = created.token as string;
    const code = codeIn(await mail.nth(email, 1, 60_000));
    await timed(t, 'verify', () => post(`${registration}/verify`, { code }, token));
    await timed(t, 'profile', () =>
      post(`${registration}/profile`, { firstName: 'Bench', lastName: 'Mark', password: 'a long passphrase' }, token),
    );
    const chosen = await timed(t, 'device', () => post(`${registration}/devices`, { platform }, token));
    const { provisioningUrl } = chosen.device as { provisioningUrl: string };
    return { email, workflowId: `registration/${created.organisation}/${email}`, registration, token, provisioningUrl };
  };
  /** A Windows PC's check-in: the organisation's MDM reports its enrolment through the signed webhook. */
  let nextEvent = 0;
  const deviceCheckIn = (provisioningUrl: string) => {
    const event = JSON.stringify({
      id: `bench-${run}-${nextEvent++}`,
      organisation: 'demo',
      type: 'enrolled',
      enrolmentToken: provisioningUrl.split('/').pop(),
    });
    const timestamp = unixNow();
    return post(`${product.url}/api/mdm/events`, event, undefined, {
      'x-signature-timestamp': String(timestamp),
      'x-signature': mdmSignature(product.mdmSecret, timestamp, event),
    });
  };
  const productRegistration = async (label: string): Promise<Timings & { email: string; workflowId: string }> => {
    const t: Partial<Timings> = {};
    const { email, workflowId, provisioningUrl } = await chooseDevice(label, 'windows', t);
    await timed(t, 'checkin', () => deviceCheckIn(provisioningUrl));
    registered.push(email);
    return { ...(t as Timings), email, workflowId };
  };

  console.log(`warming up…`);
  await pool(5, 10, floorRegistration);
  await pool(5, 10, () => productRegistration('warmup'));

  const levels = [];
  for (const concurrency of LEVELS) {
    const count = countFor(concurrency);
    console.log(`concurrency ${concurrency}: ${count} registrations each…`);
    const floorRun = await pool(concurrency, count, floorRegistration);
    const productRun = await pool(concurrency, count, () => productRegistration(`c${concurrency}`));
    levels.push({
      concurrency,
      floor: summarise(floorRun.results, floorRun.seconds, FLOOR_STEPS),
      product: summarise(productRun.results, productRun.seconds, FLOOR_STEPS),
      memoryMiB: { api: rssMiB(product.api.pid), worker: rssMiB(product.worker.pid) },
    });
  }

  // Returning owners, each signed in beforehand, add a Windows PC and check it in; beside them, the same round-trips bare.
  const ownerFloorRun = async (i: number) => {
    const t: Partial<Record<OwnerStep, number>> = {};
    const workflowId = `bench-owner-floor/${run}/${i}`;
    await timed(t, 'add', () => startFloor(ownerFloor, ownerFloorUpdates.add, workflowId));
    await timed(t, 'checkin', () =>
      plainClient.workflow.getHandle(workflowId).executeUpdate(ownerFloorUpdates.checkin, { args: ['token'] }),
    );
    return t as Record<OwnerStep, number>;
  };
  const sessions = (
    await pool(10, registered.length, (i) =>
      post(`${product.url}/api/session`, { email: registered[i], password: 'a long passphrase' }),
    )
  ).results.map((answer) => answer.token as string);
  let nextOwner = 0;
  const ownerProductRun = async () => {
    const t: Partial<Record<OwnerStep, number>> = {};
    const token = sessions[nextOwner++];
    const added = await timed(t, 'add', () => post(`${product.url}/api/me/devices`, { platform: 'windows' }, token));
    await timed(t, 'checkin', () => deviceCheckIn((added.device as { provisioningUrl: string }).provisioningUrl));
    return t as Record<OwnerStep, number>;
  };
  const owners = [];
  for (const concurrency of LEVELS) {
    const count = Math.min(countFor(concurrency), sessions.length - nextOwner);
    console.log(`returning owners, concurrency ${concurrency}: ${count} new devices each…`);
    const floorRun = await pool(concurrency, count, ownerFloorRun);
    const productRun = await pool(concurrency, count, ownerProductRun);
    owners.push({
      concurrency,
      floor: summarise(floorRun.results, floorRun.seconds, OWNER_STEPS),
      product: summarise(productRun.results, productRun.seconds, OWNER_STEPS),
    });
  }

  // iPhones: owners choose one through the API (not timed), then the simulated iPhone enrols through our API; beside
  // them the same requests go straight to the engines, each iPhone with its profile from a product link of its own.
  const apple = [];
  if ('engines' in product.apple) {
    const { engines } = product.apple;
    let iphones = 0;
    const iphone = () => new SimulatedAppleDevice({ workDir: path.join(dir, 'iphones', String(iphones++)) });
    const floorIphone = async (label: string, i: number) => {
      const device = iphone();
      const { provisioningUrl } = await chooseDevice(label, 'ios');
      device.profile = straightToEngines(await device.openLink(provisioningUrl), engines);
      const workflowId = `bench-apple-floor/${run}/${label}/${i}`;
      await startFloor(appleFloor, appleFloorUpdates.device, workflowId);
      return { device, workflowId };
    };
    const floorEnrolment = async ({ device, workflowId }: Awaited<ReturnType<typeof floorIphone>>) => {
      const t: Partial<Record<AppleStep | TokenUpdatePart, number>> = {};
      await timed(t, 'identity', () => device.getIdentity());
      await timed(t, 'authenticate', () => checkIn(device, 'Authenticate'));
      await timed(t, 'tokenUpdate', async () => {
        await timed(t, 'tokenUpdateNanomdm', () => checkIn(device, 'TokenUpdate'));
        await timed(t, 'tokenUpdateWorkflow', () =>
          plainClient.workflow.getHandle(workflowId).executeUpdate(appleFloorUpdates.tokenUpdate, { args: ['token'] }),
        );
      });
      return t;
    };
    const productEnrolment = async ({
      workflowId,
      registration,
      token,
      provisioningUrl,
    }: Awaited<ReturnType<typeof chooseDevice>>) => {
      const t: Partial<Record<AppleStep, number>> = {};
      const device = iphone();
      await timed(t, 'link', () => device.openLink(provisioningUrl));
      await timed(t, 'identity', () => device.getIdentity());
      await timed(t, 'authenticate', () => checkIn(device, 'Authenticate'));
      await timed(t, 'tokenUpdate', () => checkIn(device, 'TokenUpdate'));
      // From TokenUpdate's answer: the iPhone has its settings (it connects every POLL_MS, as if pushed, acknowledging
      // what it gets), and the owner's registration shows done. The registration ends in the workflow task that makes
      // it done, so that is waited for on the server (no polling) and then seen through the API.
      const installed = async () =>
        (await device.processCommands()).some((command) => command.Command.RequestType === 'InstallProfile');
      const done = async () => {
        await productClient.workflow.getHandle(workflowId).result();
        // A complete registration's token is spent: it answers that, and nothing more.
        const response = await fetch(registration, { headers: { authorization: `Bearer ${token}` } });
        const { error } = (await response.json()) as { error?: { code?: string } };
        if (error?.code !== 'registration_complete')
          throw new Error(`${registration} ended at ${response.status} ${error?.code}, not done`);
      };
      await Promise.all([
        timed(t, 'settings', () => until(installed, `the settings on ${device.udid}`)),
        timed(t, 'done', done),
      ]);
      return t;
    };
    const enrolments = async (label: string, concurrency: number, count: number) => {
      const floorIphones = await pool(10, count, (i) => floorIphone(label, i));
      const floorRun = await pool(concurrency, count, (i) => floorEnrolment(floorIphones.results[i]));
      const links = await pool(10, count, () => chooseDevice(label, 'ios'));
      const productRun = await pool(concurrency, count, (i) => productEnrolment(links.results[i]));
      return {
        concurrency,
        floor: summarise(floorRun.results, floorRun.seconds, [...APPLE_STEPS, ...TOKEN_UPDATE_PARTS]),
        product: summarise(productRun.results, productRun.seconds, APPLE_STEPS),
      };
    };
    await enrolments('apple-warmup', 2, 4);
    for (const concurrency of LEVELS) {
      const count = enrolmentsFor(concurrency);
      console.log(`iPhones, concurrency ${concurrency}: ${count} enrolments each…`);
      apple.push(await enrolments(`apple-c${concurrency}`, concurrency, count));
    }
  }

  // History size of one completed registration (and its device workflow), and of one floor run.
  const sample = await productRegistration('history');
  await productClient.workflow.getHandle(sample.workflowId).result();
  const registrationEvents =
    (await productClient.workflow.getHandle(sample.workflowId).fetchHistory()).events?.length ?? 0;
  const deviceIds: string[] = [];
  for await (const child of productClient.workflow.list({
    query: `RegistrationEmail = '${sample.email}' AND WorkflowType = 'device'`,
  })) {
    deviceIds.push(child.workflowId);
  }
  const deviceEvents = deviceIds.length
    ? ((await productClient.workflow.getHandle(deviceIds[0] as string).fetchHistory()).events?.length ?? 0)
    : Number.NaN;
  const floorSample = `bench-floor/${run}/0`;
  const floorEvents = (await plainClient.workflow.getHandle(floorSample).fetchHistory()).events?.length ?? 0;

  const open =
    OPEN > 0
      ? await openRegistrations(OPEN, productRegistration, product, productClient, registrationTtlSeconds * 1000)
      : undefined;

  const report = {
    date: new Date().toISOString(),
    machine: { cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30) },
    temporal: 'dev server (temporal CLI 1.9.1, SQLite in memory), same for both columns',
    levels,
    owners,
    apple: 'off' in product.apple ? { off: product.apple.off } : { pollMs: POLL_MS, levels: apple },
    historyEvents: {
      registration: registrationEvents,
      device: deviceEvents,
      total: registrationEvents + deviceEvents,
      floor: floorEvents,
    },
    memoryMiB: {
      api: rssMiB(product.api.pid),
      apiPeak: rssMiB(product.api.pid, 'VmHWM'),
      worker: rssMiB(product.worker.pid),
      workerPeak: rssMiB(product.worker.pid, 'VmHWM'),
    },
    open,
  };
  print(report);
  mkdirSync(options.out, { recursive: true });
  const file = path.join(options.out, `bench-${report.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nfull results: ${file}`);

  await stop([product.api, product.worker]);
  if ('engines' in product.apple) await product.apple.engines.stop();
  floorWorker.shutdown();
  await floorRunning;
  await temporal.close();
  await mail.stop();
  rmSync(dir, { recursive: true, force: true });
}

/**
 * N registrations left waiting at verify-email: worker memory while they are open, registration latency for new owners
 * against the empty-system figure, and whether they all expire on time afterwards.
 */
async function openRegistrations(
  n: number,
  productRegistration: (label: string) => Promise<Timings>,
  product: { api: ChildProcess; worker: ChildProcess; url: string },
  client: Client,
  ttlMs: number,
) {
  const register = async (label: string, i: number) => {
    const t: Partial<Timings> = {};
    await timed(t, 'register', () =>
      post(`${product.url}/api/setup/registrations`, { email: `${label}.${i}@open.example.com` }),
    );
    return t as Timings;
  };
  const before = (await pool(1, 50, (i) => register('empty', i))).results.map((r) => r.register);
  console.log(`opening ${n} registrations…`);
  const opened = Date.now();
  await pool(50, n, (i) => register('open', i));
  const openSeconds = (Date.now() - opened) / 1000;
  await sleep(5_000);
  const during = (await pool(1, 50, (i) => register('during', i))).results.map((r) => r.register);
  const workerMiB = rssMiB(product.worker.pid);
  await productRegistration('during-open');
  const workerWhileOpen = { workerMiB, workerPeakMiB: rssMiB(product.worker.pid, 'VmHWM') };

  // Expiry is a server-side timer per registration: wait until the last one is due, then look at when each closed.
  const lastDue = opened + openSeconds * 1000 + ttlMs;
  console.log(`waiting ${Math.round((lastDue - Date.now()) / 1000)} s for them to expire…`);
  await sleep(Math.max(0, lastDue - Date.now()) + 30_000);
  const lateness: number[] = [];
  const query = `WorkflowType = 'registration' AND RegistrationStep = 'expired'`;
  for await (const run of client.workflow.list({ query, pageSize: 1000 })) {
    if (!run.typedSearchAttributes.get(REGISTRATION_EMAIL)?.startsWith('open.') || !run.closeTime) continue;
    lateness.push(run.closeTime.getTime() - run.startTime.getTime() - ttlMs);
  }
  return {
    registrations: n,
    openedPerSecond: n / openSeconds,
    ...workerWhileOpen,
    registerP99EmptyMs: percentile(before, 99),
    registerP99WhileOpenMs: percentile(during, 99),
    expired: lateness.length,
    expiryLatenessP50Ms: percentile(lateness, 50),
    expiryLatenessMaxMs: Math.max(...lateness),
  };
}

type Summary<S extends string> = ReturnType<typeof summarise<S>>;
type Level<S extends string> = { concurrency: number; floor: Summary<S>; product: Summary<S> };

const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '—');

/** Rate per level, floor beside product, then each step's latency at p50/p95/p99. */
function printLevels<S extends string>(levels: Level<S>[], names: readonly S[], unit: string) {
  console.log(`concurrency   floor/s   product/s   product÷floor   (${unit})`);
  for (const level of levels) {
    console.log(
      `${String(level.concurrency).padStart(11)}   ${f(level.floor.perSecond).padStart(7)}   ${f(level.product.perSecond).padStart(9)}   ${f(level.product.perSecond / level.floor.perSecond, 2).padStart(13)}`,
    );
  }
  console.log('\nper-step latency, ms: floor p50/p95/p99 | product p50/p95/p99 | product÷floor at p50, p99');
  const width = Math.max(9, ...names.map((step) => step.length));
  for (const level of levels) {
    console.log(`concurrency ${level.concurrency}`);
    for (const step of names) {
      const a = level.floor.steps[step];
      const b = level.product.steps[step];
      console.log(
        `  ${step.padEnd(width)} ${percentiles(a)} | ${percentiles(b)} | ${f(b.p50 / a.p50, 2).padStart(5)} ${f(b.p99 / a.p99, 2).padStart(5)}`,
      );
    }
  }
}

const percentiles = (step: { p50: number; p95: number; p99: number }) =>
  [step.p50, step.p95, step.p99].map((x) => f(x).padStart(6)).join(' ');

function print(report: {
  machine: { cores: number; memoryGiB: number };
  levels: Level<FloorStep>[];
  owners: Level<OwnerStep>[];
  apple: { off: string } | { levels: Array<Level<AppleStep> & { floor: Summary<TokenUpdatePart> }> };
  historyEvents: Record<string, number>;
  memoryMiB: Record<string, number>;
  open?: Record<string, number>;
}) {
  console.log(
    `\nSelf-Service Setup benchmark — ${report.machine.cores} cores, ${report.machine.memoryGiB} GiB, one Temporal dev server`,
  );
  console.log('\nregistrations (floor = bare workflow with the same round-trips; product = real HTTP API)');
  printLevels(report.levels, PRODUCT_STEPS, 'registrations');
  console.log('\nreturning owners: a signed-in owner adds a device, the device checks in');
  printLevels(report.owners, OWNER_STEPS, 'new devices');
  if ('off' in report.apple) {
    console.log(`\niPhones: not measured. ${report.apple.off}`);
  } else {
    console.log(
      '\niPhones enrolling (floor = the same requests straight to the engines: identity from scepserver, check-ins to' +
        ' NanoMDM, TokenUpdate also a bare workflow update; product = through our API; settings and done from' +
        ` TokenUpdate's answer, the iPhone connecting every ${POLL_MS} ms)`,
    );
    printLevels(report.apple.levels, APPLE_STEPS, 'enrolments');
    console.log('floor tokenUpdate in parts, ms p50/p95/p99: NanoMDM check-in | bare workflow update');
    for (const { concurrency, floor } of report.apple.levels) {
      const [nanomdm, workflow] = TOKEN_UPDATE_PARTS.map((part) => percentiles(floor.steps[part]));
      console.log(`${`concurrency ${concurrency}`.padEnd(16)}${nanomdm} | ${workflow}`);
    }
  }
  console.log(
    `\nhistory events per completed registration: ${report.historyEvents.registration} (registration) + ${report.historyEvents.device} (device) = ${report.historyEvents.total}; floor ${report.historyEvents.floor}`,
  );
  console.log(
    `resident memory: API ${report.memoryMiB.api} MiB (peak ${report.memoryMiB.apiPeak}), worker ${report.memoryMiB.worker} MiB (peak ${report.memoryMiB.workerPeak})`,
  );
  if (report.open) {
    console.log(`\n${report.open.registrations} open registrations (waiting at verify-email):`);
    console.log(
      `  opened at ${f(report.open.openedPerSecond ?? Number.NaN)}/s; worker ${report.open.workerMiB} MiB (peak ${report.open.workerPeakMiB}); register p99 ${f(report.open.registerP99EmptyMs ?? Number.NaN)} ms empty → ${f(report.open.registerP99WhileOpenMs ?? Number.NaN)} ms while open`,
    );
    console.log(
      `  expired afterwards: ${report.open.expired} of ${report.open.registrations}; lateness after their TTL p50 ${f((report.open.expiryLatenessP50Ms ?? Number.NaN) / 1000)} s, max ${f((report.open.expiryLatenessMaxMs ?? Number.NaN) / 1000)} s`,
    );
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
