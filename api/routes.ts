import express, { type RequestHandler, Router } from 'express';
import { mdmRoutes } from '../platforms/apple/routes';
import { mdmEventRoutes } from '../platforms/external-mdm/routes';
import type { Services } from '../services';
import { refusalLimiter } from '../services/attempts';
import type { ServiceDeps } from '../services/context';
import { HttpError } from '../services/errors';
import { refuseNul } from '../services/text-input';
import { createAuth } from './auth';
import { codecRoutes } from './codec';
import { meRoutes } from './me';
import { openApiDocument } from './openapi';
import { provisioningRoutes } from './provisioning';
import { settingsRoutes } from './settings';
import { setupRoutes } from './setup';

const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * A body under `/api` is JSON with a JSON content type, or refused (415): what is parsed is what the client meant,
 * and a cross-site form post (`text/plain`, urlencoded), which a browser sends without asking, never reaches a route
 * as JSON. A request without a body (none, or an empty one) is not concerned.
 */
const jsonBodiesOnly: RequestHandler = (req, _res, next) => {
  const length = req.headers['content-length'];
  const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  if (hasBody && !req.is(JSON_TYPES)) {
    next(
      new HttpError(
        'unsupported_media_type',
        'The request body must be JSON, sent with Content-Type: application/json.',
      ),
    );
    return;
  }
  next();
};

/** The JSON API (`/api…`), what devices call (`/provision/<token>`), the codec endpoint and health. */
export function apiRoutes(
  deps: ServiceDeps,
  { registrations, owners, apple, provisioning: links, mdmEvents, admin }: Services,
): Router {
  const router = Router();
  // One count per client address over every machine-facing route, so that probing one route does not reset another.
  const refusals = refusalLimiter(deps.config.machineRefusalsPerMinute);
  // The MDMs' signed events first: their signature covers the raw body, which they parse themselves.
  router.use(mdmEventRoutes(mdmEvents, refusals));
  // JSON in, and only when the client says so; bodies are small (a device template's settings are the largest).
  router.use('/api', jsonBodiesOnly, express.json({ limit: '64kb', strict: true, type: JSON_TYPES }), refuseNul);

  router.get('/healthz', async (_req, res) => {
    await deps.models.Organisation.sequelize?.authenticate();
    await deps.client.workflowService.getSystemInfo({});
    res.json({ status: 'ok' });
  });

  const openApi = openApiDocument(deps.config.publicUrl);
  router.get('/api/openapi.json', (_req, res) => {
    res.json(openApi);
  });

  const auth = createAuth(deps.models, admin.apiTokens);
  router.use(
    '/codec',
    codecRoutes(deps.codec, async (token) => (await auth.principalOf(token))?.role === 'supervisor'),
  );
  router.use('/api/setup', setupRoutes(registrations, deps.config));
  router.use('/api', meRoutes(owners.accounts, owners.devices, deps.config));
  router.use('/api', provisioningRoutes(links, refusals));
  router.use('/api', settingsRoutes(auth, admin.settings));
  router.use(mdmRoutes(apple, deps.config, refusals));
  return router;
}
