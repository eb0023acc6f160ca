import type { ServiceDeps } from '../../services/context';

export interface EngineStatus {
  name: 'NanoMDM' | 'SCEP server';
  url: string;
  /** Answered in time with a 200. */
  reachable: boolean;
  /** Why not, for the supervisor. */
  problem?: string;
}

/**
 * Whether the enrolment engines answer now (Configuration › Platforms): NanoMDM's version endpoint and the SCEP
 * server's capabilities, each within two seconds. Without Apple enrolment set up there is nothing to ask.
 */
/** Who signs the enrolment profiles (Configuration › Platforms), or undefined without Apple enrolment. */
export interface ProfileSigningStatus {
  subject: string;
  /** The day the certificate expires, `YYYY-MM-DD`. */
  validUntil: string;
  /** Made by the service at its first start: devices show the profiles as "Not Verified". */
  selfSigned: boolean;
}

export function profileSigningStatus({ apple }: Pick<ServiceDeps, 'apple'>): ProfileSigningStatus | undefined {
  if (!apple) return undefined;
  const { certificate, selfSigned } = apple.profileSigner;
  return {
    subject: certificate.subject.replace(/\n/g, ', '),
    validUntil: new Date(certificate.validTo).toISOString().slice(0, 10),
    selfSigned,
  };
}

export async function enginesStatus({ apple }: Pick<ServiceDeps, 'apple'>): Promise<EngineStatus[]> {
  if (!apple) return [];
  const probe = async (name: EngineStatus['name'], url: string): Promise<EngineStatus> => {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      return response.ok
        ? { name, url, reachable: true }
        : { name, url, reachable: false, problem: `it answered HTTP ${response.status}` };
    } catch (error) {
      return {
        name,
        url,
        reachable: false,
        problem: (error as Error).name === 'TimeoutError' ? 'no answer in 2 s' : 'no answer',
      };
    }
  };
  return Promise.all([
    probe('NanoMDM', `${apple.nanomdmUrl}/version`),
    probe('SCEP server', `${apple.scepUrl}?operation=GetCACaps`),
  ]);
}
