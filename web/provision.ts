import { Router } from 'express';
import type { Logger } from 'pino';
import type { Provisioning } from '../services/provisioning';
import { errorPages, problemPageOf } from './problems';
import { provisionPage } from './provision.view';
import { pageHeaders, sendPage } from './respond';
import type { Site } from './views/document';

/**
 * What a provisioning link opens: an Apple device downloads its enrolment profile; anything else gets the page that
 * starts its enrolment (Windows' work-account set-up, the Android QR code to scan or the app to open). A link that
 * cannot be used says why, as a page.
 */
export function provisionPages(provisioning: Provisioning, logger: Logger, site: Site): Router {
  const router = Router();
  router.get('/provision/:token', pageHeaders, async (req, res) => {
    const device = await provisioning.usableDevice(req.params.token);
    const delivered = provisioning.delivery(device);
    if (delivered) {
      const profile = await delivered;
      res
        .type(profile.contentType)
        .set('Content-Disposition', `attachment; filename="${profile.fileName}"`)
        .send(profile.body);
      return;
    }
    sendPage(res, site, await provisionPage({ link: await provisioning.linkOf(device), onDevice: true }));
  });
  router.use(
    '/provision',
    errorPages(logger, (answer, _req, res) => sendPage(res, site, problemPageOf(answer), answer.status)),
  );
  return router;
}
