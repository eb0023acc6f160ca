import { type Request, type Response, Router } from 'express';
import type { z } from 'zod';
import type { Settings, TemplateService } from '../services/admin/settings';
import { deviceSetupBody, managerBody, organisationBody, systemSettingsBody } from '../services/admin/settings-schemas';
import { emptyBody } from '../services/schemas';
import type { Auth } from './auth';

/**
 * The supervisor's and organisation managers' settings API; docs/api.md describes it. The routes authorize (a
 * supervisor, or the manager of the organisation in the URL), parse the body and answer what services/admin/settings.ts does.
 */

const param = (req: Request, name: string) => String((req.params as Record<string, unknown>)[name]);

/** List, create, read, replace, delete one kind of template of an organisation, under `/organisations/:slug/<path>`. */
function templateRoutes<Body extends z.ZodType, View>(
  router: Router,
  auth: Auth,
  path: string,
  templates: TemplateService<Body, View>,
) {
  const base = `/organisations/:slug/${path}`;
  const listName = path.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
  const organisation = (req: Request, res: Response) => auth.organisationFor(res, param(req, 'slug'));

  router.get(base, async (req, res) => {
    res.json({ [listName]: await templates.list(await organisation(req, res)) });
  });
  router.post(base, async (req, res) => {
    const of = await organisation(req, res);
    res.status(201).json(await templates.create(of, templates.body.parse(req.body ?? {})));
  });
  router.get(`${base}/:id`, async (req, res) => {
    res.json(await templates.get(await organisation(req, res), param(req, 'id')));
  });
  router.put(`${base}/:id`, async (req, res) => {
    res.json(await templates.replace(await organisation(req, res), param(req, 'id'), req.body ?? {}));
  });
  router.delete(`${base}/:id`, async (req, res) => {
    await templates.delete(await organisation(req, res), param(req, 'id'));
    res.status(204).end();
  });
}

export function settingsRoutes(auth: Auth, settings: Settings): Router {
  const router = Router();
  router.use(['/settings', '/organisations', '/tokens'], auth.authenticate);

  router.get('/settings/system', async (_req, res) => {
    auth.requireSupervisor(res);
    res.json(await settings.systemSettings());
  });
  router.put('/settings/system', async (req, res) => {
    auth.requireSupervisor(res);
    res.json(await settings.updateSystemSettings(systemSettingsBody.parse(req.body ?? {})));
  });

  router.get('/organisations', async (_req, res) => {
    auth.requireSupervisor(res);
    res.json({ organisations: await settings.organisations() });
  });
  router.post('/organisations', async (req, res) => {
    auth.requireSupervisor(res);
    res.status(201).json(await settings.createOrganisation(organisationBody.parse(req.body ?? {})));
  });

  router.get('/organisations/:slug/managers', async (req, res) => {
    auth.requireSupervisor(res);
    res.json({ managers: await settings.managers(await auth.organisationFor(res, param(req, 'slug'))) });
  });
  router.post('/organisations/:slug/managers', async (req, res) => {
    auth.requireSupervisor(res);
    const organisation = await auth.organisationFor(res, param(req, 'slug'));
    res.status(201).json(await settings.addManager(organisation, managerBody.parse(req.body ?? {})));
  });
  router.delete('/tokens/:id', async (req, res) => {
    auth.requireSupervisor(res);
    await settings.revokeToken(param(req, 'id'), { inUse: auth.principal(res).tokenId });
    res.status(204).end();
  });

  router.get('/organisations/:slug/device-setup', async (req, res) => {
    res.json(await settings.deviceSetup(await auth.organisationFor(res, param(req, 'slug'))));
  });
  router.put('/organisations/:slug/device-setup', async (req, res) => {
    const organisation = await auth.organisationFor(res, param(req, 'slug'));
    res.json(await settings.updateDeviceSetup(organisation, deviceSetupBody.parse(req.body ?? {})));
  });

  templateRoutes(router, auth, 'account-templates', settings.templates.account);
  templateRoutes(router, auth, 'device-templates', settings.templates.device);

  router.get('/organisations/:slug/registrations', async (req, res) => {
    res.json({ registrations: await settings.registrations(await auth.organisationFor(res, param(req, 'slug'))) });
  });
  router.get('/organisations/:slug/devices', async (req, res) => {
    res.json({ devices: await settings.devices(await auth.organisationFor(res, param(req, 'slug'))) });
  });

  // The secret the organisation's MDM signs its events with: shown once when made; a new one replaces it at once.
  router.get('/organisations/:slug/mdm-webhook-secret', async (req, res) => {
    res.json(await settings.webhookSecret(await auth.organisationFor(res, param(req, 'slug'))));
  });
  router.post('/organisations/:slug/mdm-webhook-secret', async (req, res) => {
    const organisation = await auth.organisationFor(res, param(req, 'slug'));
    emptyBody.parse(req.body ?? {});
    res
      .status(201)
      .set('Cache-Control', 'no-store')
      .json(await settings.makeWebhookSecret(organisation));
  });

  return router;
}
