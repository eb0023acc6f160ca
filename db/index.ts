import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pLimit from 'p-limit';
import { QueryTypes, Sequelize } from 'sequelize';
import sqlite3 from 'sqlite3';
import { SequelizeStorage, Umzug } from 'umzug';
import type { PlaintextPayloads } from '../lib/codec';
import * as initial from './migrations/001-initial';
import * as apiTokens from './migrations/002-api-tokens';
import * as returningOwners from './migrations/003-returning-owners';
import * as appleEnrolment from './migrations/004-apple-enrolment';
import * as externalMdm from './migrations/005-external-mdm';
import * as adminUsers from './migrations/006-admin-users';
import * as provenPhones from './migrations/007-proven-phones';
import * as appleUdids from './migrations/008-apple-udids';
import * as knownDevices from './migrations/009-known-devices';
import * as setupLinkExpiry from './migrations/010-setup-link-expiry';
import * as installation from './migrations/011-installation';
import { defineModels, type Models } from './models';

export interface Database {
  sequelize: Sequelize;
  models: Models;
  installation: Installation;
  rateLimitStore: RateLimitStore;
  close(): Promise<void>;
}

/** What was decided when this installation's database was made. */
export interface Installation {
  /** The default of TEMPORAL_PLAINTEXT_PAYLOADS: `refuse` for a new installation, `accept` for one from before. */
  plaintextPayloads: PlaintextPayloads;
}

/** What rate-limiter-flexible needs to keep its counters in this database (table `sign_in_limits`). */
export type RateLimitStore =
  | { dialect: 'sqlite'; storeClient: sqlite3.Database; storeType: 'sqlite3'; serially: Serially }
  | { dialect: 'postgres'; storeClient: Sequelize; storeType: 'sequelize'; serially: Serially };

/** Runs one counter operation at a time on the store's connection (SQLite), or as it comes (PostgreSQL). */
export type Serially = <T>(operation: () => Promise<T>) => Promise<T>;

/**
 * Where the limits' counters live. PostgreSQL: the same database (table `sign_in_limits`, from the migrations).
 * SQLite: a file of its own beside the database (`<name>.limits`), on a connection of its own. Counters are written on
 * every guess at a secret, and in the same file those writes waited on the worker's (SQLite has one writer at a time,
 * and its busy handler sleeps in steps of up to tens of milliseconds). They also need no fsync per write: a counter lost
 * with the machine's power is harmless. On that connection the limiter's transactions (a savepoint around one upsert)
 * run one at a time: concurrent ones would nest inside each other and keep the write lock for as long as requests keep
 * coming, and one that fails is left open (the library rolls back to its savepoint without releasing it), so it is
 * ended here before the next one starts.
 */
async function openRateLimitStore(
  sequelize: Sequelize,
  storage: string,
): Promise<{ store: RateLimitStore; close(): Promise<void> }> {
  if (sequelize.getDialect() === 'postgres') {
    const stopSweeping = sweepExpiredLimits((cutoff) =>
      sequelize.query('DELETE FROM sign_in_limits WHERE expire < :cutoff', { replacements: { cutoff } }),
    );
    return {
      store: {
        dialect: 'postgres',
        storeClient: sequelize,
        storeType: 'sequelize',
        serially: (operation) => operation(),
      },
      close: async () => stopSweeping(),
    };
  }
  const connection = new sqlite3.Database(storage === ':memory:' ? storage : `${storage}.limits`);
  connection.configure('busyTimeout', BUSY_TIMEOUT_MS);
  await new Promise<void>((resolve, reject) =>
    connection.exec(
      `PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
       CREATE TABLE IF NOT EXISTS sign_in_limits (key VARCHAR(255) PRIMARY KEY, points INTEGER NOT NULL DEFAULT 0, expire BIGINT)`,
      (error) => (error ? reject(error) : resolve()),
    ),
  );
  const oneAtATime = pLimit(1);
  const endTransaction = () => new Promise<void>((resolve) => connection.exec('ROLLBACK', () => resolve()));
  const serially: Serially = (operation) =>
    oneAtATime(async () => {
      try {
        return await operation();
      } catch (error) {
        // A refusal (the limit is spent) is an answer, not a failure of the connection.
        if (error instanceof Error) await endTransaction();
        throw error;
      }
    });
  const stopSweeping = sweepExpiredLimits((cutoff) =>
    serially(
      () =>
        new Promise<void>((resolve, reject) =>
          connection.run('DELETE FROM sign_in_limits WHERE expire < ?', [cutoff], (error) =>
            error ? reject(error) : resolve(),
          ),
        ),
    ),
  );
  return {
    store: { dialect: 'sqlite', storeClient: connection, storeType: 'sqlite3', serially },
    close: () => {
      stopSweeping();
      return new Promise((resolve) => connection.close(() => resolve()));
    },
  };
}

/**
 * Deletes the limits' counters an hour after they expired, every five minutes, as rate-limiter-flexible would — but
 * once per store rather than once per limiter, stopped when the store closes, and a failed sweep (the database busy
 * or gone) is left to the next one: the library's own timer lets a failure escape as an unhandled rejection, which
 * stops the process (it did, in the test suite, firing after the database had closed).
 */
function sweepExpiredLimits(sweep: (cutoffMs: number) => Promise<unknown>): () => void {
  const timer = setInterval(() => {
    sweep(Date.now() - 3_600_000).catch(() => {});
  }, 300_000);
  timer.unref();
  return () => clearInterval(timer);
}

/** Advisory-lock key that serialises migrations across processes (any constant shared by all of them). */
const MIGRATION_LOCK = 0x5e1f5e7;

/** Migrations in order; listed here rather than globbed so the bundle of a process is what it runs. */
const MIGRATIONS = [
  { name: '001-initial', ...initial },
  { name: '002-api-tokens', ...apiTokens },
  { name: '003-returning-owners', ...returningOwners },
  { name: '004-apple-enrolment', ...appleEnrolment },
  { name: '005-external-mdm', ...externalMdm },
  { name: '006-admin-users', ...adminUsers },
  { name: '007-proven-phones', ...provenPhones },
  { name: '008-apple-udids', ...appleUdids },
  { name: '009-known-devices', ...knownDevices },
  { name: '010-setup-link-expiry', ...setupLinkExpiry },
  { name: '011-installation', ...installation },
];

/** How long a SQLite writer waits for another one (in this or another process) before it fails with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5_000;

/**
 * Gives every SQLite connection Sequelize opens a busy timeout. A PRAGMA reaches only the connection it runs on, and
 * Sequelize opens a connection of its own for each transaction; without this, two transactions at once (devices added
 * at the same moment) fail at once with SQLITE_BUSY instead of taking turns.
 */
function waitWhenBusy(sequelize: Sequelize): void {
  const manager = sequelize.connectionManager as unknown as {
    getConnection(options?: object): Promise<sqlite3.Database>;
  };
  const open = manager.getConnection.bind(manager);
  manager.getConnection = async (options) => {
    const connection = await open(options);
    connection.configure('busyTimeout', BUSY_TIMEOUT_MS);
    return connection;
  };
}

/** Opens the database named by a URL (`sqlite:<file>` or `postgres://…`) and brings its schema up to date. */
export async function openDatabase(url: string): Promise<Database> {
  let sequelize: Sequelize;
  const storage = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : '';
  if (storage) {
    if (storage !== ':memory:') mkdirSync(path.dirname(path.resolve(storage)), { recursive: true });
    // Only a busy database is worth trying again (Sequelize's own match, with more tries); a constraint or a missing
    // table fails at once instead of ten times with back-off.
    sequelize = new Sequelize({
      dialect: 'sqlite',
      storage,
      logging: false,
      retry: { max: 10, match: ['SQLITE_BUSY: database is locked'] },
    });
    waitWhenBusy(sequelize);
    // WAL lets the API read while a worker writes.
    await sequelize.query('PRAGMA journal_mode = WAL');
    await sequelize.query('PRAGMA foreign_keys = ON');
  } else {
    sequelize = new Sequelize(url, { logging: false, pool: { max: 10 } });
  }
  const migrate = async () => {
    const umzug = new Umzug({
      migrations: MIGRATIONS,
      context: sequelize.getQueryInterface(),
      storage: new SequelizeStorage({ sequelize, tableName: 'schema_migrations' }),
      logger: undefined,
    });
    // No migration run yet: a new installation, whose Temporal holds nothing written before encryption.
    const fresh = (await umzug.executed()).length === 0;
    await umzug.up();
    await sequelize.query(
      // Kept if there: decided once, by whichever process migrated the database first.
      'INSERT INTO installation (id, plaintext_payloads, created_at) VALUES (1, :plaintext, :now) ON CONFLICT DO NOTHING',
      { replacements: { plaintext: fresh ? 'refuse' : 'accept', now: new Date() } },
    );
  };
  if (sequelize.getDialect() === 'postgres') {
    // Several API and worker processes start at once on one database: one migrates, the others wait for it.
    await sequelize.transaction(async (transaction) => {
      await sequelize.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`, { transaction });
      await migrate();
    });
  } else {
    await migrate();
  }
  const models = defineModels(sequelize);
  const limits = await openRateLimitStore(sequelize, storage);
  // The row is there once the migrations ran (above, or by another process).
  const [{ plaintext_payloads }] = (await sequelize.query('SELECT plaintext_payloads FROM installation WHERE id = 1', {
    type: QueryTypes.SELECT,
  })) as [{ plaintext_payloads: PlaintextPayloads }];
  return {
    sequelize,
    models,
    installation: { plaintextPayloads: plaintext_payloads },
    rateLimitStore: limits.store,
    close: async () => {
      await limits.close();
      await sequelize.close();
    },
  };
}
