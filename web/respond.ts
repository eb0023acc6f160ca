import type { RequestHandler, Response } from 'express';
import { documentOf, type Page, type Site } from './templates/document';

/**
 * Headers of every page: only our own styles and script, forms only to us, never framed; no caching and no referrer,
 * because pages and their addresses carry codes, tokens and provisioning links.
 */
export const pageHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'Content-Security-Policy':
      "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  });
  next();
};

export function sendPage(res: Response, site: Site, page: Page, status = 200): void {
  res.status(status).type('html').send(documentOf(site, page).value);
}
