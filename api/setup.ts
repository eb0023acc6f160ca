import { Router } from 'express';
import { clientAddress, perAddressLimiter } from '../services/attempts';
import type { ServiceDeps } from '../services/context';
import type { RegistrationService } from '../services/registrations';
import {
  createRegistrationBody,
  deviceBody,
  emptyBody,
  phoneCodeBody,
  profileBody,
  verifyBody,
} from '../services/schemas';
import { bearerToken } from './auth';

/** The device owner's registration API : validation, then the registration service. */
export function setupRoutes(registrations: RegistrationService, config: ServiceDeps['config']): Router {
  const router = Router();
  const id = (params: Record<string, string | string[] | undefined>) => String(params.id);

  router.post('/registrations', perAddressLimiter(config.registrationsPerMinute), async (req, res) => {
    const input = createRegistrationBody.parse(req.body ?? {});
    res.status(201).json(await registrations.register(input, clientAddress(req)));
  });

  router.get('/registrations/:id', async (req, res) => {
    res.json(await registrations.status(id(req.params), bearerToken(req)));
  });

  router.post('/registrations/:id/verify', async (req, res) => {
    const { code } = verifyBody.parse(req.body ?? {});
    res.json(await registrations.verify(id(req.params), bearerToken(req), code, clientAddress(req)));
  });

  router.post('/registrations/:id/resend', async (req, res) => {
    emptyBody.parse(req.body ?? {});
    res.status(202).json(await registrations.resend(id(req.params), bearerToken(req)));
  });

  router.post('/registrations/:id/profile', async (req, res) => {
    const profile = profileBody.parse(req.body ?? {});
    res.json(await registrations.profile(id(req.params), bearerToken(req), profile));
  });

  router.post('/registrations/:id/devices', async (req, res) => {
    const choice = deviceBody.parse(req.body ?? {});
    res.status(201).json({ device: await registrations.chooseDevice(id(req.params), bearerToken(req), choice) });
  });

  router.post('/registrations/:id/phone', async (req, res) => {
    const { code } = phoneCodeBody.parse(req.body ?? {});
    res.json(await registrations.provePhone(id(req.params), bearerToken(req), code, clientAddress(req)));
  });

  return router;
}
