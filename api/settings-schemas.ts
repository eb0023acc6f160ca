import { z } from 'zod';
import { managementSchema } from '../lib/device-settings';
import { slug } from '../services/schemas';
import { PLATFORMS } from '../workflows/messages';

/** Request bodies of the settings API; one schema each, unknown fields refused. */

const label = z.string().trim().min(1, 'required').max(200);
const groups = z.array(z.string().trim().min(1).max(100)).max(100);
const freeForm = z.record(z.string(), z.unknown());
const id = z.number().int().positive();
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
  maxDevicesPerOwner: z
    .number()
    .int()
    .min(1)
    .max(100)
    .optional()
    .describe('Devices one owner may have that are not removed (default 5); left out, the current value stays.'),
});

export const accountTemplateBody = z.strictObject({
  name: label,
  locale,
  timeZone,
  role: z.string().trim().min(1).max(100),
  groups,
  validityDays: z.number().int().min(1).max(3650).nullable().optional(),
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
