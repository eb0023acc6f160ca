import express, { type RequestHandler, Router } from 'express';
import { type MdmEvents, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './events';

/**
 * What the organisations' own MDMs call: `POST /api/mdm/events`, signed over the raw body. Mounted before the JSON
 * parser of `/api`, with the same 64 KiB limit, so that the signature is checked over the bytes as they were sent.
 */
export function mdmEventRoutes(events: MdmEvents, refusals: RequestHandler): Router {
  const router = Router();
  router.post('/api/mdm/events', refusals, express.raw({ type: () => true, limit: '64kb' }), async (req, res) => {
    const outcome = await events.receive({
      body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      timestamp: req.get(TIMESTAMP_HEADER),
      signature: req.get(SIGNATURE_HEADER),
    });
    res.json(outcome);
  });
  return router;
}
