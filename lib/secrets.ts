import { createCipheriv, createDecipheriv, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

/**
 * Every secret the product hands out or keeps. Only keyed hashes of tokens and codes, and ids, travel through
 * Temporal or land in SQL; the key (APP_SECRET) lives in the API and worker processes only.
 */

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: object,
) => Promise<Buffer>;

/** scrypt parameters (memory-hard: 64 MiB, about 100 ms here). Kept in the hash so they can be raised later. */
const SCRYPT = { N: 2 ** 16, r: 8, p: 1, keylen: 32, maxmem: 128 * 1024 * 1024 };

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT.keylen, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64url');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return timingSafeEqual(actual, expected);
}

export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

export interface Secrets {
  /** Keyed hash of a token or code; the purpose keeps hashes of different kinds apart. */
  keyedHash(purpose: string, value: string): string;
  /** The verification code of a registration's n-th code: the activity that mails it and nobody else makes it. */
  verificationCode(workflowId: string, codeNumber: number): string;
  /** The provisioning-link token of a device's n-th link, derivable from ids by holders of the key only. */
  linkToken(deviceId: string, linkNumber: number): string;
  /** Opaque, stable, tamper-proof registration id for a workflow id (which holds the e-mail address). */
  registrationId(workflowId: string): string;
  /** The workflow id behind a registration id, or undefined if it was not made with this key. */
  workflowIdOf(registrationId: string): string | undefined;
}

export function createSecrets(appSecret: Buffer): Secrets {
  const subkey = (label: string) => createHmac('sha256', appSecret).update(label).digest();
  const hashKey = subkey('keyed-hash');
  const codeKey = subkey('verification-code');
  const linkKey = subkey('link-token');
  const idKey = subkey('registration-id');
  const hmac = (key: Buffer, value: string) => createHmac('sha256', key).update(value).digest();

  return {
    keyedHash: (purpose, value) => hmac(hashKey, `${purpose}\0${value}`).toString('base64url'),
    verificationCode(workflowId, codeNumber) {
      const n = hmac(codeKey, `${workflowId}\0${codeNumber}`).readUInt32BE(0) % 1_000_000;
      return n.toString().padStart(6, '0');
    },
    linkToken: (deviceId, linkNumber) => hmac(linkKey, `${deviceId}\0${linkNumber}`).toString('base64url'),
    // Deterministic authenticated encryption (SIV-like: the nonce is a MAC of the plaintext), so the same
    // registration always gets the same id and nobody without the key can read or forge one.
    registrationId(workflowId) {
      const nonce = hmac(idKey, workflowId).subarray(0, 12);
      const cipher = createCipheriv('aes-256-gcm', idKey, nonce);
      const body = Buffer.concat([cipher.update(workflowId, 'utf8'), cipher.final()]);
      return Buffer.concat([nonce, cipher.getAuthTag(), body]).toString('base64url');
    },
    workflowIdOf(registrationId) {
      const raw = Buffer.from(registrationId, 'base64url');
      if (raw.length < 29 || raw.length > 2048) return undefined;
      try {
        const decipher = createDecipheriv('aes-256-gcm', idKey, raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        return undefined;
      }
    },
  };
}
