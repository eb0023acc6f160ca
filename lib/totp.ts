import { Secret, TOTP } from 'otpauth';

/**
 * The admins' second factor: TOTP (RFC 6238) as every authenticator app reads it — HMAC-SHA-1, 6 digits, a 30-second
 * step — computed by `otpauth`. A code of the step before or after the server's current one is taken too, for clocks a
 * little apart and codes typed as they roll over.
 */
const PARAMETERS = { algorithm: 'SHA1', digits: 6, period: 30 } as const;
const WINDOW = 1;

/** A new secret: 20 random bytes (the RFC's recommended size for SHA-1), base32 as the apps take it typed in. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The `otpauth://totp/…` address an app adds the account from (the QR code): the site as issuer, the address as label. */
export function totpUri(secret: string, { issuer, label }: { issuer: string; label: string }): string {
  return new TOTP({ ...PARAMETERS, issuer, label, secret: Secret.fromBase32(secret) }).toString();
}

/**
 * The time step a code belongs to, or undefined when it is not a code of the window around `now`. The step, not a
 * yes or no: the caller keeps the last step used and refuses any code of that step or an earlier one, so a code seen
 * over a shoulder or in a proxy's log cannot be used again.
 */
export function totpStep(secret: string, code: string, now = Date.now()): number | undefined {
  const totp = { ...PARAMETERS, secret: Secret.fromBase32(secret), timestamp: now };
  const delta = TOTP.validate({ ...totp, token: code, window: WINDOW });
  return delta === null ? undefined : TOTP.counter(totp) + delta;
}
