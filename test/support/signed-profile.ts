import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The property list inside a signed profile (CMS SignedData, DER), once its signature and chain check out against
 * `trustedPem` (the roots a device trusts), as a profile installer checks it before it shows "Verified". Throws with
 * openssl's reason otherwise.
 */
export function verifiedProfile(body: Buffer, trustedPem: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'profile-roots-'));
  try {
    const roots = path.join(dir, 'roots.pem');
    writeFileSync(roots, trustedPem);
    return execFileSync(
      'openssl',
      ['cms', '-verify', '-inform', 'DER', '-binary', '-CAfile', roots, '-purpose', 'any'],
      { input: body, stdio: ['pipe', 'pipe', 'pipe'] },
    ).toString('utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
