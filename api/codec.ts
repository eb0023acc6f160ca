import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { type CodecKey, EncryptionCodec, payloadFromJson, payloadToJson } from '../lib/codec';
import { HttpError } from './errors';

export interface CodecEndpointConfig {
  keys: CodecKey[];
  /** The Temporal Web UI's origin: the only one CORS lets read answers. */
  uiOrigin: string;
  /** Embedded default: the Web UI on this machine may call without a token (request from loopback, its origin). */
  allowLocalUi: boolean;
  /** Bearer tokens allowed to see decoded data (supervisors and operators). */
  tokens: string[];
}

const codecBody = z.strictObject({
  payloads: z
    .array(
      z.strictObject({
        metadata: z.record(z.string(), z.string().max(1024)).nullish(),
        data: z.string().nullish(),
      }),
    )
    .max(1000),
});

const digest = (value: string) => createHash('sha256').update(value).digest();
const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/**
 * The codec endpoint operators' tools call to read encrypted histories (`/codec/decode`, `/codec/encode`, the
 * codec-server protocol of the Temporal Web UI and CLI). It answers only callers allowed to see the data.
 */
export function codecRoutes(config: CodecEndpointConfig): Router {
  const codec = new EncryptionCodec(config.keys);
  const tokenDigests = config.tokens.map(digest);
  const router = Router();

  router.use((req: Request, res: Response, next: NextFunction) => {
    const origin = req.get('origin');
    if (origin === config.uiOrigin) {
      res.set({
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Credentials': 'true',
        'Access-Control-Allow-Headers': 'Content-Type, X-Namespace, Authorization',
        'Access-Control-Allow-Methods': 'POST',
        Vary: 'Origin',
      });
    }
    if (req.method === 'OPTIONS') {
      res.sendStatus(204);
      return;
    }
    next(
      allowed(req)
        ? undefined
        : new HttpError('unauthorized', 'Decoding payloads needs an operator or supervisor token.'),
    );
  });

  const allowed = (req: Request): boolean => {
    const origin = req.get('origin');
    if (origin !== undefined && origin !== config.uiOrigin) return false;
    const token = /^Bearer (\S+)$/.exec(req.get('authorization') ?? '')?.[1];
    if (token) {
      const presented = digest(token);
      return tokenDigests.some((known) => timingSafeEqual(known, presented));
    }
    return config.allowLocalUi && origin === config.uiOrigin && LOOPBACK.test(req.socket.remoteAddress ?? '');
  };

  router.use(express.json({ limit: '4mb', type: () => true }));
  for (const operation of ['encode', 'decode'] as const) {
    router.post(`/${operation}`, async (req, res) => {
      const { payloads } = codecBody.parse(req.body ?? {});
      let result: Awaited<ReturnType<EncryptionCodec['decode']>>;
      try {
        result = await codec[operation](payloads.map(payloadFromJson));
      } catch {
        throw new HttpError('invalid_request', 'A payload cannot be decoded with the keys this service has.');
      }
      res.set('Cache-Control', 'no-store').json({ payloads: result.map(payloadToJson) });
    });
  }
  return router;
}
