import express, { type RequestHandler, type Response, Router } from 'express';
import { markRelayed, perAddressLimiter } from '../../services/attempts';
import type { AppleEnrolment, Relayed } from './enrolment';

/**
 * What Apple devices, the SCEP server and NanoMDM call (`/mdm/…`, outside the JSON API: bodies are property lists and
 * PKCS#7, and answers are passed back as the engines gave them). Refusals use the JSON error shape.
 */
export function mdmRoutes(
  apple: AppleEnrolment,
  { scepRequestsPerMinute }: { scepRequestsPerMinute: number },
  refusals: RequestHandler,
): Router {
  const router = Router();
  // Check-ins and SCEP messages are a few kilobytes; a device's command answers (a profile list) can be larger.
  router.use('/mdm', express.raw({ type: () => true, limit: '2mb' }));
  const body = (raw: unknown) => (Buffer.isBuffer(raw) ? raw : Buffer.alloc(0));
  const device = (req: express.Request) => ({
    enrolment: req.query.enrolment,
    body: body(req.body),
    signature: req.get('mdm-signature'),
    contentType: req.get('content-type'),
  });

  router.put('/mdm/checkin', refusals, async (req, res) => relay(res, await apple.checkIn(device(req))));
  router.put('/mdm/connect', refusals, async (req, res) => relay(res, await apple.connect(device(req))));

  // SCEP's operation and message travel in the query string (GET) or the body (POST): both are passed on as they are.
  const scep = async (req: express.Request, res: Response) => {
    const queryAt = req.originalUrl.indexOf('?');
    relay(
      res,
      await apple.scep({
        method: req.method,
        query: queryAt === -1 ? '' : req.originalUrl.slice(queryAt),
        body: body(req.body),
        contentType: req.get('content-type'),
      }),
    );
  };
  const scepLimit = perAddressLimiter(scepRequestsPerMinute, 'certificate requests');
  router.get('/mdm/scep', scepLimit, scep);
  router.post('/mdm/scep', scepLimit, scep);

  // Refusals do not count here: the only caller is the SCEP server, refusing devices' requests (limited as SCEP's).
  router.post('/mdm/scep-verify', async (req, res) => {
    const accepted = await apple.verifyCertificateRequest({
      authorization: req.get('authorization'),
      body: body(req.body),
    });
    res.status(accepted ? 204 : 403).end();
  });

  router.post('/mdm/webhook', refusals, async (req, res) => {
    await apple.webhook({ signature: req.get('x-hmac-signature'), body: body(req.body) });
    res.status(200).end();
  });
  return router;
}

function relay(res: Response, answer: Relayed): void {
  markRelayed(res);
  res.status(answer.status);
  if (answer.contentType) res.type(answer.contentType);
  res.set('Cache-Control', 'no-store').send(answer.body);
}
