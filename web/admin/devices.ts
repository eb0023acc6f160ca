import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { type DeviceAdmin, deviceFilters } from '../../services/admin/devices';
import { csrfToken } from '../csrf';
import { answerForm } from '../page-kit';
import type { FormState } from '../views/form';
import { devicePage, devicePath, devicesPage, removeDevicePage } from './devices.view';
import { type AdminKit, adminIn, managedOrganisation, noticeIn } from './shared';

const NOTICES = {
  relinked: 'The owner has a new link: pass it on to them.',
  removed: 'The device is removed.',
};

/** The operator's buttons send nothing but the CSRF token (checked before this). */
const noFields = z.object({});

/**
 * An organisation's devices, for a supervisor or the organisation's manager (web/admin/index.ts checks
 * who): the list with filters by state and platform and a search by owner, each device's page, a new link for its
 * owner and removing it — the rules and the record of who did it are services/admin/devices.ts's.
 */
export function devicePages(kit: AdminKit, devices: DeviceAdmin): Router {
  const { showSignedIn } = kit;
  const idOf = (req: Request) => String(req.params.id);

  const showDevice = async (req: Request, res: Response, state?: FormState, status?: number) => {
    const organisation = managedOrganisation(res);
    const [device, link] = await Promise.all([
      devices.get(organisation, idOf(req)),
      devices.currentLink(organisation, idOf(req)),
    ]);
    const page = devicePage({
      organisation,
      device,
      link,
      csrf: csrfToken(res),
      state,
      notice: noticeIn(req, NOTICES),
    });
    showSignedIn(res, page, status);
  };

  const showRemoval = async (req: Request, res: Response, state?: FormState, status?: number) => {
    const organisation = managedOrganisation(res);
    const device = await devices.get(organisation, idOf(req));
    showSignedIn(res, removeDevicePage({ organisation, device, csrf: csrfToken(res), state }), status);
  };

  /** An operator's action on the device, naming them; a refusal (a race, Android without a phone) is said above. */
  const action =
    (work: 'newLink' | 'remove', again: typeof showDevice, notice: keyof typeof NOTICES) =>
    (req: Request, res: Response) =>
      answerForm(req, res, {
        schema: noFields,
        again: (state, status) => again(req, res, state, status),
        run: async () => {
          const organisation = managedOrganisation(res);
          await devices[work](organisation, idOf(req), adminIn(res).user.email);
          return `${devicePath(organisation.slug, idOf(req))}?notice=${notice}`;
        },
      });

  const router = Router();
  router.get('/devices', async (req, res) => {
    const organisation = managedOrganisation(res);
    const filters = deviceFilters.parse(req.query);
    const shown = Object.fromEntries(Object.entries(filters).filter((entry): entry is [string, string] => !!entry[1]));
    showSignedIn(
      res,
      devicesPage({ organisation, filters: shown, devices: await devices.list(organisation, filters) }),
    );
  });
  router.get('/devices/:id', (req, res) => showDevice(req, res));
  router.post('/devices/:id/link', action('newLink', showDevice, 'relinked'));
  router.get('/devices/:id/remove', (req, res) => showRemoval(req, res));
  router.post('/devices/:id/remove', action('remove', showRemoval, 'removed'));
  return router;
}
