import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Algorithm, hash, verify } from '@node-rs/argon2';

/**
 * Every secret the product hands out or keeps. Only keyed hashes of tokens and codes, and ids, travel through
 * Temporal or land in SQL; the key (APP_SECRET) lives in the API and worker processes only.
 */

/**
 * Argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane): memory-hard and salted, about 30 ms here — a sixth of
 * what scrypt at OWASP's strength costs, which matters because the API hashes on every profile step. The PHC string
 * keeps the parameters, so they can be raised later without breaking old hashes.
 */
const ARGON2 = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2);
}

/** Whether a password matches its stored hash (with the parameters the hash was made with). */
export function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  return verify(passwordHash, password).catch(() => false);
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
  /**
   * The id an Apple device's enrolment through a device's n-th link carries (in its check-in URLs and as its
   * certificate's name): `<device id>.<link number>.<MAC>`, so a made-up one is refused before anything is looked up.
   */
  enrolmentId(deviceId: string, linkNumber: number): string;
  /** The device and link of an enrolment id, or undefined if this key did not make it. */
  parseEnrolmentId(enrolmentId: string): { deviceId: string; linkNumber: number } | undefined;
  /** The SCEP challenge of an enrolment: in its profile only, never stored, good for one identity. */
  scepChallenge(enrolmentId: string): string;
  /** A secret that must be read back (an organisation's webhook secret), encrypted for the database. */
  seal(plaintext: string): string;
  /** The secret a `seal` made, or undefined if this key did not make it. */
  unseal(sealed: string): string | undefined;
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
  const enrolmentKey = subkey('enrolment-id');
  const sealKey = subkey('sealed-secrets');
  const enrolmentMac = (deviceId: string, linkNumber: number) =>
    hmac(enrolmentKey, `${deviceId}\0${linkNumber}`).toString('base64url').slice(0, 22);
  const hmac = (key: Buffer, value: string) => createHmac('sha256', key).update(value).digest();

  return {
    keyedHash: (purpose, value) => hmac(hashKey, `${purpose}\0${value}`).toString('base64url'),
    verificationCode(workflowId, codeNumber) {
      const n = hmac(codeKey, `${workflowId}\0${codeNumber}`).readUInt32BE(0) % 1_000_000;
      return n.toString().padStart(6, '0');
    },
    linkToken: (deviceId, linkNumber) => hmac(linkKey, `${deviceId}\0${linkNumber}`).toString('base64url'),
    enrolmentId: (deviceId, linkNumber) => `${deviceId}.${linkNumber}.${enrolmentMac(deviceId, linkNumber)}`,
    parseEnrolmentId(enrolmentId) {
      const match = /^([0-9a-f-]{36})\.([1-9][0-9]{0,8})\.([A-Za-z0-9_-]{22})$/.exec(enrolmentId);
      if (!match) return undefined;
      const [, deviceId, number, mac] = match as unknown as [string, string, string, string];
      const linkNumber = Number(number);
      const expected = Buffer.from(enrolmentMac(deviceId, linkNumber));
      return timingSafeEqual(Buffer.from(mac), expected) ? { deviceId, linkNumber } : undefined;
    },
    seal: (plaintext) => encrypt(sealKey, randomBytes(12), plaintext),
    unseal: (sealed) => decrypt(sealKey, sealed),
    scepChallenge: (enrolmentId) => hmac(hashKey, `scep-challenge\0${enrolmentId}`).toString('base64url'),
    // Deterministic authenticated encryption (SIV-like: the nonce is a MAC of the plaintext), so the same
    // registration always gets the same id and nobody without the key can read or forge one.
    registrationId: (workflowId) => encrypt(idKey, hmac(idKey, workflowId).subarray(0, 12), workflowId),
    workflowIdOf: (registrationId) => decrypt(idKey, registrationId),
  };
}

/** AES-256-GCM, as base64url of nonce, tag and ciphertext. */
function encrypt(key: Buffer, nonce: Buffer, plaintext: string): string {
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([nonce, cipher.getAuthTag(), body]).toString('base64url');
}

/** What `encrypt` made with this key, or undefined (another key, tampered, or not ours at all). */
function decrypt(key: Buffer, sealed: string): string | undefined {
  const raw = Buffer.from(sealed, 'base64url');
  if (raw.length < 29 || raw.length > 2048) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

/** A phone number as it is kept and counted: its keyed hash (proven numbers, and the SMS limit per number). */
export const phoneHashOf = (secrets: Pick<Secrets, 'keyedHash'>, phone: string) => secrets.keyedHash('phone', phone);
