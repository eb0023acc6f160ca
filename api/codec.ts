import express, { type NextFunction, type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { type CodecEndpointConfig, EncryptionCodec, payloadFromJson, payloadToJson } from '../lib/codec';
import { HttpError } from '../services/errors';
import { isFromThisMachine } from '../services/local-only';

/** Whether a bearer token may see decoded data (a supervisor's). */
export type CodecAuthoriser = (token: string) => Promise<boolean>;

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

/**
 * The codec endpoint operators' tools call to read encrypted histories (`/codec/decode`, `/codec/encode`, the
 * codec-server protocol of the Temporal Web UI and CLI). It answers only callers allowed to see the data.
 */
export function codecRoutes(config: CodecEndpointConfig, authorise: CodecAuthoriser): Router {
  const codec = new EncryptionCodec(config.keys, config.plaintext);
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
    allowed(req).then(
      (ok) => next(ok ? undefined : new HttpError('unauthorized', 'Decoding payloads needs a supervisor token.')),
      next,
    );
  });

  const allowed = async (req: Request): Promise<boolean> => {
    const origin = req.get('origin');
    if (origin !== undefined && origin !== config.uiOrigin) return false;
    const token = /^Bearer (\S+)$/.exec(req.get('authorization') ?? '')?.[1];
    if (token) return authorise(token);
    return config.allowLocalUi && origin === config.uiOrigin && isFromThisMachine(req);
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
