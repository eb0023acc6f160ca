import { z } from 'zod';
import { PLATFORMS } from '../../domain/platform';
import { managementSchema } from '../../platforms/settings';
import { STEPS } from '../../workflows/registration/messages';
import { slug } from '../schemas';

/**
 * Request bodies of the settings, one schema each, unknown fields refused: what the settings API validates and documents
 * (api/openapi.ts) and what the admin pages' forms are parsed with, so that both refuse the same things.
 */

const label = z.string().trim().min(1, 'required').max(200);
const groups = z.array(z.string().trim().min(1).max(100)).max(100);
const freeForm = z.record(z.string(), z.unknown());
const id = z.number().int().positive();
/** A count people type into a form as well as send: its message says the bounds. */
const wholeNumber = (min: number, max: number) =>
  z.int({ error: 'a whole number' }).min(min, `from ${min} to ${max}`).max(max, `from ${min} to ${max}`);
const timeZone = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'an IANA time zone such as Europe/Berlin');
const locale = z.string().refine((tag) => {
  try {
    return Intl.getCanonicalLocales(tag).length === 1;
  } catch {
    return false;
  }
}, 'a BCP 47 language tag such as en-GB');

export const platformSettings = z.strictObject({
  android: z.strictObject({ useSmsInstallationCode: z.boolean() }).optional(),
  ios: z.strictObject({}).optional(),
  macos: z.strictObject({}).optional(),
  windows: z.strictObject({}).optional(),
});

export const systemSettingsBody = z.strictObject({
  deviceSetupEnabled: z.boolean(),
  defaultOrganisation: slug.nullable(),
  platforms: platformSettings,
});

/** Slugs that name pages under /setup rather than an organisation (the e-mail's one-click link is /setup/verify). */
const RESERVED_SLUGS = ['verify'];
export const organisationBody = z.strictObject({
  slug: slug.refine((value) => !RESERVED_SLUGS.includes(value), 'this name is reserved'),
  name: label,
});
export const managerBody = z.strictObject({ label: label.optional() });

export const deviceSetupBody = z.strictObject({
  enabled: z.boolean(),
  emailRequirement: z.string().max(500).nullable(),
  accountTemplate: id.nullable(),
  deviceTemplates: z.partialRecord(z.enum(PLATFORMS), id),
  windowsMdmDiscoveryUrl: z
    .url({ protocol: /^https$/, error: 'an https URL: your MDM’s enrolment discovery service' })
    .max(2000)
    .nullable()
    .optional()
    .describe(
      'Where Windows devices find the MDM that enrols them (https); Windows is offered only with one. Left out, the current value stays.',
    ),
  maxDevicesPerOwner: wholeNumber(1, 100)
    .optional()
    .describe('Devices one owner may have that are not removed (default 5); left out, the current value stays.'),
});

export const accountTemplateBody = z.strictObject({
  name: label,
  locale,
  timeZone,
  role: z.string().trim().min(1, 'required').max(100),
  groups,
  validityDays: wholeNumber(1, 3650).nullable().optional(),
  attributes: freeForm,
});

/** Apple and Android templates' settings are typed (the device applies them); Windows' are free-form (its MDM's). */
export const deviceTemplateBody = z
  .strictObject({
    name: label,
    platform: z.enum(PLATFORMS),
    groups,
    description: z.string().max(2000),
    management: freeForm,
  })
  .superRefine((template, ctx) => {
    const typed = managementSchema(template.platform)?.safeParse(template.management);
    for (const issue of typed?.error?.issues ?? []) {
      ctx.addIssue({ code: 'custom', message: issue.message, path: ['management', ...issue.path] });
    }
  });

export const idParam = z.coerce.number().int().positive();

/** What the registrations list can be narrowed to: a step, an address (exact, compared in lower case). */
export const registrationFilters = z.strictObject({
  step: z.enum(STEPS).optional(),
  email: z.string().trim().min(1).max(254).toLowerCase().optional(),
});

export type SystemSettingsBody = z.infer<typeof systemSettingsBody>;
export type OrganisationBody = z.infer<typeof organisationBody>;
export type ManagerBody = z.infer<typeof managerBody>;
export type DeviceSetupBody = z.infer<typeof deviceSetupBody>;
export type AccountTemplateBody = z.infer<typeof accountTemplateBody>;
export type DeviceTemplateBody = z.infer<typeof deviceTemplateBody>;
export type RegistrationFilters = z.infer<typeof registrationFilters>;
