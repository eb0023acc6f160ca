import type { RequestHandler } from 'express';
import { clientAddress } from '../../services/attempts';
import type { RegistrationService } from '../../services/registrations';
import { deviceForm, phoneCodeBody, profileForm } from '../../services/schemas';
import { CODE_FIELDS } from '../problems';
import { provisionPage } from '../provision.view';
import { problemPage } from '../views/problem';
import { devicePage } from './device.view';
import { profilePage } from './profile.view';
import { pathOf, type SetupKit, type StepViews, startOf } from './shared';

/** The pages of the steps after the e-mail address: the profile, the device, its provisioning link, and done. */
export const stepViews = (registrations: RegistrationService): Omit<StepViews, 'verify'> => ({
  profile: ({ organisation, csrf, state }) => profilePage({ organisation, csrf, state }),
  device: ({ organisation, status, csrf, state }) =>
    devicePage({
      organisation,
      platforms: status.platforms,
      csrf,
      state,
      linkExpired: status.devices.at(-1)?.state === 'link-expired',
    }),
  provision: async ({ organisation, session, csrf, state }) => {
    const link = await registrations.currentLink(session.registrationId, session.token);
    // The link has expired in the moment since the step was read; the next visit offers the device choice again.
    if (!link) {
      return problemPage({
        title: 'Your provisioning link has expired',
        message: 'Choose your device again to get a new link.',
        next: { href: startOf(organisation), text: 'Choose again' },
      });
    }
    return provisionPage({ organisation, link, phoneCode: { action: `${startOf(organisation)}/phone`, csrf, state } });
  },
});

/** The forms of those steps: the owner's profile, then the device to set up. */
export function stepPages({ registrations, formAction }: SetupKit) {
  return {
    profile: formAction(
      'profile',
      profileForm,
      { invalid_phone: 'phone', phone_required: 'phone' },
      async (s, profile) =>
        pathOf(s.organisation, (await registrations.profile(s.registrationId, s.token, profile)).step),
    ),

    device: formAction(
      'device',
      deviceForm,
      { platform_not_available: 'platform', phone_required: 'phone', invalid_phone: 'phone' },
      async (s, choice) => {
        await registrations.chooseDevice(s.registrationId, s.token, choice);
        return pathOf(s.organisation, 'provision');
      },
    ),

    /** The code the SMS brought, proving the mobile number; the link then goes to it. */
    phone: formAction('provision', phoneCodeBody, CODE_FIELDS, async (s, { code }, req) => {
      await registrations.provePhone(s.registrationId, s.token, code, clientAddress(req));
      return pathOf(s.organisation, 'provision');
    }),
  } satisfies Record<string, RequestHandler>;
}
