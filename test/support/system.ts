import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import { type Activities, createActivities } from '../../activities';
import { createSmtpMailer } from '../../activities/mail';
import { createTwilioSms } from '../../activities/sms';
import { createAuth } from '../../api/auth';
import { type Database, openDatabase } from '../../db';
import type { PlatformSettings } from '../../db/models';
import type { Platform } from '../../domain/platform';
import type { FlowTimings } from '../../domain/timings';
import { encryptingDataConverter, type PlaintextPayloads } from '../../lib/codec';
import type { AttemptRules, OwnerRules } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { freeLoopbackPort } from '../../lib/loopback';
import { createSecrets, type Secrets } from '../../lib/secrets';
import { startDevServer, type TemporalConnections, temporalCliPath } from '../../lib/temporal';
import { bundleWorkflows, createWorker } from '../../lib/worker';
import { createApp } from '../../main/app';
import { findAppleEngineBinaries, type RunningAppleEngines, startAppleEngines } from '../../platforms/apple/engines';
import type { AppleEnrolmentService } from '../../platforms/apple/nanomdm';
import { openProfileSigner } from '../../platforms/apple/profile-signing';
import { createApiTokens } from '../../services/admin/api-tokens';
import type { ServiceDeps } from '../../services/context';
import { CODEC_KEYS } from './codec-keys';
import { MailCatcher } from './smtp';
import { TwilioFake } from './twilio-fake';

export const TASK_QUEUE = 'test-self-service-setup';
export const APPLE_KEYS = {
  nanomdmApiKey: 'nanomdm-api-key-for-tests',
  webhookKey: 'nanomdm-webhook-key-for-tests',
  scepVerifyKey: 'scep-verify-key-for-tests',
};

/** NanoMDM and scepserver from the project's binaries (npm install builds them), calling `apiUrl` back. */
async function startTestAppleEngines(dir: string, apiUrl: string) {
  const found = findAppleEngineBinaries();
  if ('off' in found) throw new Error(`the tests need the Apple engines: ${found.off}`);
  const running = await startAppleEngines({
    binaries: found.binaries,
    dir,
    apiKey: APPLE_KEYS.nanomdmApiKey,
    webhookUrl: `${apiUrl}/mdm/webhook`,
    webhookKey: APPLE_KEYS.webhookKey,
    verifier: { url: `${apiUrl}/mdm/scep-verify`, key: APPLE_KEYS.scepVerifyKey },
  });
  const apple: AppleEnrolmentService = {
    nanomdmUrl: running.nanomdmUrl,
    scepUrl: running.scepUrl,
    ...APPLE_KEYS,
    topic: 'com.apple.mgmt.External.self-service-setup-tests',
    push: false,
    // As `npm start` signs when no certificate is configured: a self-signed one made and kept in the data folder.
    profileSigner: await openProfileSigner({ selfSignedIn: dir }),
  };
  return { running, apple };
}

/** Device templates' settings as each platform types them (platforms/settings.ts). */
const TEST_MANAGEMENT: Record<Platform, (slug: string) => Record<string, unknown>> = {
  ios: (slug) => ({
    passcode: { minLength: 6 },
    wifi: { ssid: `${slug}-corp`, security: 'WPA2', password: 'corp-wifi-secret' },
  }),
  macos: (slug) => TEST_MANAGEMENT.ios(slug),
  android: (slug) => ({
    dpc: TEST_DPC,
    ownership: 'company',
    password: { quality: 'numeric', minLength: 6 },
    wifi: { ssid: `${slug}-corp`, security: 'WPA', password: 'corp-wifi-secret' },
    apps: ['com.example.mail'],
  }),
  windows: (slug) => ({ wifi: { ssid: `${slug}-corp` } }),
};

/** The webhook secret of an organisation the test system made (as if its manager had made it in the settings API). */
export const mdmWebhookSecretOf = (slug: string) => `whsec_test-secret-of-${slug}`;

/** A device policy app as an Android template names it. */
export const TEST_DPC = {
  componentName: 'com.example.dpc/.AdminReceiver',
  packageDownloadUrl: 'https://dpc.example/releases/dpc.apk',
  signatureChecksum: '8SOror1Y2GhAohwqREHtIzEBxHMvAsVBkzDJzhWvJ64',
};

export { CODEC_KEYS };
export const SUPERVISOR_TOKEN = 'supervisor-token-for-tests-only';
/** The test system's APP_SECRET, for the product's own processes that share its database. */
export const APP_SECRET_TEXT = 'test-secret-test-secret-test-secret!';
export const UI_ORIGIN = 'http://localhost:8233';
export const SITE_NAME = 'Test Device Setup';
export const SITE_HELP = 'Questions? Write to it-help@example.com.';

/** Timings of the default test API: short enough to watch, long enough not to race the tests. */
export const TEST_TIMINGS: FlowTimings = {
  registrationTtlMs: 10 * 60_000,
  codeTtlMs: 60_000,
  linkTtlMs: 60_000,
  resendIntervalMs: 1_500,
  maxCodeAttempts: 5,
  maxResends: 3,
  linkReminderMs: 20_000,
  settingsTimeoutMs: 60_000,
};

const TEST_OWNER_RULES: OwnerRules = {
  sessionIdleMs: 10 * 60_000,
  sessionAbsoluteMs: 60 * 60_000,
  knownDeviceTtlMs: 30 * 86_400_000,
};

const minute = (points: number) => ({ points, windowMs: 60_000 });
/**
 * Limits of the default test API: the production defaults per account and address, per account and per address high
 * enough that tests sharing 127.0.0.1 do not trip them.
 */
export const TEST_LIMITS: AttemptRules = {
  signInPerAccountAndAddress: minute(5),
  signInPerAddress: minute(1_000),
  signInPerAccount: minute(100),
  signInPerDevice: minute(5),
  codesPerAddress: minute(10_000),
  verifyPerOrganisation: minute(10_000),
  resumesPerAddress: minute(10),
  resetPerAccountAndAddress: minute(10),
  resetPerAccount: minute(100),
  smsPerAccount: minute(1_000),
  smsPerNumber: minute(1_000),
  smsPerOrganisation: minute(10_000),
  devicesPerAccount: minute(1_000),
  deviceChanges: minute(1_000),
  hashingQueue: 32,
};

export interface HttpAnswer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever the API answered
  body: any;
  text: string;
}

/** An API process on a loopback port, with its own timings (several can share one worker). */
export class ApiUnderTest {
  constructor(
    private server: Server,
    readonly url: string,
  ) {}

  async call(
    method: string,
    route: string,
    options: { body?: unknown; token?: string; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<HttpAnswer> {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const response = await fetch(`${this.url}${route}`, {
      method,
      headers,
      body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: response.status, headers: response.headers, body, text };
  }

  address?: AddressInfo;

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** This process goes away (connections refused) until `resume`, on the same address. */
  pause(): Promise<void> {
    return this.close();
  }

  resume(): Promise<void> {
    const { port, address } = this.address as AddressInfo;
    return new Promise((resolve) => {
      this.server.listen(port, address, () => resolve());
    });
  }
}

/** What a test changes in an API it starts of its own (`startApi`): its config, its parts, where it listens. */
interface ApiOverrides {
  timings?: Partial<FlowTimings>;
  /** How long an invitation to manage an organisation stays open (a week, as INVITATION_TTL's default). */
  invitationTtlMs?: number;
  owners?: Partial<OwnerRules>;
  limits?: Partial<AttemptRules>;
  trustProxy?: ServiceDeps['config']['trustProxy'];
  publicUrl?: string;
  /** The interface to listen on: loopback unless a test needs the API reachable by another address. */
  host?: string;
  registrationsPerMinute?: number;
  scepRequestsPerMinute?: number;
  machineRefusalsPerMinute?: number;
  devOutbox?: boolean;
  /** Where this API logs (silent by default); a test that reads the log passes its own. */
  logger?: Logger;
  /** A port chosen beforehand (the engines call it back); any free one otherwise. */
  port?: number;
  /** Apple enrolment as this API sees it: the test system's engines unless a test turns it off. */
  apple?: AppleEnrolmentService | 'off';
  /** Another Temporal client (one that reaches no server, say). */
  client?: Client;
  /** What the codec endpoint does with payloads without our encryption: refused, as in a new installation. */
  plaintextPayloads?: PlaintextPayloads;
}

/**
 * The whole system on real parts, started once for the test run: a Temporal dev server from the project's CLI, a
 * SQLite file, a real SMTP server on loopback, the real Twilio client against its HTTP fake, a worker and the API.
 */
export class TestSystem {
  readonly mail = new MailCatcher();
  readonly twilio = new TwilioFake();
  readonly secrets: Secrets = createSecrets(Buffer.from(APP_SECRET_TEXT));
  readonly dataDir = mkdtempSync(path.join(tmpdir(), 'sss-test-'));
  db!: Database;
  temporal!: TemporalConnections;
  /** NanoMDM and the SCEP server, real, on loopback. */
  engines!: RunningAppleEngines;
  apple!: AppleEnrolmentService;
  activities!: Activities;
  api!: ApiUnderTest;
  private worker!: Worker;
  private workerRun!: Promise<void>;
  /** The workflow code the workers run, bundled once: a test's own worker reuses it. */
  workflowBundle!: Awaited<ReturnType<typeof bundleWorkflows>>;
  private apis: ApiUnderTest[] = [];

  async start(): Promise<void> {
    const [smtpUrl] = await Promise.all([this.mail.start(), this.twilio.start()]);
    // The engines call the main API back (webhook, SCEP challenge check): its port is chosen before either starts.
    const apiPort = await freeLoopbackPort();
    const [db, temporal, workflowBundle, engines] = await Promise.all([
      openDatabase(`sqlite:${path.join(this.dataDir, 'app.sqlite')}`),
      startDevServer({ namespace: 'default', dataConverter: encryptingDataConverter(CODEC_KEYS) }),
      bundleWorkflows(),
      startTestAppleEngines(path.join(this.dataDir, 'apple'), `http://127.0.0.1:${apiPort}`),
    ]);
    this.db = db;
    this.temporal = temporal;
    this.engines = engines.running;
    this.apple = engines.apple;
    this.activities = createActivities({
      models: db.models,
      mailer: createSmtpMailer(smtpUrl, 'Self-Service Setup <no-reply@test.invalid>'),
      sms: createTwilioSms(
        { accountSid: 'ACtest0000000000000000000000000000', authToken: 'test-token', from: '+15005550006' },
        this.twilio.httpClient(),
      ),
      secrets: this.secrets,
      publicUrl: 'http://app.test',
      apple: this.apple,
    });
    this.worker = await createWorker({
      connection: temporal.nativeConnection,
      namespace: 'default',
      taskQueue: TASK_QUEUE,
      activities: this.activities,
      dataConverter: encryptingDataConverter(CODEC_KEYS),
      workflowBundle,
    });
    this.workflowBundle = workflowBundle;
    this.workerRun = this.worker.run();
    await db.models.SystemSettings.create({ deviceSetupEnabled: true, defaultOrganisationId: null, platforms: {} });
    const tokens = createApiTokens({ models: db.models, secrets: this.secrets });
    await createAuth(db.models, tokens).bootstrapSupervisor(SUPERVISOR_TOKEN);
    this.api = await this.startApi({ port: apiPort });
  }

  /** An API whose public URL is its own address: what a simulated device, which follows the links, talks to. */
  async startDeviceFacingApi(overrides: Parameters<TestSystem['startApi']>[0] = {}): Promise<ApiUnderTest> {
    const port = await freeLoopbackPort();
    return this.startApi({ ...overrides, port, publicUrl: `http://127.0.0.1:${port}` });
  }

  /** The services' dependencies an API of the test system is built from: the test system's, with a test's overrides. */
  serviceDeps(overrides: ApiOverrides = {}): ServiceDeps {
    return {
      client: overrides.client ?? this.temporal.client,
      models: this.db.models,
      rateLimitStore: this.db.rateLimitStore,
      secrets: this.secrets,
      logger: overrides.logger ?? createLogger('silent'),
      apple: overrides.apple === 'off' ? undefined : (overrides.apple ?? this.apple),
      config: {
        publicUrl: overrides.publicUrl ?? 'http://app.test',
        temporal: { taskQueue: TASK_QUEUE },
        timings: { ...TEST_TIMINGS, ...overrides.timings },
        invitationTtlMs: overrides.invitationTtlMs ?? 7 * 86_400_000,
        owners: { ...TEST_OWNER_RULES, ...overrides.owners },
        limits: { ...TEST_LIMITS, ...overrides.limits },
        trustProxy: overrides.trustProxy ?? ['loopback'],
        registrationsPerMinute: overrides.registrationsPerMinute ?? 100_000,
        scepRequestsPerMinute: overrides.scepRequestsPerMinute ?? 100_000,
        machineRefusalsPerMinute: overrides.machineRefusalsPerMinute ?? 100_000,
        siteName: SITE_NAME,
        siteHelp: SITE_HELP,
      },
      codec: {
        keys: CODEC_KEYS,
        plaintext: overrides.plaintextPayloads ?? 'refuse',
        uiOrigin: UI_ORIGIN,
        allowLocalUi: true,
      },
      // The test system delivers for real (SMTP, Twilio fake); an outbox page is asked for explicitly.
      devOutbox: overrides.devOutbox ?? false,
    };
  }

  async startApi(overrides: ApiOverrides = {}): Promise<ApiUnderTest> {
    const deps = this.serviceDeps(overrides);
    const server = await new Promise<Server>((resolve) => {
      const s = createApp(deps).listen(overrides.port ?? 0, overrides.host ?? '127.0.0.1', () => resolve(s));
    });
    const api = new ApiUnderTest(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    // Settled by now: a test may stop and start the server again on the same address.
    api.address = server.address() as AddressInfo;
    this.apis.push(api);
    return api;
  }

  /** Stops the worker as a crash would leave things (its tasks unfinished) and starts a new one in its place. */
  async restartWorker(): Promise<void> {
    this.worker.shutdown();
    await this.workerRun;
    this.worker = await createWorker({
      connection: this.temporal.nativeConnection,
      namespace: 'default',
      taskQueue: TASK_QUEUE,
      activities: this.activities,
      dataConverter: encryptingDataConverter(CODEC_KEYS),
      workflowBundle: this.workflowBundle,
    });
    this.workerRun = this.worker.run();
  }

  async stop(): Promise<void> {
    await Promise.all(this.apis.map((api) => api.close()));
    this.worker.shutdown();
    await this.workerRun;
    await this.temporal.close();
    await this.engines.stop();
    await this.db.close();
    await Promise.all([this.mail.stop(), this.twilio.stop()]);
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /**
   * A workflow's history exactly as Temporal stores it (no codec), in the CLI's JSON: what an operator or a database
   * backup sees, and the canonical format the SDK's historyFromJSON reads.
   */
  rawHistory(workflowId: string): string {
    return execFileSync(temporalCliPath(), [
      ...['workflow', 'show', '--workflow-id', workflowId],
      ...['--address', this.temporal.address, '--output', 'json'],
    ]).toString();
  }

  async setSystem(settings: {
    deviceSetupEnabled?: boolean;
    defaultOrganisation?: string | null;
    platforms?: PlatformSettings;
  }) {
    const row = await this.db.models.SystemSettings.findOne();
    const defaultOrganisationId =
      settings.defaultOrganisation === undefined
        ? row?.defaultOrganisationId
        : settings.defaultOrganisation === null
          ? null
          : (await this.db.models.Organisation.findOne({ where: { slug: settings.defaultOrganisation } }))?.id;
    await row?.update({
      deviceSetupEnabled: settings.deviceSetupEnabled ?? row.deviceSetupEnabled,
      defaultOrganisationId: defaultOrganisationId ?? null,
      platforms: settings.platforms ?? row.platforms,
    });
  }

  /** An organisation with an account template and device templates for the given platforms (until the settings API). */
  async createOrganisation(slug: string, options: { emailRequirement?: string; platforms?: Platform[] } = {}) {
    const { models } = this.db;
    const organisation = await models.Organisation.create({
      slug,
      name: `Org ${slug}`,
      emailRequirement: options.emailRequirement ?? null,
    });
    const accountTemplate = await models.AccountTemplate.create({
      organisationId: organisation.id,
      name: `${slug} users`,
      locale: 'de-DE',
      timeZone: 'Europe/Berlin',
      role: 'employee',
      groups: ['staff', slug],
      validityDays: 30,
      attributes: { costCentre: '4711' },
    });
    await organisation.update({
      enabled: true,
      accountTemplateId: accountTemplate.id,
      // The organisation's own MDM, which enrols its Windows PCs and reports back through the signed webhook.
      windowsMdmDiscoveryUrl: `https://enterpriseenrollment.${slug}.example/EnrollmentServer/Discovery.svc`,
      mdmWebhookSecret: this.secrets.seal(mdmWebhookSecretOf(slug)),
      mdmWebhookSecretCreatedAt: new Date(),
    });
    const deviceTemplates = new Map<Platform, number>();
    for (const platform of options.platforms ?? (['android', 'ios', 'macos', 'windows'] as Platform[])) {
      const template = await models.DeviceTemplate.create({
        organisationId: organisation.id,
        name: `${slug} ${platform}`,
        platform,
        groups: [`${platform}-fleet`],
        description: `${platform} devices of ${slug}`,
        management: TEST_MANAGEMENT[platform](slug),
      });
      await models.OrganisationDeviceTemplate.create({
        organisationId: organisation.id,
        platform,
        deviceTemplateId: template.id,
      });
      deviceTemplates.set(platform, template.id);
    }
    return { organisation, accountTemplate, deviceTemplates };
  }
}

let current: TestSystem | undefined;

export function system(): TestSystem {
  if (!current) throw new Error('the test system is not started (test/support/hooks.ts)');
  return current;
}

export async function startSystem(): Promise<void> {
  current = new TestSystem();
  await current.start();
}

export async function stopSystem(): Promise<void> {
  await current?.stop();
  current = undefined;
}
