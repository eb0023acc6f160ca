import type { AppleKeys, AppleRules } from '../../lib/config';
import type { ProfileSigner } from './profile-signing';

/** Apple enrolment as it runs: where NanoMDM and the SCEP server answer, the shared keys, and the rules. */
export interface AppleMdm extends AppleKeys, AppleRules {
  /** NanoMDM's base URL: its `/checkin`, `/mdm` and `/v1` API. */
  nanomdmUrl: string;
  /** The SCEP server's URL (`…/scep`). */
  scepUrl: string;
}

/** Apple enrolment as the API serves it: the engines, and the signer of the profiles devices download. */
export interface AppleEnrolmentService extends AppleMdm {
  profileSigner: ProfileSigner;
}

/** NanoMDM could not take a command now (down, or answered with an error): worth trying again. */
export class NanoMdmUnavailable extends Error {}

/**
 * Queues an MDM command for a device (by its UDID, NanoMDM's enrolment id) through NanoMDM's API. Queuing the same
 * command again (a retry after an answer was lost) is a success: NanoMDM keeps one per CommandUUID.
 */
export async function enqueueCommand(apple: AppleMdm, udid: string, commandPlist: string): Promise<void> {
  const url = `${apple.nanomdmUrl}/v1/enqueue/${encodeURIComponent(udid)}${apple.push ? '' : '?nopush=1'}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'PUT',
      headers: {
        authorization: `Basic ${Buffer.from(`nanomdm:${apple.nanomdmApiKey}`).toString('base64')}`,
        'content-type': 'application/xml',
      },
      body: commandPlist,
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new NanoMdmUnavailable(`NanoMDM did not answer: ${(error as Error).message}`);
  }
  const text = await response.text();
  if (response.ok || /command already exists/.test(text)) return;
  throw new NanoMdmUnavailable(`NanoMDM refused the command: HTTP ${response.status} ${text.slice(0, 300)}`);
}
