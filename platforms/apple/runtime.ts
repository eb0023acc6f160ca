import path from 'node:path';
import type { Logger } from 'pino';
import { type Config, ConfigurationError } from '../../lib/config';
import { findAppleEngineBinaries, startAppleEngines } from './engines';
import type { AppleEnrolmentService, AppleMdm } from './nanomdm';
import { openProfileSigner, type ProfileSigner, type ProfileSigningSource } from './profile-signing';

export interface AppleEnrolmentRuntime {
  apple?: AppleMdm;
  /** The signer of enrolment profiles, opened only in a process that serves them (the API's). */
  profileSigner?: ProfileSigner;
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
  { mayStartEngines, signsProfiles }: { mayStartEngines: boolean; signsProfiles: boolean },
): Promise<AppleEnrolmentRuntime> {
  const nothing = async () => {};
  const { apple } = config;
  if (apple.mode === 'off') return { off: `Apple enrolment is off: ${apple.reason}.`, stop: nothing };
  // Before any engine starts: a signing file to fix stops the process with nothing left running.
  const signer = () => (signsProfiles ? openSigner(apple.signing, logger) : undefined);
  if (apple.mode === 'external') {
    return {
      apple: { nanomdmUrl: apple.nanomdmUrl, scepUrl: apple.scepUrl, ...apple.keys, ...apple.rules },
      profileSigner: await signer(),
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
  const profileSigner = await signer();
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
    profileSigner,
    stop: () => engines.stop(),
  };
}

/** Apple enrolment as the API serves it, from a runtime opened to sign profiles. */
export function servedApple({ apple, profileSigner }: AppleEnrolmentRuntime): AppleEnrolmentService | undefined {
  if (!apple) return undefined;
  if (!profileSigner) throw new Error('Apple enrolment was opened without its profile signer (signsProfiles)');
  return { ...apple, profileSigner };
}

/** The profile signer, or a start that stops with the reason: a deployment's signing files are its operator's to fix. */
async function openSigner(source: ProfileSigningSource, logger: Logger): Promise<ProfileSigner> {
  let signer: ProfileSigner;
  try {
    signer = await openProfileSigner(source);
  } catch (error) {
    throw new ConfigurationError(`PROFILE_SIGNING_CERTIFICATE and PROFILE_SIGNING_KEY: ${(error as Error).message}`);
  }
  if (signer.selfSigned) {
    logger.warn(
      { certificate: signer.certificate.subject },
      'enrolment profiles are signed with a self-signed certificate, which devices show as "Not Verified"; set PROFILE_SIGNING_CERTIFICATE and PROFILE_SIGNING_KEY (say, the TLS certificate of PUBLIC_URL) to have them verified',
    );
  } else if (Date.parse(signer.certificate.validTo) < Date.now()) {
    throw new ConfigurationError(`PROFILE_SIGNING_CERTIFICATE expired on ${signer.certificate.validTo}`);
  }
  return signer;
}
