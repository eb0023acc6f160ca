import type { Secrets } from '../lib/secrets';

/**
 * State a browser carries from one step of a form to the next (a sign-in's first factor until its code, the first
 * supervisor's choices until the code confirms them), sealed with APP_SECRET: the browser can neither read nor change
 * it, and it is refused after its time, or in another step's place (its purpose is sealed with it). Nothing to store,
 * nothing to clean up.
 */
export function sealState<T>(secrets: Secrets, purpose: string, state: T, ttlMs: number): string {
  return secrets.seal(JSON.stringify({ purpose, until: Date.now() + ttlMs, state }));
}

/** What `sealState` sealed for this purpose, while it lasts; undefined for anything else. */
export function unsealState<T>(secrets: Secrets, purpose: string, sealed: string | undefined): T | undefined {
  const text = sealed === undefined ? undefined : secrets.unseal(sealed);
  if (text === undefined) return undefined;
  // Sealed by this key, so it is what sealState wrote: only the purpose and the time are left to check.
  const opened = JSON.parse(text) as { purpose: string; until: number; state: T };
  return opened.purpose === purpose && opened.until > Date.now() ? opened.state : undefined;
}
