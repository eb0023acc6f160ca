import { Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import { clientAddress } from './attempts';
import { bearerToken } from './auth';
import type { ApiDeps } from './context';
import { HttpError } from './errors';
import type { RegistrationService } from './registrations';
import { createRegistrationBody, deviceBody, emptyBody, profileBody, verifyBody } from './schemas';

/**
 * Limits how many registrations (or password-reset requests) one client address starts per minute; codes and resends
 * are limited in the workflows.
 */
export function registrationLimiter(perMinute: number, what = 'registrations') {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    keyGenerator: clientAddress,
    legacyHeaders: false,
    handler: (_req, _res, next) =>
      next(
        new HttpError('too_many_attempts', `Too many ${what} from this address; try again in a minute.`, {
          retryAfterSeconds: 60,
        }),
      ),
  });
}

/** The device owner's registration API (PRODUCT.md §3): validation, then the registration service. */
export function setupRoutes(registrations: RegistrationService, config: ApiDeps['config']): Router {
  const router = Router();
  const id = (params: Record<string, string | string[] | undefined>) => String(params.id);

  router.post('/registrations', registrationLimiter(config.registrationsPerMinute), async (req, res) => {
    res.status(201).json(await registrations.register(createRegistrationBody.parse(req.body ?? {})));
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

  return router;
}
