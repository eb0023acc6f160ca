import { type Request, type Response, Router } from 'express';
import { ZodError } from 'zod';
import { PLATFORMS, type Platform } from '../../domain/platform';
import type { Settings } from '../../services/admin/settings';
import { deviceSetupBody } from '../../services/admin/settings-schemas';
import { csrfToken } from '../csrf';
import { answerForm } from '../page-kit';
import { type FormState, keptValues, refused } from '../views/form';
import {
  deviceSetupPage,
  deviceSetupPath,
  deviceTemplateField,
  SETUP_FIELDS,
  SETUP_LABELS,
  webhookSecretPage,
} from './device-setup.view';
import { type AdminKit, managedOrganisation } from './shared';
import { besideFields, type FormReader, formOf, formReader, noticeFrom, templatePages } from './templates';

/**
 * An organisation's device setup and templates, for a supervisor or the organisation's manager (the router
 * in web/admin/index.ts checks who): the device setup's form, its box to try addresses against the e-mail
 * requirement, the MDM webhook secret, and the templates' pages (web/admin/templates.ts). The rules are
 * services/admin/settings.ts's: `updateDeviceSetup`, `tryEmailRequirement`, `makeWebhookSecret`.
 */

const FIELD_NAMES = Object.keys(SETUP_LABELS);

/** At most this many addresses are tried at once: enough to check a requirement, bounded work. */
const MAX_TRIED = 50;

const setupBody = (read: FormReader) => ({
  enabled: read.ticked(SETUP_FIELDS.enabled.name),
  // As typed: in a pattern, a space is a character like any other.
  emailRequirement: read.raw(SETUP_FIELDS.emailRequirement.name),
  accountTemplate: read.choice(SETUP_FIELDS.accountTemplate.name),
  deviceTemplates: Object.fromEntries(
    PLATFORMS.flatMap((platform) => {
      const id = read.choice(deviceTemplateField(platform).name);
      return id === null ? [] : [[platform, id]];
    }),
  ),
  maxDevicesPerOwner: read.whole(SETUP_FIELDS.maxDevicesPerOwner.name, { required: true }),
  windowsMdmDiscoveryUrl: read.text(SETUP_FIELDS.windowsMdmDiscoveryUrl.name) || null,
});

type SetupView = Awaited<ReturnType<Settings['deviceSetup']>>;

const setupValues = (setup: SetupView): Record<string, string> => ({
  [SETUP_FIELDS.enabled.name]: setup.enabled ? 'on' : '',
  [SETUP_FIELDS.emailRequirement.name]: setup.emailRequirement ?? '',
  [SETUP_FIELDS.accountTemplate.name]: String(setup.accountTemplate ?? ''),
  ...Object.fromEntries(
    PLATFORMS.map((platform) => [deviceTemplateField(platform).name, String(setup.deviceTemplates[platform] ?? '')]),
  ),
  [SETUP_FIELDS.maxDevicesPerOwner.name]: String(setup.maxDevicesPerOwner),
  [SETUP_FIELDS.windowsMdmDiscoveryUrl.name]: setup.windowsMdmDiscoveryUrl ?? '',
});

const NOTICES = { saved: 'Your changes have been saved.' };

export function deviceSetupPages(kit: AdminKit, settings: Settings): Router {
  const { showSignedIn } = kit;

  /** The page with the organisation's settings, or the form as sent (refused, or with addresses tried). */
  async function show(req: Request, res: Response, form?: { state: FormState; tried?: Tried }, status = 200) {
    const organisation = managedOrganisation(res);
    const [setup, accounts, devices, webhookSecret] = await Promise.all([
      settings.deviceSetup(organisation),
      settings.templates.account.list(organisation),
      settings.templates.device.list(organisation),
      settings.webhookSecret(organisation),
    ]);
    const choice = ({ id, name }: { id: number; name: string }) => ({ value: String(id), text: name });
    const deviceTemplates = Object.fromEntries(
      PLATFORMS.map((platform) => [platform, devices.filter((t) => t.platform === platform).map(choice)]),
    ) as Record<Platform, Array<{ value: string; text: string }>>;
    showSignedIn(
      res,
      deviceSetupPage({
        organisation,
        csrf: csrfToken(res),
        state: form?.state ?? { values: setupValues(setup), errors: {} },
        accountTemplates: accounts.map(choice),
        deviceTemplates,
        webhookSecret,
        tried: form?.tried,
        notice: noticeFrom(req, NOTICES),
      }),
      status,
    );
  }
  type Tried = Awaited<ReturnType<Settings['tryEmailRequirement']>>;

  /** The addresses tried against the requirement as typed, checked as saving it would check it; nothing is saved. */
  async function tryAddresses(req: Request, res: Response) {
    const read = formReader(req.body ?? {});
    const addresses = read.lines(SETUP_FIELDS.addresses.name);
    try {
      const tried = await besideFields(FIELD_NAMES, async () => {
        if (addresses.length > MAX_TRIED) {
          const message = `at most ${MAX_TRIED} addresses at a time`;
          throw new ZodError([{ code: 'custom', path: [SETUP_FIELDS.addresses.name], message, input: undefined }]);
        }
        return settings.tryEmailRequirement(read.raw(SETUP_FIELDS.emailRequirement.name), addresses);
      });
      await show(req, res, { state: { values: keptValues(req.body), errors: {} }, tried });
    } catch (error) {
      if (!(error instanceof ZodError)) throw error;
      await show(req, res, { state: refused(req.body, error) }, 400);
    }
  }

  const router = Router();
  router.get('/device-setup', (req, res) => show(req, res));
  router.post('/device-setup', (req, res) =>
    answerForm(req, res, {
      schema: formOf(setupBody),
      again: (state, status) => show(req, res, { state }, status),
      run: async (body) => {
        const organisation = managedOrganisation(res);
        await besideFields(FIELD_NAMES, () => settings.updateDeviceSetup(organisation, deviceSetupBody.parse(body)));
        return `${deviceSetupPath(organisation.slug)}?notice=saved`;
      },
    }),
  );
  // The form's other button: the same fields, to try addresses against the requirement as typed.
  router.post('/device-setup/try', tryAddresses);

  // Shown once, in answer to the POST: the secret never travels in an address, and is never stored in the clear.
  router.post('/device-setup/webhook-secret', async (_req, res) => {
    const organisation = managedOrganisation(res);
    const made = await settings.makeWebhookSecret(organisation);
    showSignedIn(res, webhookSecretPage({ organisation: organisation.slug, ...made }));
  });

  router.use(templatePages(kit, settings));
  return router;
}
