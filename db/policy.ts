import { Op, type Transaction } from 'sequelize';
import { emailMeetsRequirement } from '../domain/email-requirement';
import { domainError } from '../domain/errors';
import { PLATFORMS, type Platform } from '../domain/platform';
import { traitsOf } from '../platforms/traits';
import type { DeviceTemplate, Models, Organisation, SystemSettings, User } from './models';

/**
 * The settings rules (the system-wide switch, the organisation's switch, its e-mail requirement, its templates per
 * platform), read fresh from the database at every step, so a change a supervisor or manager makes takes effect for
 * registrations already running. Violations are domain errors.
 */

/** The organisation a registration step is for, after the system-wide and organisation switches. */
export async function openOrganisation(models: Models, slug: string | undefined): Promise<Organisation> {
  return (await openWithSettings(models, slug)).organisation;
}

async function openWithSettings(models: Models, slug: string | undefined) {
  const settings = await models.SystemSettings.findOne();
  if (!settings?.deviceSetupEnabled) {
    throw domainError('self_service_disabled', 'Device self-service setup is not available at the moment.');
  }
  const organisation = await namedOrDefault(models, settings, slug, 'Say which organisation you are registering with.');
  if (!organisation.enabled || organisation.accountTemplateId == null) {
    throw domainError('organisation_disabled', `${organisation.name} does not take self-service registrations.`);
  }
  return { organisation, settings };
}

/** The organisation of a slug, or the default one without a slug; never a guess. */
async function namedOrDefault(
  models: Models,
  settings: SystemSettings | null,
  slug: string | undefined,
  whenUnnamed: string,
): Promise<Organisation> {
  let organisation: Organisation | null;
  if (slug === undefined) {
    if (settings?.defaultOrganisationId == null) throw domainError('organisation_required', whenUnnamed);
    organisation = await models.Organisation.findByPk(settings.defaultOrganisationId);
  } else {
    organisation = await models.Organisation.findOne({ where: { slug } });
  }
  if (!organisation) throw domainError('organisation_not_found', 'There is no organisation with that name.');
  return organisation;
}

/**
 * The organisation a returning owner signs in to: named, or the default one. Unlike `openOrganisation` it does not
 * ask whether self-service is on: an owner may still see and remove their devices while adding new ones is off.
 */
export async function ownersOrganisation(models: Models, slug: string | undefined): Promise<Organisation> {
  const settings = slug === undefined ? await models.SystemSettings.findOne() : null;
  return namedOrDefault(models, settings, slug, 'Say which organisation your account is with.');
}

export function assertEmailAllowed(organisation: Organisation, email: string): void {
  if (!emailMeetsRequirement(organisation.emailRequirement, email)) {
    throw domainError('email_not_allowed', `${organisation.name} does not accept registrations from this address.`);
  }
}

/** What this server can enrol at all: Apple devices need NanoMDM and a SCEP server (platforms/apple/nanomdm.ts). */
export interface Engines {
  apple: boolean;
}

/**
 * The open organisation (as `openOrganisation`) and the device template per platform it offers now; Android only with
 * SMS installation codes on, iOS and macOS only with Apple enrolment set up, Windows only with the organisation's MDM
 * discovery URL. One read of the system settings serves
 * both.
 */
export async function offeredPlatforms(
  models: Models,
  slug: string,
  engines: Engines,
): Promise<{ organisation: Organisation; offered: Map<Platform, DeviceTemplate> }> {
  const { organisation, settings } = await openWithSettings(models, slug);
  const rows = await models.OrganisationDeviceTemplate.findAll({ where: { organisationId: organisation.id } });
  const templates = await models.DeviceTemplate.findAll({
    where: { id: rows.map((row) => row.deviceTemplateId), organisationId: organisation.id },
  });
  const offered = new Map<Platform, DeviceTemplate>();
  for (const platform of PLATFORMS) {
    const template = templates.find((t) => t.id === rows.find((row) => row.platform === platform)?.deviceTemplateId);
    if (!template || template.platform !== platform) continue;
    if (!traitsOf(platform).offered({ systemPlatforms: settings.platforms, organisation, engines })) continue;
    offered.set(platform, template);
  }
  return { organisation, offered };
}

/** The device template the organisation offers for a platform now; a withdrawn platform is a clear refusal. */
export async function offeredTemplate(models: Models, slug: string, platform: Platform, engines: Engines) {
  const { organisation, offered } = await offeredPlatforms(models, slug, engines);
  const template = offered.get(platform);
  if (!template)
    throw domainError('platform_not_available', `${organisation.name} does not offer ${platform} devices.`);
  return { organisation, template };
}

/**
 * Refuses one more device past the organisation's `maxDevicesPerOwner`, counting the owner's devices that are not
 * removed (within the caller's transaction, when it holds the owner's records).
 */
export async function assertRoomForDevice(
  models: Models,
  organisation: Organisation,
  userId: number,
  transaction?: Transaction,
): Promise<void> {
  const kept = await models.Device.count({ where: { userId, state: { [Op.ne]: 'removed' } }, transaction });
  if (kept >= organisation.maxDevicesPerOwner) {
    throw domainError(
      'device_limit_reached',
      `You already have ${kept} devices, the most ${organisation.name} allows. Remove one to add another.`,
    );
  }
}

/** The account of an address in an organisation (by slug), if there is one. */
export async function accountOf(models: Models, slug: string, email: string): Promise<User | null> {
  const organisation = await models.Organisation.findOne({ where: { slug } });
  return organisation && models.User.findOne({ where: { organisationId: organisation.id, email } });
}
