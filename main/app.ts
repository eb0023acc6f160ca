import express from 'express';
import { errorHandler } from '../api/errors';
import { apiRoutes } from '../api/routes';
import { createServices } from '../services';
import type { ServiceDeps } from '../services/context';
import { HttpError } from '../services/errors';
import { webRoutes } from '../web/routes';
import { securityHeaders } from './security-headers';

/** One Express app on one port: the JSON API and the web pages side by side over the same services. */
export function createApp(deps: ServiceDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Which proxies' X-Forwarded-For tells the client's address (TRUST_PROXY): the limits count per client.
  app.set('trust proxy', deps.config.trustProxy);
  app.use(securityHeaders(deps.config.publicUrl));
  const services = createServices(deps);
  app.use(apiRoutes(deps, services));
  app.use(webRoutes(services, deps));
  app.use((_req, _res, next) => next(new HttpError('not_found', 'There is nothing at this address.')));
  app.use(errorHandler(deps.logger));
  return app;
}
