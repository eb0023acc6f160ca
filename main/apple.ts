import path from 'node:path';
import type { Logger } from 'pino';
import { findAppleEngineBinaries, startAppleEngines } from '../lib/apple-engines';
import type { Config } from '../lib/config';
import type { AppleMdm } from '../lib/nanomdm';

export interface AppleEnrolmentRuntime {
  apple?: AppleMdm;
  /** Why iOS and macOS are not offered, for the operator. */
  off?: string;
  stop(): Promise<void>;
}

/**
 * Apple enrolment for this process: the operator's NanoMDM and SCEP server (configured), or — for `npm start` only —
 * both started here from the project's binaries, on loopback, with their data under `<DATA_DIR>/apple`. Without
 * them it is off, and iOS and macOS are not offered.
 */
export async function openAppleEnrolment(
  config: Config,
  logger: Logger,
  { mayStartEngines }: { mayStartEngines: boolean },
): Promise<AppleEnrolmentRuntime> {
  const nothing = async () => {};
  const { apple } = config;
  if (apple.mode === 'off') return { off: `Apple enrolment is off: ${apple.reason}.`, stop: nothing };
  if (apple.mode === 'external') {
    return {
      apple: { nanomdmUrl: apple.nanomdmUrl, scepUrl: apple.scepUrl, ...apple.keys, ...apple.rules },
      stop: nothing,
    };
  }
  if (!mayStartEngines) {
    return {
      off: 'Apple enrolment is off: NanoMDM and SCEP run embedded with `npm start` only (or set NANOMDM_URL and the rest).',
      stop: nothing,
    };
  }
  const found = findAppleEngineBinaries();
  if ('off' in found) return { off: found.off, stop: nothing };
  // The engines call this process back on loopback: NanoMDM's webhook, and the SCEP server's challenge check.
  const self = `http://127.0.0.1:${config.port}`;
  const engines = await startAppleEngines({
    binaries: found.binaries,
    dir: path.join(config.dataDir, 'apple'),
    apiKey: apple.keys.nanomdmApiKey,
    webhookUrl: `${self}/mdm/webhook`,
    webhookKey: apple.keys.webhookKey,
    verifier: { url: `${self}/mdm/scep-verify`, key: apple.keys.scepVerifyKey },
    log: (line) => logger.debug({ engine: line }, 'apple engine'),
  });
  return {
    apple: { nanomdmUrl: engines.nanomdmUrl, scepUrl: engines.scepUrl, ...apple.keys, ...apple.rules },
    stop: () => engines.stop(),
  };
}
