import type { Model, ModelStatic } from 'sequelize';
import { ZodError, type z } from 'zod';
import type { AccountTemplate, DeviceTemplate, Organisation, SystemSettings } from '../../db/models';
import { emailMeetsRequirement, emailRequirementProblem } from '../../domain/email-requirement';
import type { Platform } from '../../domain/platform';
import { REGISTRATION_EMAIL, REGISTRATION_STEP } from '../../domain/search-attributes';
import { homeOf } from '../../platforms';
import { makeWebhookSecret, webhookSecretStatus } from '../../platforms/external-mdm/events';
import { keepWifiPasswords, shownManagement } from '../../platforms/settings';
import type { ServiceDeps } from '../context';
import { HttpError } from '../errors';
import type { ApiTokens } from './api-tokens';
import {
  accountTemplateBody,
  type DeviceSetupBody,
  deviceTemplateBody,
  idParam,
  type ManagerBody,
  type OrganisationBody,
  type RegistrationFilters,
  type SystemSettingsBody,
} from './settings-schemas';

/**
 * What supervisors and organisation managers do to the settings (docs/api.md describes them as the settings API): the
 * system-wide switch, organisations and their managers' tokens, each organisation's device setup and templates, and
 * what it has going on (registrations, devices, the MDM webhook secret). The JSON API and the admin pages both call
 * these; both authorize first and pass the organisation the caller may manage. Inputs are the bodies as the schemas in
 * services/admin/settings-schemas.ts parsed them, answers the views the settings API sends, refusals `HttpError`s.
 */

const invalid = (message: string) => new HttpError('invalid_request', message);

/**
 * A refusal of one field of a body, as its schema refuses: the API answers `<field>: <message>`, a form shows the
 * message beside the field (web/page-kit.ts).
 */
const invalidField = (field: string | string[], message: string) =>
  new ZodError([{ code: 'custom', path: typeof field === 'string' ? [field] : field, message, input: undefined }]);

/** A template row's id as a URL or form gives it: anything that is not one of the organisation's ids is not found. */
export type TemplateId = string | number;

interface TemplateKind<Row extends Model, Body extends z.ZodType, View> {
  noun: string;
  model: ModelStatic<Row>;
  body: Body;
  view(row: Row): View;
  /** Where the template is in use, as sentences for a 409; empty when it may be changed or deleted freely. */
  uses(row: Row): Promise<string[]>;
  /** A change that would break the configuration using it, refused like a deletion. */
  changeBreaksUse?(row: Row, next: z.infer<Body>): boolean;
  /** The replacement as sent, with the secrets the view does not show back kept from the row where left out. */
  keepSecrets?(row: Row, sent: unknown): unknown;
}

/** List, create, read, replace, delete one kind of template of an organisation. */
export interface TemplateService<Body extends z.ZodType, View> {
  /** What `create` takes, parsed. */
  body: Body;
  list(organisation: Organisation): Promise<View[]>;
  create(organisation: Organisation, body: z.infer<Body>): Promise<View>;
  get(organisation: Organisation, id: TemplateId): Promise<View>;
  /**
   * Replaces a template with a body as sent, not yet parsed: the secrets the view never showed (Wi-Fi passwords) are
   * kept from the stored template before the body is checked, since the schema requires them.
   */
  replace(organisation: Organisation, id: TemplateId, sent: unknown): Promise<View>;
  /** Refused (409 template_in_use) while the organisation's device setup uses it. */
  delete(organisation: Organisation, id: TemplateId): Promise<void>;
}

function templateService<Row extends Model & { id: number; organisationId: number }, Body extends z.ZodType, View>(
  kind: TemplateKind<Row, Body, View>,
): TemplateService<Body, View> {
  const find = async (organisation: Organisation, rawId: TemplateId): Promise<Row> => {
    const id = idParam.safeParse(rawId);
    const row = id.success
      ? await kind.model.findOne({ where: { id: id.data, organisationId: organisation.id } as never })
      : null;
    if (!row) throw new HttpError('not_found', `There is no such ${kind.noun} in this organisation.`);
    return row;
  };
  const refuseIfUsed = async (row: Row, action: string) => {
    const uses = await kind.uses(row);
    if (uses.length)
      throw new HttpError('template_in_use', `This ${kind.noun} cannot be ${action}: ${uses.join('; ')}.`);
  };

  return {
    body: kind.body,
    async list(organisation) {
      const rows = await kind.model.findAll({
        where: { organisationId: organisation.id } as never,
        order: [['id', 'ASC']],
      });
      return rows.map((row) => kind.view(row));
    },

    async create(organisation, body) {
      return kind.view(await kind.model.create({ ...(body as object), organisationId: organisation.id } as never));
    },

    async get(organisation, id) {
      return kind.view(await find(organisation, id));
    },

    async replace(organisation, id, sent) {
      const row = await find(organisation, id);
      const body = kind.body.parse(kind.keepSecrets ? kind.keepSecrets(row, sent) : sent);
      if (kind.changeBreaksUse?.(row, body)) await refuseIfUsed(row, 'changed that way');
      // Accounts and devices made earlier keep their copies: applying a template copies its values.
      await row.update(body as never);
      return kind.view(row);
    },

    async delete(organisation, id) {
      const row = await find(organisation, id);
      await refuseIfUsed(row, 'deleted');
      await row.destroy();
    },
  };
}

const accountTemplateView = (t: AccountTemplate) => ({
  id: t.id,
  name: t.name,
  locale: t.locale,
  timeZone: t.timeZone,
  role: t.role,
  groups: t.groups,
  validityDays: t.validityDays,
  attributes: t.attributes,
});

const deviceTemplateView = (t: DeviceTemplate) => ({
  id: t.id,
  name: t.name,
  platform: t.platform,
  groups: t.groups,
  description: t.description,
  // A Wi-Fi password goes to devices, never back to people: the view says whether one is set.
  management: shownManagement(t.platform, t.management),
});

/** A template replaced without the Wi-Fi passwords the view never showed keeps them, for the same networks. */
function keepWifiPassword(template: DeviceTemplate, sent: unknown): unknown {
  const body = sent as { platform?: unknown; management?: unknown } | null;
  if (!body?.management || typeof body.management !== 'object' || body.platform !== template.platform) return sent;
  const management = keepWifiPasswords(
    template.platform,
    template.management,
    body.management as Record<string, unknown>,
  );
  return { ...body, management };
}

/** A visibility-query string literal: the value quoted, its quotes and backslashes escaped. */
const literal = (value: string) => `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;

export function createSettings({ client, models, secrets }: ServiceDeps, apiTokens: ApiTokens) {
  async function systemView(settings: SystemSettings | null) {
    const defaultOrganisation = settings?.defaultOrganisationId
      ? ((await models.Organisation.findByPk(settings.defaultOrganisationId))?.slug ?? null)
      : null;
    return {
      deviceSetupEnabled: settings?.deviceSetupEnabled ?? false,
      defaultOrganisation,
      platforms: settings?.platforms ?? {},
    };
  }

  async function deviceSetupView(organisation: Organisation) {
    const rows = await models.OrganisationDeviceTemplate.findAll({ where: { organisationId: organisation.id } });
    return {
      enabled: organisation.enabled,
      emailRequirement: organisation.emailRequirement,
      accountTemplate: organisation.accountTemplateId,
      deviceTemplates: Object.fromEntries(rows.map((row) => [row.platform, row.deviceTemplateId])),
      maxDevicesPerOwner: organisation.maxDevicesPerOwner,
      windowsMdmDiscoveryUrl: organisation.windowsMdmDiscoveryUrl ?? null,
    };
  }

  /** An e-mail requirement that passes the RE2/ReDoS rules (domain/email-requirement.ts); an empty one is none. */
  async function checkedRequirement(requirement: string | null): Promise<string | null> {
    if (!requirement) return null;
    const problem = await emailRequirementProblem(requirement);
    if (problem) throw invalidField('emailRequirement', `this pattern ${problem}`);
    return requirement;
  }

  /** The device setup's references, checked: templates of this organisation, device templates of their platform. */
  async function checkDeviceSetup(
    organisation: Organisation,
    body: DeviceSetupBody,
    entries: Array<[Platform, number]>,
  ) {
    if (body.enabled && body.accountTemplate === null) {
      throw invalidField('accountTemplate', 'choose an account template before enabling self-service setup');
    }
    if (
      body.accountTemplate !== null &&
      !(await models.AccountTemplate.findOne({ where: { id: body.accountTemplate, organisationId: organisation.id } }))
    ) {
      throw invalidField('accountTemplate', `this organisation has no account template ${body.accountTemplate}`);
    }
    for (const [platform, templateId] of entries) {
      const template = await models.DeviceTemplate.findOne({
        where: { id: templateId, organisationId: organisation.id },
      });
      const field = ['deviceTemplates', platform];
      if (!template) throw invalidField(field, `this organisation has no device template ${templateId}`);
      if (template.platform !== platform) {
        throw invalidField(field, `template ${templateId} (${template.name}) is a ${template.platform} template`);
      }
    }
  }

  return {
    /** The system-wide settings: the device-setup switch, the default organisation, per-platform settings. */
    async systemSettings() {
      return systemView(await models.SystemSettings.findOne());
    },

    async updateSystemSettings(body: SystemSettingsBody) {
      let defaultOrganisationId: number | null = null;
      if (body.defaultOrganisation !== null) {
        const organisation = await models.Organisation.findOne({ where: { slug: body.defaultOrganisation } });
        if (!organisation)
          throw invalidField('defaultOrganisation', `there is no organisation "${body.defaultOrganisation}"`);
        defaultOrganisationId = organisation.id;
      }
      const values = { deviceSetupEnabled: body.deviceSetupEnabled, defaultOrganisationId, platforms: body.platforms };
      const settings = await models.SystemSettings.findOne();
      return systemView(settings ? await settings.update(values) : await models.SystemSettings.create(values));
    },

    /** Every organisation, by slug. */
    async organisations() {
      const rows = await models.Organisation.findAll({ order: [['slug', 'ASC']] });
      return rows.map(({ slug, name }) => ({ slug, name }));
    },

    async createOrganisation(body: OrganisationBody) {
      if (await models.Organisation.findOne({ where: { slug: body.slug } })) {
        throw new HttpError('organisation_exists', `There already is an organisation "${body.slug}".`);
      }
      const organisation = await models.Organisation.create({ slug: body.slug, name: body.name });
      return { slug: organisation.slug, name: organisation.name };
    },

    /** The organisation's managers: its API tokens, revoked ones too. */
    async managers(organisation: Organisation) {
      const rows = await models.ApiToken.findAll({
        where: { organisationId: organisation.id },
        order: [['id', 'ASC']],
      });
      return rows.map(({ id, label, createdAt, revokedAt }) => ({ id, label, createdAt, revokedAt }));
    },

    /** Every API token, revoked ones too, with the organisation of a manager's (a supervisor's has none). */
    async apiTokens() {
      const [rows, organisations] = await Promise.all([
        models.ApiToken.findAll({ order: [['id', 'ASC']] }),
        models.Organisation.findAll(),
      ]);
      const named = new Map(organisations.map(({ id, slug, name }) => [id, { slug, name }]));
      return rows.map(({ id, role, organisationId, label, createdAt, revokedAt }) => ({
        id,
        role,
        organisation: organisationId === null ? null : (named.get(organisationId) ?? null),
        label,
        createdAt,
        revokedAt,
      }));
    },

    /** A new manager token for the organisation, answered once. */
    async addManager(organisation: Organisation, { label }: ManagerBody) {
      const issued = await apiTokens.issue({
        role: 'manager',
        organisationId: organisation.id,
        label: label ?? `manager of ${organisation.slug}`,
      });
      return { ...issued, organisation: organisation.slug };
    },

    /** Revokes a token (again is no change); never `inUse`, the token the caller is using. */
    async revokeToken(rawId: string | number, { inUse }: { inUse?: number } = {}): Promise<void> {
      const id = idParam.safeParse(rawId);
      const row = id.success ? await models.ApiToken.findByPk(id.data) : null;
      if (!row) throw new HttpError('not_found', 'There is no such token.');
      if (row.id === inUse) throw invalid('A supervisor cannot revoke the token in use.');
      await row.update({ revokedAt: row.revokedAt ?? new Date() });
    },

    deviceSetup: deviceSetupView,

    /**
     * The organisation's device setup, replaced: the e-mail requirement passes the RE2/ReDoS rules, the templates are
     * the organisation's own and of their platform; left out, the device limit and Windows' MDM stay as they are.
     */
    async updateDeviceSetup(organisation: Organisation, body: DeviceSetupBody) {
      const emailRequirement = await checkedRequirement(body.emailRequirement);
      const entries = Object.entries(body.deviceTemplates) as Array<[Platform, number]>;
      await checkDeviceSetup(organisation, body, entries);
      await models.Organisation.sequelize?.transaction(async (transaction) => {
        await organisation.update(
          {
            enabled: body.enabled,
            emailRequirement,
            accountTemplateId: body.accountTemplate,
            maxDevicesPerOwner: body.maxDevicesPerOwner ?? organisation.maxDevicesPerOwner,
            windowsMdmDiscoveryUrl:
              body.windowsMdmDiscoveryUrl === undefined
                ? organisation.windowsMdmDiscoveryUrl
                : body.windowsMdmDiscoveryUrl,
          },
          { transaction },
        );
        await models.OrganisationDeviceTemplate.destroy({ where: { organisationId: organisation.id }, transaction });
        await models.OrganisationDeviceTemplate.bulkCreate(
          entries.map(([platform, deviceTemplateId]) => ({
            organisationId: organisation.id,
            platform,
            deviceTemplateId,
          })),
          { transaction },
        );
      });
      return deviceSetupView(organisation);
    },

    /**
     * Which addresses a requirement accepts, before it is saved: refused as `updateDeviceSetup` would refuse it, then
     * matched as registrations match it.
     */
    async tryEmailRequirement(requirement: string | null, addresses: string[]) {
      const checked = await checkedRequirement(requirement);
      return addresses.map((email) => ({ email, meets: emailMeetsRequirement(checked, email) }));
    },

    /** The organisation's account and device templates; in use by its device setup, they are not deleted. */
    templates: {
      account: templateService({
        noun: 'account template',
        model: models.AccountTemplate,
        body: accountTemplateBody,
        view: accountTemplateView,
        async uses(template) {
          const organisation = await models.Organisation.findByPk(template.organisationId);
          return organisation?.accountTemplateId === template.id
            ? [`it is the account template of ${organisation.name}`]
            : [];
        },
      }),
      device: templateService({
        noun: 'device template',
        model: models.DeviceTemplate,
        body: deviceTemplateBody,
        view: deviceTemplateView,
        async uses(template) {
          const rows = await models.OrganisationDeviceTemplate.findAll({ where: { deviceTemplateId: template.id } });
          return rows.map(
            (row) => `it is the ${row.platform} device template of the organisation's device-setup configuration`,
          );
        },
        changeBreaksUse: (row, next) => row.platform !== next.platform,
        keepSecrets: keepWifiPassword,
      }),
    },

    /** The organisation's registrations from Temporal's visibility, at most 1000, narrowed by `filters`. */
    async registrations(organisation: Organisation, filters: RegistrationFilters = {}) {
      const registrations = [];
      // The slug passed the slug pattern when it was created: safe inside the visibility query.
      const clauses = [`WorkflowType = 'registration'`, `Organisation = '${organisation.slug}'`];
      if (filters.step) clauses.push(`${REGISTRATION_STEP.name} = '${filters.step}'`);
      if (filters.email) clauses.push(`${REGISTRATION_EMAIL.name} = ${literal(filters.email)}`);
      for await (const run of client.workflow.list({ query: clauses.join(' AND '), pageSize: 200 })) {
        registrations.push({
          registrationId: secrets.registrationId(run.workflowId),
          email: run.typedSearchAttributes.get(REGISTRATION_EMAIL) ?? null,
          step: run.typedSearchAttributes.get(REGISTRATION_STEP) ?? null,
          status: run.status.name,
          startedAt: run.startTime.toISOString(),
        });
        if (registrations.length >= 1000) break;
      }
      return registrations;
    },

    /** The organisation's devices, newest first, with their owners' addresses. */
    async devices(organisation: Organisation) {
      const devices = await models.Device.findAll({
        where: { organisationId: organisation.id },
        order: [['createdAt', 'DESC']],
      });
      const owners = new Map(
        (await models.User.findAll({ where: { id: [...new Set(devices.map((d) => d.userId))] } })).map((u) => [
          u.id,
          u.email,
        ]),
      );
      return devices.map((d) => ({
        id: d.id,
        platform: d.platform,
        name: d.name,
        state: d.state,
        owner: owners.get(d.userId) ?? null,
        enrolledAt: d.enrolledAt?.toISOString() ?? null,
        linkExpiresAt: d.linkExpiresAt.toISOString(),
        unenrolledAt: d.unenrolledAt?.toISOString() ?? null,
        // What the device said about itself when it enrolled (Apple: UDID, serial number, model).
        deviceInfo: d.deviceInfo ?? null,
        settings: d.settingsStatus
          ? {
              status: d.settingsStatus,
              errorChain: d.settingsDetail ?? null,
              error: homeOf(d.platform).settingsErrorText?.(d.settingsDetail) ?? null,
            }
          : null,
      }));
    },

    /** Whether the organisation's MDM has a secret to sign its events with, and since when. */
    async webhookSecret(organisation: Organisation) {
      return webhookSecretStatus(secrets, organisation);
    },

    /** A new webhook secret, answered this once (not to be cached); it replaces the one before at once. */
    makeWebhookSecret: (organisation: Organisation) => makeWebhookSecret(secrets, organisation),
  };
}

export type Settings = ReturnType<typeof createSettings>;
