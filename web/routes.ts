import path from 'node:path';
import express, { Router } from 'express';
import type { Services } from '../services';
import type { ServiceDeps } from '../services/context';
import { isFromThisMachine } from '../services/local-only';
import { adminPages } from './admin';
import { ownerPages } from './owner';
import { provisionPages } from './provision';
import { pageHeaders, sendPage } from './respond';
import { setupPages } from './setup';
import { outboxPage } from './views/outbox';

/**
 * The device owner's web pages (`/setup…`), their assets, the admin console (`/admin…`), and the outbox of the embedded
 * default (`/dev/outbox`).
 */
export function webRoutes({ registrations, owners, provisioning, admin }: Services, deps: ServiceDeps): Router {
  const site = { name: deps.config.siteName, help: deps.config.siteHelp };
  const router = Router();
  router.use('/assets', express.static(path.join(__dirname, 'static'), { index: false, maxAge: '1h' }));
  // The returning owner's pages first: their paths would otherwise be taken for registration steps.
  router.use('/setup', pageHeaders, ownerPages(owners, deps, site), setupPages(registrations, deps, site));
  router.use(provisionPages(provisioning, deps.logger, site));
  router.use('/admin', pageHeaders, adminPages(admin, deps, site));
  // Only without real delivery (the embedded default), and only to a browser on this machine: the outbox holds every
  // code and link, so anyone else reading it could take over any account.
  if (deps.devOutbox) {
    router.get('/dev/outbox', pageHeaders, async (req, res, next) => {
      if (!isFromThisMachine(req)) return next();
      const messages = await deps.models.OutboxMessage.findAll({ order: [['id', 'DESC']], limit: 200 });
      sendPage(res, site, outboxPage(messages));
    });
  }
  return router;
}
