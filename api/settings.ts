import { type Request, Router } from 'express';
import type { Model, ModelStatic } from 'sequelize';
import type { z } from 'zod';
import type { AccountTemplate, DeviceTemplate, Models, Organisation, SystemSettings } from '../db/models';
import { appleErrorText } from '../lib/apple-errors';
import { keepWifiPasswords, shownManagement } from '../lib/device-settings';
import { emailRequirementProblem } from '../lib/email-requirement';
import type { ServiceDeps } from '../services/context';
import { HttpError } from '../services/errors';
import { makeWebhookSecret, webhookSecretStatus } from '../services/mdm-events';
import { emptyBody } from '../services/schemas';
import type { Platform } from '../workflows/messages';
import { REGISTRATION_EMAIL, REGISTRATION_STEP } from '../workflows/search-attributes';
import type { Auth } from './auth';
import {
  accountTemplateBody,
  deviceSetupBody,
  deviceTemplateBody,
  idParam,
  managerBody,
  organisationBody,
  systemSettingsBody,
} from './settings-schemas';

/** The supervisor's and organisation managers' settings API; docs/api.md describes it. */

const invalid = (message: string) => new HttpError('invalid_request', message);
const param = (req: Request, name: string) => String((req.params as Record<string, unknown>)[name]);

async function systemView(models: Models, settings: SystemSettings | null) {
  const defaultOrganisation = settings?.defaultOrganisationId
    ? ((await models.Organisation.findByPk(settings.defaultOrganisationId))?.slug ?? null)
    : null;
  return {
    deviceSetupEnabled: settings?.deviceSetupEnabled ?? false,
    defaultOrganisation,
    platforms: settings?.platforms ?? {},
  };
}

async function deviceSetupView(models: Models, organisation: Organisation) {
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

/** Where a template is in use, as sentences for a 409; empty when it may be changed or deleted freely. */
async function accountTemplateUses(models: Models, template: AccountTemplate): Promise<string[]> {
  const organisation = await models.Organisation.findByPk(template.organisationId);
  return organisation?.accountTemplateId === template.id ? [`it is the account template of ${organisation.name}`] : [];
}

async function deviceTemplateUses(models: Models, template: DeviceTemplate): Promise<string[]> {
  const rows = await models.OrganisationDeviceTemplate.findAll({ where: { deviceTemplateId: template.id } });
  return rows.map(
    (row) => `it is the ${row.platform} device template of the organisation's device-setup configuration`,
  );
}

interface TemplateKind<Row extends Model, Body extends z.ZodType> {
  path: string;
  noun: string;
  model: ModelStatic<Row>;
  body: Body;
  view(row: Row): object;
  uses(models: Models, row: Row): Promise<string[]>;
  /** A change that would break the configuration using it, refused like a deletion. */
  changeBreaksUse?(row: Row, next: z.infer<Body>): boolean;
  /** The replacement as sent, with the secrets the view does not show back kept from the row where left out. */
  keepSecrets?(row: Row, sent: unknown): unknown;
}

/** List, create, read, replace, delete one kind of template of an organisation. */
function templateRoutes<Row extends Model & { id: number; organisationId: number }, Body extends z.ZodType>(
  router: Router,
  auth: Auth,
  models: Models,
  kind: TemplateKind<Row, Body>,
) {
  const base = `/organisations/:slug/${kind.path}`;
  const find = async (organisation: Organisation, rawId: unknown): Promise<Row> => {
    const id = idParam.safeParse(rawId);
    const row = id.success
      ? await kind.model.findOne({ where: { id: id.data, organisationId: organisation.id } as never })
      : null;
    if (!row) throw new HttpError('not_found', `There is no such ${kind.noun} in this organisation.`);
    return row;
  };
  const refuseIfUsed = async (row: Row, action: string) => {
    const uses = await kind.uses(models, row);
    if (uses.length)
      throw new HttpError('template_in_use', `This ${kind.noun} cannot be ${action}: ${uses.join('; ')}.`);
  };

  router.get(base, async (req, res) => {
    const organisation = await auth.organisationFor(res, param(req, 'slug'));
    const rows = await kind.model.findAll({
      where: { organisationId: organisation.id } as never,
      order: [['id', 'ASC']],
    });
    res.json({ [kind.path.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())]: rows.map(kind.view) });
  });
  router.post(base, async (req, res) => {
    const organisation = await auth.organisationFor(res, param(req, 'slug'));
    const body = kind.body.parse(req.body ?? {}) as object;
    const row = await kind.model.create({ ...body, organisationId: organisation.id } as never);
    res.status(201).json(kind.view(row));
  });
  router.get(`${base}/:id`, async (req, res) => {
    const organisation = await auth.organisationFor(res, param(req, 'slug'));
    res.json(kind.view(await find(organisation, param(req, 'id'))));
  });
  router.put(`${base}/:id`, async (req, res) => {
    const organisation = await auth.organisationFor(res, param(req, 'slug'));
    const row = await find(organisation, param(req, 'id'));
    const body = kind.body.parse(kind.keepSecrets ? kind.keepSecrets(row, req.body ?? {}) : (req.body ?? {}));
    if (kind.changeBreaksUse?.(row, body)) await refuseIfUsed(row, 'changed that way');
    // Accounts and devices made earlier keep their copies: applying a template copies its values.
    await row.update(body as never);
    res.json(kind.view(row));
  });
  router.delete(`${base}/:id`, async (req, res) => {
    const organisation = await auth.organisationFor(res, param(req, 'slug'));
    const row = await find(organisation, param(req, 'id'));
    await refuseIfUsed(row, 'deleted');
    await row.destroy();
    res.status(204).end();
  });
}

export function settingsRoutes({ client, models, secrets }: ServiceDeps, auth: Auth): Router {
  const router = Router();
  router.use(['/settings', '/organisations', '/tokens'], auth.authenticate);

  router.get('/settings/system', async (_req, res) => {
    auth.requireSupervisor(res);
    res.json(await systemView(models, await models.SystemSettings.findOne()));
  });

  router.put('/settings/system', async (req, res) => {
    auth.requireSupervisor(res);
    const body = systemSettingsBody.parse(req.body ?? {});
    let defaultOrganisationId: number | null = null;
    if (body.defaultOrganisation !== null) {
      const organisation = await models.Organisation.findOne({ where: { slug: body.defaultOrganisation } });
      if (!organisation) throw invalid(`defaultOrganisation: there is no organisation "${body.defaultOrganisation}".`);
      defaultOrganisationId = organisation.id;
    }
    const values = { deviceSetupEnabled: body.deviceSetupEnabled, defaultOrganisationId, platforms: body.platforms };
    const settings = await models.SystemSettings.findOne();
    res.json(
      await systemView(models, settings ? await settings.update(values) : await models.SystemSettings.create(values)),
    );
  });

  router.get('/organisations', async (_req, res) => {
    auth.requireSupervisor(res);
    const rows = await models.Organisation.findAll({ order: [['slug', 'ASC']] });
    res.json({ organisations: rows.map(({ slug, name }) => ({ slug, name })) });
  });

  router.post('/organisations', async (req, res) => {
    auth.requireSupervisor(res);
    const body = organisationBody.parse(req.body ?? {});
    if (await models.Organisation.findOne({ where: { slug: body.slug } })) {
      throw new HttpError('organisation_exists', `There already is an organisation "${body.slug}".`);
    }
    const organisation = await models.Organisation.create({ slug: body.slug, name: body.name });
    res.status(201).json({ slug: organisation.slug, name: organisation.name });
  });

  router.get('/organisations/:slug/managers', async (req, res) => {
    auth.requireSupervisor(res);
    const organisation = await auth.organisationFor(res, param(req, 'slug'));
    const rows = await models.ApiToken.findAll({ where: { organisationId: organisation.id }, order: [['id', 'ASC']] });
    res.json({
      managers: rows.map(({ id, label, createdAt, revokedAt }) => ({ id, label, createdAt, revokedAt })),
    });
  });

  router.post('/organisations/:slug/managers', async (req, res) => {
    auth.requireSupervisor(res);
    const organisation = await auth.organisationFor(res, param(req, 'slug'));
    const { label } = managerBody.parse(req.body ?? {});
    const issued = await auth.issue({
      role: 'manager',
      organisationId: organisation.id,
      label: label ?? `manager of ${organisation.slug}`,
    });
    res.status(201).json({ ...issued, organisation: organisation.slug });
  });

  router.delete('/tokens/:id', async (req, res) => {
    auth.requireSupervisor(res);
    const id = idParam.safeParse(req.params.id);
    const row = id.success ? await models.ApiToken.findByPk(id.data) : null;
    if (!row) throw new HttpError('not_found', 'There is no such token.');
    if (row.id === auth.principal(res).tokenId) throw invalid('A supervisor cannot revoke the token in use.');
    await row.update({ revokedAt: row.revokedAt ?? new Date() });
    res.status(204).end();
  });

  router.get('/organisations/:slug/device-setup', async (req, res) => {
    res.json(await deviceSetupView(models, await auth.organisationFor(res, param(req, 'slug'))));
  });

  router.put('/organisations/:slug/device-setup', async (req, res) => {
    const organisation = await auth.organisationFor(res, param(req, 'slug'));
    const body = deviceSetupBody.parse(req.body ?? {});
    const emailRequirement = body.emailRequirement === '' ? null : body.emailRequirement;
    const problem = emailRequirement === null ? undefined : await emailRequirementProblem(emailRequirement);
    if (problem) throw invalid(`emailRequirement ${problem}.`);
    if (body.enabled && body.accountTemplate === null) {
      throw invalid('enabled: set an accountTemplate before enabling self-service setup.');
    }
    if (
      body.accountTemplate !== null &&
      !(await models.AccountTemplate.findOne({ where: { id: body.accountTemplate, organisationId: organisation.id } }))
    ) {
      throw invalid(`accountTemplate: this organisation has no account template ${body.accountTemplate}.`);
    }
    const entries = Object.entries(body.deviceTemplates) as Array<[Platform, number]>;
    for (const [platform, templateId] of entries) {
      const template = await models.DeviceTemplate.findOne({
        where: { id: templateId, organisationId: organisation.id },
      });
      if (!template)
        throw invalid(`deviceTemplates.${platform}: this organisation has no device template ${templateId}.`);
      if (template.platform !== platform) {
        throw invalid(`deviceTemplates.${platform}: template ${templateId} is a ${template.platform} template.`);
      }
    }
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
    res.json(await deviceSetupView(models, organisation));
  });

  templateRoutes(router, auth, models, {
    path: 'account-templates',
    noun: 'account template',
    model: models.AccountTemplate,
    body: accountTemplateBody,
    view: accountTemplateView,
    uses: accountTemplateUses,
  });
  templateRoutes(router, auth, models, {
    path: 'device-templates',
    noun: 'device template',
    model: models.DeviceTemplate,
    body: deviceTemplateBody,
    view: deviceTemplateView,
    uses: deviceTemplateUses,
    changeBreaksUse: (row, next) => row.platform !== next.platform,
    keepSecrets: keepWifiPassword,
  });

  router.get('/organisations/:slug/registrations', async (req, res) => {
    const organisation = await auth.organisationFor(res, param(req, 'slug'));
    const registrations = [];
    // The slug passed the slug pattern when it was created: safe inside the visibility query.
    const query = `WorkflowType = 'registration' AND Organisation = '${organisation.slug}'`;
    for await (const run of client.workflow.list({ query, pageSize: 200 })) {
      registrations.push({
        registrationId: secrets.registrationId(run.workflowId),
        email: run.typedSearchAttributes.get(REGISTRATION_EMAIL) ?? null,
        step: run.typedSearchAttributes.get(REGISTRATION_STEP) ?? null,
        status: run.status.name,
        startedAt: run.startTime.toISOString(),
      });
      if (registrations.length >= 1000) break;
    }
    res.json({ registrations });
  });

  // The secret the organisation's MDM signs its events with: shown once when made; a new one replaces it at once.
  router.get('/organisations/:slug/mdm-webhook-secret', async (req, res) => {
    res.json(webhookSecretStatus(secrets, await auth.organisationFor(res, param(req, 'slug'))));
  });
  router.post('/organisations/:slug/mdm-webhook-secret', async (req, res) => {
    const organisation = await auth.organisationFor(res, param(req, 'slug'));
    emptyBody.parse(req.body ?? {});
    res
      .status(201)
      .set('Cache-Control', 'no-store')
      .json(await makeWebhookSecret(secrets, organisation));
  });

  router.get('/organisations/:slug/devices', async (req, res) => {
    const organisation = await auth.organisationFor(res, param(req, 'slug'));
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
    res.json({
      devices: devices.map((d) => ({
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
              error: appleErrorText(d.settingsDetail) ?? null,
            }
          : null,
      })),
    });
  });

  return router;
}
