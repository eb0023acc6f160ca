import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { enginesStatus, profileSigningStatus } from '../../platforms/apple/engines-status';
import type { Settings } from '../../services/admin/settings';
import { type SystemSettingsBody, systemSettingsBody } from '../../services/admin/settings-schemas';
import type { ServiceDeps } from '../../services/context';
import { csrfToken } from '../csrf';
import { answerForm, ticked } from '../page-kit';
import type { FormState } from '../views/form';
import { PLATFORMS_PATH, platformsPage } from './platforms.view';
import { type AdminKit, noticeIn } from './shared';
import { tokenPages } from './tokens';

const NOTICES = { saved: 'Your changes are saved. They apply to registrations already under way, at their next step.' };

/**
 * The form as the settings API's body (services/admin/settings-schemas.ts), so that both refuse the same: a checkbox left
 * unticked is off, "no default organisation" is the empty choice. Android's SMS code is the one platform setting there
 * is (the others' are empty), so the form replaces them all, as the API's PUT does.
 */
const platformsForm = z
  .strictObject({ deviceSetupEnabled: ticked, defaultOrganisation: z.string(), useSmsInstallationCode: ticked })
  .transform(
    ({ deviceSetupEnabled, defaultOrganisation, useSmsInstallationCode }): SystemSettingsBody => ({
      deviceSetupEnabled,
      defaultOrganisation: defaultOrganisation || null,
      platforms: { android: { useSmsInstallationCode } },
    }),
  )
  .pipe(systemSettingsBody);

/** The settings as the form shows them. */
const formOf = (settings: Awaited<ReturnType<Settings['systemSettings']>>): FormState => ({
  values: {
    deviceSetupEnabled: settings.deviceSetupEnabled ? 'on' : '',
    defaultOrganisation: settings.defaultOrganisation ?? '',
    useSmsInstallationCode: settings.platforms.android?.useSmsInstallationCode ? 'on' : '',
  },
  errors: {},
});

/**
 * The supervisor's own sections: Configuration › Platforms — the system-wide switch, the default organisation and
 * Android's SMS code, saved through services/admin/settings.ts as the settings API saves them, and whether the enrolment
 * engines answer — and the API tokens (web/admin/tokens.ts). web/admin/index.ts lets only supervisors in.
 */
export function supervisorPages(settings: Settings, deps: ServiceDeps, kit: AdminKit): Router {
  const show = async (req: Request, res: Response, state?: FormState, status?: number) => {
    const [form, organisations, engines] = await Promise.all([
      state ?? settings.systemSettings().then(formOf),
      settings.organisations(),
      enginesStatus(deps),
    ]);
    const notice = noticeIn(req, NOTICES);
    const signing = profileSigningStatus(deps);
    kit.showSignedIn(
      res,
      platformsPage({ csrf: csrfToken(res), state: form, organisations, engines, signing, notice }),
      status,
    );
  };

  const router = Router();
  router.get('/configuration/platforms', (req, res) => show(req, res));
  router.post('/configuration/platforms', (req, res) =>
    answerForm(req, res, {
      schema: platformsForm,
      again: (state, status) => show(req, res, state, status),
      run: async (body) => {
        await settings.updateSystemSettings(body);
        return `${PLATFORMS_PATH}?notice=saved`;
      },
    }),
  );
  router.use('/tokens', tokenPages(settings, deps, kit));
  return router;
}
