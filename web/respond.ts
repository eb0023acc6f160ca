import type { RequestHandler, Response } from 'express';
import { documentOf, type Page, type Site } from './views/document';

/**
 * Pages are never cached: they carry codes, tokens and provisioning links. (The security headers every response
 * has are set once for the whole app, in main/security-headers.ts.)
 */
export const pageHeaders: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store');
  next();
};

export function sendPage(res: Response, site: Site, page: Page, status = 200): void {
  res.status(status).type('html').send(documentOf(site, page).value);
}
