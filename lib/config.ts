import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { FlowTimings } from '../domain/timings';
import type { ProfileSigningSource } from '../platforms/apple/profile-signing';
import { type CodecKey, newCodecKey, type PlaintextPayloads, parseCodecKeys } from './codec';

/** The one place that reads the environment. Every process (all-in-one, api, worker, tests) builds a Config here. */

/** A setting the operator must fix: the process stops and says which, in one line (main/run.ts). */
export class ConfigurationError extends Error {
  constructor(problem: string) {
    super(`invalid configuration: ${problem}`);
    this.name = 'ConfigurationError';
  }
}

const durationPattern = /^(\d+)(ms|s|m|h|d)$/;
const unitMs = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
} as const;

/** "90s", "15m", "7d" → milliseconds. */
export function parseDuration(value: string): number {
  const match = durationPattern.exec(value.trim());
  if (!match) throw new Error(`not a duration: "${value}" (use e.g. 500ms, 90s, 15m, 24h, 7d)`);
  return Number(match[1]) * unitMs[match[2] as keyof typeof unitMs];
}

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      try {
        return parseDuration(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    });

const count = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/**
 * Express's `trust proxy` setting from its text form: a hop count, true/false, or a comma-separated list of addresses,
 * CIDRs and Express's names (loopback, linklocal, uniquelocal).
 */
export function parseTrustProxy(value: string): boolean | number | string[] {
  if (/^\d+$/.test(value)) return Number(value);
  if (value === 'true' || value === 'false') return value === 'true';
  return value.split(',').map((part) => part.trim());
}

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  PUBLIC_URL: z.string().url().optional(),
  DATA_DIR: z.string().default('data'),
  DATABASE_URL: z.string().optional(),
  TEMPORAL_ADDRESS: z.string().optional(),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('self-service-setup'),
  TEMPORAL_UI_PORT: z.coerce.number().int().default(8233),
  TEMPORAL_DEV_PORT: z.coerce.number().int().default(7233),
  SMTP_URL: z.string().optional(),
  MAIL_FROM: z.string().default('Self-Service Setup <no-reply@localhost>'),
  TWILIO_ACCOUNT_SID: z.string().optional(),
  TWILIO_AUTH_TOKEN: z.string().optional(),
  TWILIO_FROM: z.string().optional(),
  APP_SECRET: z.string().min(32).optional(),
  TEMPORAL_CODEC_KEY: z.string().optional(),
  TEMPORAL_PLAINTEXT_PAYLOADS: z.enum(['refuse', 'accept']).optional(),
  TEMPORAL_UI_ORIGIN: z.string().url().optional(),
  // A bearer token the API accepts: 16–512 URL-safe base64 characters, like the tokens it issues itself.
  SUPERVISOR_TOKEN: z
    .string()
    .regex(/^[A-Za-z0-9_-]{16,512}$/, '16 to 512 characters A–Z a–z 0–9 _ - (a bearer token)')
    .optional(),
  REGISTRATION_TTL: duration('3d'),
  CODE_TTL: duration('15m'),
  LINK_TTL: duration('7d'),
  LINK_REMINDER: duration('1d'),
  INVITATION_TTL: duration('7d'),
  ADMIN_SETUP_LINK_TTL: duration('1d'),
  SESSION_IDLE: duration('30m'),
  SESSION_ABSOLUTE: duration('12h'),
  SIGN_IN_WINDOW: duration('15m'),
  SIGN_IN_FAILURES_PER_ACCOUNT_AND_ADDRESS: count(5),
  SIGN_IN_FAILURES_PER_ADDRESS: count(20),
  SIGN_IN_ACCOUNT_WINDOW: duration('5m'),
  SIGN_IN_FAILURES_PER_ACCOUNT: count(10),
  SIGN_IN_FAILURES_PER_DEVICE: count(5),
  KNOWN_DEVICE_TTL: duration('30d'),
  CODE_WINDOW: duration('1h'),
  CODE_FAILURES_PER_ADDRESS: count(30),
  VERIFY_FAILURES_PER_ORGANISATION: count(1000),
  RESUME_WINDOW: duration('1h'),
  RESUMES_PER_ADDRESS: count(10),
  RESET_WINDOW: duration('1d'),
  RESET_FAILURES_PER_ACCOUNT_AND_ADDRESS: count(10),
  RESET_ACCOUNT_WINDOW: duration('1h'),
  RESET_FAILURES_PER_ACCOUNT: count(10),
  PASSWORD_HASHING_QUEUE: count(32),
  SMS_PER_ACCOUNT_PER_DAY: count(10),
  SMS_PER_NUMBER_PER_DAY: count(5),
  SMS_PER_ORGANISATION_PER_DAY: count(1000),
  DEVICES_PER_ACCOUNT_PER_DAY: count(10),
  DEVICE_CHANGES_PER_MINUTE: count(10),
  TRUST_PROXY: z.string().trim().min(1).default('loopback'),
  RESEND_INTERVAL: duration('30s'),
  MAX_CODE_ATTEMPTS: z.coerce.number().int().min(1).default(5),
  MAX_RESENDS: z.coerce.number().int().min(0).default(5),
  REGISTRATIONS_PER_MINUTE: z.coerce.number().int().min(1).default(30),
  SCEP_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).default(60),
  MACHINE_REFUSALS_PER_MINUTE: z.coerce.number().int().min(1).default(30),
  SEED_DEMO: z.enum(['true', 'false']).default('true'),
  SITE_NAME: z.string().trim().min(1).default('Self-Service Setup'),
  SITE_HELP: z.string().trim().default('Need help? Contact your organisation’s IT support.'),
  APPLE_ENROLMENT: z.enum(['auto', 'off']).default('auto'),
  NANOMDM_URL: z.string().url().optional(),
  NANOMDM_API_KEY: z.string().min(16).optional(),
  NANOMDM_WEBHOOK_KEY: z.string().min(16).optional(),
  SCEP_URL: z.string().url().optional(),
  SCEP_VERIFY_KEY: z.string().min(16).optional(),
  APPLE_MDM_TOPIC: z
    .string()
    .regex(/^com\.apple\.mgmt\.[A-Za-z0-9._-]+$/, 'the APNs push certificate’s topic, com.apple.mgmt.External.…')
    .default('com.apple.mgmt.External.self-service-setup'),
  APPLE_PUSH: z.enum(['true', 'false']).default('false'),
  APPLE_SETTINGS_TIMEOUT: duration('1d'),
  PROFILE_SIGNING_CERTIFICATE: z.string().min(1).optional(),
  PROFILE_SIGNING_KEY: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface TwilioConfig {
  accountSid: string;
  authToken: string;
  from: string;
}

/** The keys shared with NanoMDM and the SCEP server's challenge check. */
export interface AppleKeys {
  /** NanoMDM's API key (basic auth `nanomdm:<key>`). */
  nanomdmApiKey: string;
  /** The key NanoMDM signs its webhook calls with (HMAC-SHA-256). */
  webhookKey: string;
  /** The bearer key the SCEP server's challenge check presents. */
  scepVerifyKey: string;
}

/** What every Apple enrolment needs, wherever the engines run. */
export interface AppleRules {
  /** The APNs push certificate's topic: the profile's `Topic`. */
  topic: string;
  /** A push certificate is uploaded to NanoMDM: commands are pushed, not only picked up at the next connection. */
  push: boolean;
}

/**
 * Apple enrolment (iOS, macOS): NanoMDM and a SCEP server started by `npm start` (embedded), the operator's (external),
 * or off, with the reason the operator is told.
 */
export type AppleConfig =
  | { mode: 'embedded'; keys: AppleKeys; rules: AppleRules; signing: ProfileSigningSource }
  | {
      mode: 'external';
      nanomdmUrl: string;
      scepUrl: string;
      keys: AppleKeys;
      rules: AppleRules;
      signing: ProfileSigningSource;
    }
  | { mode: 'off'; reason: string };

export interface Config {
  port: number;
  publicUrl: string;
  dataDir: string;
  databaseUrl: string;
  temporal: {
    address?: string;
    namespace: string;
    taskQueue: string;
    uiPort: number;
    devPort: number;
  };
  smtpUrl?: string;
  mailFrom: string;
  twilio?: TwilioConfig;
  /** Key for keyed hashes, derived tokens and registration ids; identical in every API and worker process. */
  appSecret: Buffer;
  /** Keys of the payload codec, the first one encrypts; identical in every API and worker process. */
  codecKeys: CodecKey[];
  /**
   * Whether payloads without our encryption are refused or read (TEMPORAL_PLAINTEXT_PAYLOADS); unset, the installation
   * decides (db/index.ts: `refuse` for a new one, `accept` for one that may hold payloads from before encryption).
   */
  plaintextPayloads?: PlaintextPayloads;
  /** The Temporal Web UI allowed to call the codec endpoint from the browser (CORS). */
  temporalUiOrigin: string;
  supervisorToken?: string;
  timings: FlowTimings;
  /** How long an invitation to manage an organisation can be accepted (INVITATION_TTL); sending it again renews it. */
  invitationTtlMs: number;
  /** How long the first supervisor's set-up link works (ADMIN_SETUP_LINK_TTL); `npm run admin:setup-link` makes another. */
  adminSetupLinkTtlMs: number;
  owners: OwnerRules;
  limits: AttemptRules;
  /** Express's `trust proxy`: which hops' X-Forwarded-For is believed when telling clients apart. */
  trustProxy: boolean | number | string[];
  registrationsPerMinute: number;
  /** SCEP requests one client address may make per minute (a device makes about three). */
  scepRequestsPerMinute: number;
  /** Refused calls (4xx) of devices, MDMs and engines one client address may make per minute before it must wait. */
  machineRefusalsPerMinute: number;
  seedDemo: boolean;
  logLevel: string;
  /** Shown on every web page: the site's name (in titles and the header) and a short help text (in the footer). */
  siteName: string;
  siteHelp: string;
  apple: AppleConfig;
}

/**
 * The part of the configuration the API's services, routes and pages are built from (`ServiceDeps`, in
 * services/context.ts): an API process picks it from its own (`serviceConfigOf`), and a test builds just this.
 */
const SERVICE_FIELDS = [
  'publicUrl',
  'timings',
  'invitationTtlMs',
  'owners',
  'limits',
  'trustProxy',
  'registrationsPerMinute',
  'scepRequestsPerMinute',
  'machineRefusalsPerMinute',
  'siteName',
  'siteHelp',
] as const satisfies ReadonlyArray<keyof Config>;

export type ServiceConfig = Pick<Config, (typeof SERVICE_FIELDS)[number]> & {
  /** The task queue the workflows the services start run on. */
  temporal: Pick<Config['temporal'], 'taskQueue'>;
};

/** The part of the config the services are built from, and only it: no secret of the config travels with them. */
export function serviceConfigOf(config: Config): ServiceConfig {
  const picked = Object.fromEntries(SERVICE_FIELDS.map((field) => [field, config[field]]));
  return {
    ...(picked as Pick<Config, (typeof SERVICE_FIELDS)[number]>),
    temporal: { taskQueue: config.temporal.taskQueue },
  };
}

/** Session rules for returning device owners. */
export interface OwnerRules {
  /** A session ends after this long without a request, and in any case this long after sign-in. */
  sessionIdleMs: number;
  sessionAbsoluteMs: number;
  /** How long a device token lasts after the sign-in that gave it (each sign-in with it gives a new one). */
  knownDeviceTtlMs: number;
}

/** A limit on failed attempts: this many within the window; past it, 429 until the window passes. */
export interface Limit {
  points: number;
  windowMs: number;
}

/**
 * Limits on guessing secrets (passwords, verification and reset codes); docs/security.md explains the policy. Per
 * account and client address they are strict; per account alone they only throttle, so an attacker elsewhere cannot
 * lock an owner out. And limits on what an owner's requests cost or leave behind: SMS, and devices made and changed.
 */
export interface AttemptRules {
  signInPerAccountAndAddress: Limit;
  signInPerAddress: Limit;
  signInPerAccount: Limit;
  /** Wrong passwords (and codes) from one known device, counted instead of the three above; past it, it is locked. */
  signInPerDevice: Limit;
  codesPerAddress: Limit;
  verifyPerOrganisation: Limit;
  /** Registrations of one address started or resumed from one client address (each opens a session on it). */
  resumesPerAddress: Limit;
  resetPerAccountAndAddress: Limit;
  resetPerAccount: Limit;
  /** SMS sent (phone codes and links) per account, per number and per organisation, in a day: SMS cost money. */
  smsPerAccount: Limit;
  smsPerNumber: Limit;
  smsPerOrganisation: Limit;
  /** Devices an owner may make in a day, removed ones too; adds, new links and removals per account in a minute. */
  devicesPerAccount: Limit;
  deviceChanges: Limit;
  /** Password hashes waiting for a thread at most; past it, 503 with Retry-After. */
  hashingQueue: number;
}

/** Reads a secret kept in the data folder, creating it on first start (embedded default only). */
function persistentSecret(dataDir: string, name: string, generate: () => string): string {
  const file = path.join(dataDir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = generate();
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new ConfigurationError(problems);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  if (e.TEMPORAL_ADDRESS && !(e.APP_SECRET && e.TEMPORAL_CODEC_KEY)) {
    // Generated secrets would differ between machines: every process of a deployment must share them.
    throw new ConfigurationError('with TEMPORAL_ADDRESS set, APP_SECRET and TEMPORAL_CODEC_KEY are required');
  }
  if ((e.TEMPORAL_ADDRESS || e.DATABASE_URL) && !e.SMTP_URL) {
    // The local outbox is a convenience of the embedded default; a deployment keeping codes in a table loses mail.
    throw new ConfigurationError(
      'with TEMPORAL_ADDRESS or DATABASE_URL set (a real deployment), SMTP_URL is required: ' +
        'verification codes, reset codes and links are mailed, never kept in a local outbox',
    );
  }
  const twilioParts = [e.TWILIO_ACCOUNT_SID, e.TWILIO_AUTH_TOKEN, e.TWILIO_FROM];
  if (twilioParts.some(Boolean) && !twilioParts.every(Boolean)) {
    throw new ConfigurationError('set all of TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM, or none');
  }
  return {
    port: e.PORT,
    publicUrl: publicUrlOf(e),
    dataDir,
    databaseUrl: e.DATABASE_URL ?? `sqlite:${path.join(dataDir, 'app.sqlite')}`,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      uiPort: e.TEMPORAL_UI_PORT,
      devPort: e.TEMPORAL_DEV_PORT,
    },
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    twilio: e.TWILIO_ACCOUNT_SID
      ? {
          accountSid: e.TWILIO_ACCOUNT_SID,
          authToken: e.TWILIO_AUTH_TOKEN as string,
          from: e.TWILIO_FROM as string,
        }
      : undefined,
    appSecret: Buffer.from(
      e.APP_SECRET ?? persistentSecret(dataDir, 'app-secret', () => randomBytes(32).toString('base64url')),
      'utf8',
    ),
    codecKeys: parseCodecKeys(e.TEMPORAL_CODEC_KEY ?? persistentSecret(dataDir, 'codec-key', newCodecKey)),
    plaintextPayloads: e.TEMPORAL_PLAINTEXT_PAYLOADS,
    temporalUiOrigin: e.TEMPORAL_UI_ORIGIN ?? `http://localhost:${e.TEMPORAL_UI_PORT}`,
    supervisorToken: e.SUPERVISOR_TOKEN,
    timings: {
      registrationTtlMs: e.REGISTRATION_TTL,
      codeTtlMs: e.CODE_TTL,
      linkTtlMs: e.LINK_TTL,
      resendIntervalMs: e.RESEND_INTERVAL,
      maxCodeAttempts: e.MAX_CODE_ATTEMPTS,
      maxResends: e.MAX_RESENDS,
      linkReminderMs: e.LINK_REMINDER,
      settingsTimeoutMs: e.APPLE_SETTINGS_TIMEOUT,
    },
    invitationTtlMs: e.INVITATION_TTL,
    adminSetupLinkTtlMs: e.ADMIN_SETUP_LINK_TTL,
    owners: {
      sessionIdleMs: e.SESSION_IDLE,
      sessionAbsoluteMs: e.SESSION_ABSOLUTE,
      knownDeviceTtlMs: e.KNOWN_DEVICE_TTL,
    },
    limits: {
      signInPerAccountAndAddress: { points: e.SIGN_IN_FAILURES_PER_ACCOUNT_AND_ADDRESS, windowMs: e.SIGN_IN_WINDOW },
      signInPerAddress: { points: e.SIGN_IN_FAILURES_PER_ADDRESS, windowMs: e.SIGN_IN_WINDOW },
      signInPerAccount: { points: e.SIGN_IN_FAILURES_PER_ACCOUNT, windowMs: e.SIGN_IN_ACCOUNT_WINDOW },
      signInPerDevice: { points: e.SIGN_IN_FAILURES_PER_DEVICE, windowMs: e.SIGN_IN_WINDOW },
      codesPerAddress: { points: e.CODE_FAILURES_PER_ADDRESS, windowMs: e.CODE_WINDOW },
      verifyPerOrganisation: { points: e.VERIFY_FAILURES_PER_ORGANISATION, windowMs: e.CODE_WINDOW },
      resumesPerAddress: { points: e.RESUMES_PER_ADDRESS, windowMs: e.RESUME_WINDOW },
      resetPerAccountAndAddress: { points: e.RESET_FAILURES_PER_ACCOUNT_AND_ADDRESS, windowMs: e.RESET_WINDOW },
      resetPerAccount: { points: e.RESET_FAILURES_PER_ACCOUNT, windowMs: e.RESET_ACCOUNT_WINDOW },
      smsPerAccount: { points: e.SMS_PER_ACCOUNT_PER_DAY, windowMs: unitMs.d },
      smsPerNumber: { points: e.SMS_PER_NUMBER_PER_DAY, windowMs: unitMs.d },
      smsPerOrganisation: { points: e.SMS_PER_ORGANISATION_PER_DAY, windowMs: unitMs.d },
      devicesPerAccount: { points: e.DEVICES_PER_ACCOUNT_PER_DAY, windowMs: unitMs.d },
      deviceChanges: { points: e.DEVICE_CHANGES_PER_MINUTE, windowMs: unitMs.m },
      hashingQueue: e.PASSWORD_HASHING_QUEUE,
    },
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    registrationsPerMinute: e.REGISTRATIONS_PER_MINUTE,
    scepRequestsPerMinute: e.SCEP_REQUESTS_PER_MINUTE,
    machineRefusalsPerMinute: e.MACHINE_REFUSALS_PER_MINUTE,
    seedDemo: e.SEED_DEMO === 'true',
    logLevel: e.LOG_LEVEL,
    siteName: e.SITE_NAME,
    siteHelp: e.SITE_HELP,
    apple: appleConfig(e, dataDir),
  };
}

const publicUrlOf = (e: z.infer<typeof envSchema>) =>
  (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');

/**
 * Apple's schema takes only `https://` for a profile's ServerURL and CheckInURL, so devices in the field never enrol
 * under an http address; a loopback one is a test on this machine (the simulated device, the benchmark).
 */
function assertHttpsForApple(publicUrl: string): void {
  const { protocol, hostname } = new URL(publicUrl);
  const loopback = hostname === 'localhost' || hostname === '[::1]' || /^127\./.test(hostname);
  if (protocol !== 'https:' && !loopback) {
    throw new ConfigurationError(
      `Apple enrolment needs an https PUBLIC_URL (Apple devices take only https ServerURL and CheckInURL): PUBLIC_URL is ${publicUrl}`,
    );
  }
}

function appleConfig(e: z.infer<typeof envSchema>, dataDir: string): AppleConfig {
  if (e.APPLE_ENROLMENT === 'off') return { mode: 'off', reason: 'APPLE_ENROLMENT=off' };
  const rules = {
    topic: e.APPLE_MDM_TOPIC,
    push: e.APPLE_PUSH === 'true',
    settingsTimeoutMs: e.APPLE_SETTINGS_TIMEOUT,
  };
  const signing = profileSigningOf(e, dataDir);
  const external = [e.NANOMDM_URL, e.NANOMDM_API_KEY, e.NANOMDM_WEBHOOK_KEY, e.SCEP_URL, e.SCEP_VERIFY_KEY];
  if (external.some(Boolean)) {
    if (!external.every(Boolean)) {
      throw new ConfigurationError(
        'set all of NANOMDM_URL, NANOMDM_API_KEY, NANOMDM_WEBHOOK_KEY, SCEP_URL and ' +
          'SCEP_VERIFY_KEY (your NanoMDM and SCEP server), or none',
      );
    }
    assertHttpsForApple(publicUrlOf(e));
    return {
      mode: 'external',
      nanomdmUrl: (e.NANOMDM_URL as string).replace(/\/+$/, ''),
      scepUrl: e.SCEP_URL as string,
      keys: {
        nanomdmApiKey: e.NANOMDM_API_KEY as string,
        webhookKey: e.NANOMDM_WEBHOOK_KEY as string,
        scepVerifyKey: e.SCEP_VERIFY_KEY as string,
      },
      rules,
      signing,
    };
  }
  if (e.TEMPORAL_ADDRESS || e.DATABASE_URL) {
    return { mode: 'off', reason: 'a deployment names its NanoMDM and SCEP server: set NANOMDM_URL and the rest' };
  }
  const key = (name: string) => persistentSecret(dataDir, name, () => randomBytes(32).toString('base64url'));
  return {
    mode: 'embedded',
    keys: {
      nanomdmApiKey: key('nanomdm-api-key'),
      webhookKey: key('nanomdm-webhook-key'),
      scepVerifyKey: key('scep-verify-key'),
    },
    rules,
    signing,
  };
}

/** The operator's certificate (PEM, the chain after it) and key for signing enrolment profiles, or one made here. */
function profileSigningOf(e: z.infer<typeof envSchema>, dataDir: string): ProfileSigningSource {
  const { PROFILE_SIGNING_CERTIFICATE: certificateFile, PROFILE_SIGNING_KEY: keyFile } = e;
  if (certificateFile && keyFile) return { certificateFile, keyFile };
  if (certificateFile || keyFile) {
    throw new ConfigurationError('set both PROFILE_SIGNING_CERTIFICATE and PROFILE_SIGNING_KEY, or neither');
  }
  return { selfSignedIn: dataDir };
}
