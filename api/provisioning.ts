import { type RequestHandler, Router } from 'express';
import type { Provisioning } from '../services/provisioning';

/** What an Android device policy app calls with its provisioning link's token: the device's first check-in. */
export function provisioningRoutes(provisioning: Provisioning, refusals: RequestHandler) {
  const api = Router();
  api.post('/provision/:token/checkin', refusals, async (req, res) => {
    res.json(await provisioning.dpcCheckIn(req.params.token, req.body));
  });
  return api;
}
