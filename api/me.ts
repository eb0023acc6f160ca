import { type Request, type Response, Router } from 'express';
import { clientAddress, perAddressLimiter } from '../services/attempts';
import type { ServiceDeps } from '../services/context';
import { HttpError } from '../services/errors';
import type { Owner, OwnerAccounts } from '../services/owners/accounts';
import type { OwnerDevices } from '../services/owners/devices';
import {
  deviceBody,
  deviceIdParam,
  emptyBody,
  passwordResetBody,
  passwordResetConfirmBody,
  phoneBody,
  phoneCodeBody,
  signInBody,
} from '../services/schemas';
import { bearerToken } from './auth';

/** A returning device owner's API: session, their devices, password reset. The rules live in services/owners/accounts.ts. */
export function meRoutes(accounts: OwnerAccounts, devices: OwnerDevices, config: ServiceDeps['config']): Router {
  const router = Router();
  const signedIn = (req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store');
    return accounts.ownerOf(bearerToken(req));
  };
  const deviceId = (req: Request) => {
    const id = deviceIdParam.safeParse(req.params.id);
    if (!id.success) throw new HttpError('device_not_found', 'You have no such device.');
    return id.data;
  };
  const view = async (owner: Owner) => ({
    email: owner.user.email,
    organisation: owner.organisation.slug,
    firstName: owner.user.firstName,
    lastName: owner.user.lastName,
    devices: await devices.list(owner),
  });

  router.post('/session', async (req, res) => {
    const body = signInBody.parse(req.body ?? {});
    res.set('Cache-Control', 'no-store').json(await accounts.signIn(body, clientAddress(req)));
  });

  router.delete('/session', async (req, res) => {
    await accounts.signOut(bearerToken(req));
    res.status(204).end();
  });

  router.get('/me', async (req, res) => {
    res.json(await view(await signedIn(req, res)));
  });

  router.post('/me/devices', async (req, res) => {
    const owner = await signedIn(req, res);
    res.status(201).json({ device: await devices.add(owner, deviceBody.parse(req.body ?? {})) });
  });

  router.post('/me/devices/:id/link', async (req, res) => {
    const owner = await signedIn(req, res);
    const { phone } = phoneBody.parse(req.body ?? {});
    res.status(201).json({ device: await devices.newLink(owner, deviceId(req), { phone }) });
  });

  router.post('/me/devices/:id/phone', async (req, res) => {
    const owner = await signedIn(req, res);
    const { code } = phoneCodeBody.parse(req.body ?? {});
    res.json(await devices.provePhone(owner, deviceId(req), code, clientAddress(req)));
  });

  router.delete('/me/devices/:id', async (req, res) => {
    const owner = await signedIn(req, res);
    emptyBody.parse(req.body ?? {});
    await devices.remove(owner, deviceId(req));
    res.status(204).end();
  });

  const resetLimiter = perAddressLimiter(config.registrationsPerMinute, 'password resets');
  router.post('/password-resets', resetLimiter, async (req, res) => {
    await accounts.requestPasswordReset(passwordResetBody.parse(req.body ?? {}));
    res.status(202).end();
  });

  router.post('/password-resets/confirm', resetLimiter, async (req, res) => {
    await accounts.confirmPasswordReset(passwordResetConfirmBody.parse(req.body ?? {}), clientAddress(req));
    res.status(204).end();
  });

  return router;
}
