import express from 'express';
import { webRoutes } from '../web/routes';
import { createAttemptLimits } from './attempts';
import { createAuth } from './auth';
import { codecRoutes } from './codec';
import type { ApiDeps } from './context';
import { errorHandler, HttpError } from './errors';
import { meRoutes } from './me';
import { openApiDocument } from './openapi';
import { createOwnerDevices } from './owner-devices';
import { createOwnerAccounts } from './owners';
import { createPasswordWork } from './password-work';
import { provisioningRoutes } from './provisioning';
import { createRegistrationService } from './registrations';
import { securityHeaders } from './security-headers';
import { settingsRoutes } from './settings';
import { setupRoutes } from './setup';

/** The Express app: the device owner's API, the provisioning links, health; every error in the contract's shape. */
export function createApp(deps: ApiDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Which proxies' X-Forwarded-For tells the client's address (TRUST_PROXY): the limits count per client.
  app.set('trust proxy', deps.config.trustProxy);
  app.use(securityHeaders(deps.config.publicUrl));
  // JSON in, whatever the client calls it; bodies are small (a device template's settings are the largest).
  app.use('/api', express.json({ limit: '64kb', strict: true, type: () => true }));

  app.get('/healthz', async (_req, res) => {
    await deps.models.Organisation.sequelize?.authenticate();
    await deps.client.workflowService.getSystemInfo({});
    res.json({ status: 'ok' });
  });

  const openApi = openApiDocument(deps.config.publicUrl);
  app.get('/api/openapi.json', (_req, res) => {
    res.json(openApi);
  });

  const provisioning = provisioningRoutes(deps);
  const auth = createAuth(deps.models, deps.secrets);
  app.use(
    '/codec',
    codecRoutes(deps.config.codec, async (token) => (await auth.principalOf(token))?.role === 'supervisor'),
  );
  const guards = {
    attempts: createAttemptLimits(deps.rateLimitStore),
    passwords: createPasswordWork(deps.config.limits.hashingQueue),
  };
  const registrations = createRegistrationService(deps, guards);
  const owners = { accounts: createOwnerAccounts(deps, guards), devices: createOwnerDevices(deps) };
  app.use('/api/setup', setupRoutes(registrations, deps.config));
  app.use('/api', meRoutes(owners.accounts, owners.devices, deps.config));
  app.use('/api', provisioning.api);
  app.use('/api', settingsRoutes(deps, auth));
  app.use(provisioning.pages);
  app.use(webRoutes(registrations, owners, deps));

  app.use((_req, _res, next) => next(new HttpError('not_found', 'There is nothing at this address.')));
  app.use(errorHandler(deps.logger));
  return app;
}
