import type { Server } from 'node:http';
import { Runtime, type Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from '../activities';
import { createOutboxMailer, createSmtpMailer } from '../activities/mail';
import { createOutboxSms, createTwilioSms } from '../activities/sms';
import { createAuth } from '../api/auth';
import { type Database, openDatabase } from '../db';
import { DEMO_ORGANISATION, seedDemoIfEmpty } from '../db/seed';
import { encryptingDataConverter, type PlaintextPayloads } from '../lib/codec';
import { type Config, loadConfig, serviceConfigOf } from '../lib/config';
import { handOver } from '../lib/handover';
import { createLogger, temporalLogger } from '../lib/logger';
import { createSecrets } from '../lib/secrets';
import { openTemporal, type TemporalConnections } from '../lib/temporal';
import { createWorker } from '../lib/worker';
import { type AppleEnrolmentRuntime, openAppleEnrolment, servedApple } from '../platforms/apple/runtime';
import { createApiTokens } from '../services/admin/api-tokens';
import { firstSupervisorSetupLink, setupLinkExpired, setupLinkHandedOver } from '../services/admin/setup';
import { createApp } from './app';

/** How the processes are put together from the config: shared by `npm start`, the api and the worker entry points. */

export interface Base {
  config: Config;
  /** What the codec does with payloads without our encryption: the setting, else the installation's default. */
  plaintextPayloads: PlaintextPayloads;
  logger: Logger;
  db: Database;
  temporal: TemporalConnections;
  apple: AppleEnrolmentRuntime;
}

/**
 * `embedded`: this process is the whole system (`npm start`) and may start NanoMDM and SCEP itself. `servesApi`: it
 * runs the API, which signs the enrolment profiles (a worker never opens the signing files).
 */
export async function openBase({
  embedded = false,
  servesApi = false,
}: {
  embedded?: boolean;
  servesApi?: boolean;
} = {}): Promise<Base> {
  // Our own ordered shutdown (stopOnSignal) handles the signals, not the SDK's default handlers.
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  // The worker's own log lines (an activity that failed, with its error) go through the same redaction.
  Runtime.install({ shutdownSignals: [], logger: temporalLogger(logger) });
  const db = await openDatabase(config.databaseUrl);
  if (config.seedDemo && (await seedDemoIfEmpty(db))) {
    logger.info(`empty database: seeded the demo organisation "${DEMO_ORGANISATION}" with templates`);
  }
  const plaintextPayloads = config.plaintextPayloads ?? db.installation.plaintextPayloads;
  if (plaintextPayloads === 'accept') {
    logger.warn(
      'Temporal payloads without our encryption are accepted (an installation from before encryption, or ' +
        'TEMPORAL_PLAINTEXT_PAYLOADS=accept): set TEMPORAL_PLAINTEXT_PAYLOADS=refuse once none is left (docs/operations.md)',
    );
  }
  const temporal = await openTemporal(config, plaintextPayloads);
  const apple = await openAppleEnrolment(config, logger, { mayStartEngines: embedded, signsProfiles: servesApi });
  if (apple.off) logger.warn(`${apple.off} iOS and macOS devices are not offered.`);
  return { config, plaintextPayloads, logger, db, temporal, apple };
}

export async function startWorker({
  config,
  plaintextPayloads,
  db,
  temporal,
  apple,
}: Base): Promise<{ worker: Worker; running: Promise<void> }> {
  const { models } = db;
  const activities = createActivities({
    models,
    mailer: config.smtpUrl ? createSmtpMailer(config.smtpUrl, config.mailFrom) : createOutboxMailer(models),
    sms: config.twilio ? createTwilioSms(config.twilio) : createOutboxSms(models),
    secrets: createSecrets(config.appSecret),
    publicUrl: config.publicUrl,
    apple: apple.apple,
  });
  const worker = await createWorker({
    connection: temporal.nativeConnection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities,
    dataConverter: encryptingDataConverter(config.codecKeys, plaintextPayloads),
  });
  return { worker, running: worker.run() };
}

export async function startApi({ config, plaintextPayloads, logger, db, temporal, apple }: Base): Promise<Server> {
  const secrets = createSecrets(config.appSecret);
  const store = { models: db.models, secrets };
  const generated = await createAuth(db.models, createApiTokens(store)).bootstrapSupervisor(config.supervisorToken);
  const handing = { dataDir: config.dataDir, logger };
  if (generated) {
    handOver(
      {
        what: 'the supervisor token of the API',
        value: generated,
        file: 'supervisor-token',
        note: 'It is given only this once (stored hashed): keep it in your secret store, and delete the file.',
      },
      handing,
    );
  }
  const setupLink = await firstSupervisorSetupLink(store, config.publicUrl, config.adminSetupLinkTtlMs);
  if (setupLink) handOver(setupLinkHandedOver(setupLink), handing);
  else if (await setupLinkExpired(store)) {
    logger.warn('The first supervisor’s set-up link has expired: make a new one with "npm run admin:setup-link".');
  }
  const app = createApp({
    client: temporal.client,
    models: db.models,
    rateLimitStore: db.rateLimitStore,
    secrets,
    logger,
    apple: servedApple(apple),
    config: serviceConfigOf(config),
    codec: {
      keys: config.codecKeys,
      plaintext: plaintextPayloads,
      uiOrigin: config.temporalUiOrigin,
      allowLocalUi: !config.temporal.address,
    },
    devOutbox: !config.smtpUrl && !config.twilio,
  });
  return new Promise((resolve) => {
    const server = app.listen(config.port, () => resolve(server));
  });
}

/** Stops in order on SIGINT/SIGTERM: stop taking requests, let the worker drain, stop Temporal, close the database. */
export function stopOnSignal(logger: Logger, steps: Array<() => Promise<unknown>>): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: shutting down`);
    for (const step of steps) {
      try {
        await step();
      } catch (error) {
        logger.error({ err: error }, 'error while shutting down');
      }
    }
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

export const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
