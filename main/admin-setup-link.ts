import { openDatabase } from '../db';
import { loadConfig } from '../lib/config';
import { handOver } from '../lib/handover';
import { createLogger } from '../lib/logger';
import { createSecrets } from '../lib/secrets';
import { replaceSetupLink, setupLinkHandedOver } from '../services/admin/setup';
import { runMain } from './run';

/**
 * `npm run admin:setup-link [-- --recovery]`: a new set-up link for the first supervisor, in place of an unused or
 * expired one, handed over as at the first start (on a terminal, else in a file of the data folder). With the same
 * settings as the API: it needs the database and APP_SECRET, not Temporal.
 */
async function main() {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const db = await openDatabase(config.databaseUrl);
  try {
    const link = await replaceSetupLink(
      { models: db.models, secrets: createSecrets(config.appSecret) },
      { publicUrl: config.publicUrl, ttlMs: config.adminSetupLinkTtlMs, recovery: process.argv.includes('--recovery') },
    );
    handOver(setupLinkHandedOver(link), { dataDir: config.dataDir, logger });
  } finally {
    await db.close();
  }
}

runMain(main);
