import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/**
 * Every payload Temporal stores (workflow and activity inputs and results, update arguments and answers, query
 * answers, failure messages) is encrypted with AES-256-GCM. The key id travels in the payload's metadata, so keys
 * rotate: the first key encrypts, every listed key decrypts. A payload without our encryption is refused when decoded:
 * otherwise whoever can hand the worker a task (a process squatting Temporal's port, a client without the key) could
 * feed it input of their own. An installation from before encryption still holds such payloads in its histories: it
 * accepts them (`accept`) until the operator says none is left (TEMPORAL_PLAINTEXT_PAYLOADS, docs/operations.md).
 */

export const ENCODING = 'binary/encrypted';
const ENCODING_KEY = 'encoding';
const KEY_ID_KEY = 'encryption-key-id';

/** Whether payloads without our encryption are decoded as they are (`accept`) or refused (`refuse`). */
export type PlaintextPayloads = 'refuse' | 'accept';

export interface CodecKey {
  id: string;
  key: Buffer;
}

/** `TEMPORAL_CODEC_KEY`: `id:base64key[,id:base64key…]`, the first encrypts; a bare key gets an id from its hash. */
export function parseCodecKeys(value: string): CodecKey[] {
  const keys = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const [id, encoded] = entry.includes(':') ? (entry.split(':', 2) as [string, string]) : [undefined, entry];
      const key = Buffer.from(encoded, 'base64');
      if (key.length !== 32) throw new Error('TEMPORAL_CODEC_KEY: each key must be 32 bytes, base64-encoded');
      return { id: id ?? createHash('sha256').update(key).digest('hex').slice(0, 8), key };
    });
  if (keys.length === 0) throw new Error('TEMPORAL_CODEC_KEY: no key given');
  return keys;
}

export function newCodecKey(): string {
  return `k${new Date().toISOString().slice(0, 10).replace(/-/g, '')}:${randomBytes(32).toString('base64')}`;
}

const text = (value: string) => new TextEncoder().encode(value);
const untext = (value: Uint8Array | null | undefined) => (value ? new TextDecoder().decode(value) : undefined);

export class EncryptionCodec implements PayloadCodec {
  constructor(
    private readonly keys: CodecKey[],
    private readonly plaintext: PlaintextPayloads = 'refuse',
  ) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const { id, key } = this.keys[0] as CodecKey;
    return payloads.map((payload) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const body = Buffer.concat([cipher.update(plain), cipher.final()]);
      return {
        metadata: { [ENCODING_KEY]: text(ENCODING), [KEY_ID_KEY]: text(id) },
        data: Buffer.concat([iv, cipher.getAuthTag(), body]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = untext(payload.metadata?.[ENCODING_KEY]);
      if (encoding !== ENCODING) {
        if (this.plaintext === 'accept') return payload;
        throw new Error(
          `payload not encrypted by this service (encoding "${encoding ?? 'none'}") refused: ` +
            'TEMPORAL_PLAINTEXT_PAYLOADS=accept reads payloads written before encryption',
        );
      }
      const id = untext(payload.metadata?.[KEY_ID_KEY]);
      const key = this.keys.find((candidate) => candidate.id === id);
      if (!key) throw new Error(`payload encrypted with unknown key "${id}": add it to TEMPORAL_CODEC_KEY to read it`);
      const data = Buffer.from(payload.data ?? new Uint8Array());
      const decipher = createDecipheriv('aes-256-gcm', key.key, data.subarray(0, 12));
      decipher.setAuthTag(data.subarray(12, 28));
      const plain = Buffer.concat([decipher.update(data.subarray(28)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}

/** The data converter of every client and worker: encrypted payloads, and failure messages encoded with them. */
export function encryptingDataConverter(keys: CodecKey[], plaintext?: PlaintextPayloads): DataConverter {
  return {
    payloadCodecs: [new EncryptionCodec(keys, plaintext)],
    failureConverterPath: require.resolve('./failure-converter'),
  };
}

/** Payloads in the codec-server JSON form (proto3 JSON: bytes as base64), as the Web UI and CLI send them. */
export interface JsonPayload {
  metadata?: Record<string, string> | null;
  data?: string | null;
}

export const payloadFromJson = ({ metadata, data }: JsonPayload): Payload => ({
  metadata: metadata ? Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])) : {},
  data: data ? Buffer.from(data, 'base64') : undefined,
});

export const payloadToJson = ({ metadata, data }: Payload): JsonPayload => ({
  metadata: metadata
    ? Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]))
    : {},
  data: data ? Buffer.from(data).toString('base64') : undefined,
});

/** Who may use the codec endpoint operators' tools call (api/codec.ts), and with which keys. */
export interface CodecEndpointConfig {
  keys: CodecKey[];
  plaintext: PlaintextPayloads;
  /** The Temporal Web UI's origin: the only one CORS lets read answers. */
  uiOrigin: string;
  /**
   * Embedded default (the dev server runs in this process): the Web UI on this machine may call without a token, when
   * the request comes from this machine itself and not through a proxy, with the UI's origin.
   */
  allowLocalUi: boolean;
}
