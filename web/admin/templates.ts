import { type Request, type Response, Router } from 'express';
import { ZodError, z } from 'zod';
import { PLATFORMS, type Platform } from '../../domain/platform';
import type { SettingInput, SettingsPart } from '../../platforms/template-form';
import type { Settings, TemplateService } from '../../services/admin/settings';
import { HttpError } from '../../services/errors';
import { csrfToken } from '../csrf';
import { answerForm } from '../page-kit';
import type { Page } from '../views/document';
import { FORM_ERROR, type FormState } from '../views/form';
import { platformName } from '../views/platforms';
import { type AdminKit, managedOrganisation } from './shared';
import {
  ACCOUNT_FIELDS,
  accountTemplatePage,
  DEVICE_FIELDS,
  deviceFieldNames,
  deviceTemplatePage,
  FREE_FORM_SETTINGS,
  settingsPartsOf,
  templatesPage,
  templatesPath,
} from './templates.view';

/**
 * An organisation's account and device templates: typed forms read into the bodies the settings' schemas
 * take (services/admin/settings-schemas.ts), and the schemas' refusals shown beside the fields they are about. The rules
 * (validation, the Wi-Fi password kept, the in-use refusals) are services/admin/settings.ts's.
 */

/**
 * A submitted form read into the body a settings schema takes: text trimmed, numbers as numbers, lists as arrays.
 * What cannot be read at all (a number that is not one, JSON that does not parse) is an issue of its field; the
 * schemas check everything else.
 */
export function formReader(values: Record<string, unknown>) {
  const issues: Array<{ name: string; message: string }> = [];
  const raw = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : '');
  const text = (name: string) => raw(name).trim();
  const lines = (name: string) =>
    raw(name)
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter(Boolean);
  /** A whole number; undefined when empty, or when it is not one (an issue, as is an empty `required` one). */
  const whole = (name: string, { message = 'a whole number', required = false } = {}): number | undefined => {
    const value = text(name);
    if (value === '') {
      if (required) issues.push({ name, message: 'required' });
      return undefined;
    }
    if (/^-?\d{1,9}$/.test(value)) return Number(value);
    issues.push({ name, message });
    return undefined;
  };
  return {
    issues,
    raw,
    text,
    lines,
    whole,
    ticked: (name: string) => values[name] === 'on',
    /** One of the templates a select offers, by id; null for none. */
    choice: (name: string) => whole(name, { message: 'one of the choices' }) ?? null,
    commas: (name: string) =>
      text(name)
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    json(name: string): unknown {
      try {
        return JSON.parse(text(name) || '{}');
      } catch (error) {
        issues.push({ name, message: `not valid JSON: ${(error as Error).message}` });
        return undefined;
      }
    },
    /** `name=value` lines, as an object; a line without `=`, or a name given twice, is an issue. */
    pairs(name: string): Record<string, string> {
      const pairs: Record<string, string> = {};
      lines(name).forEach((line, index) => {
        const [key, ...rest] = line.split('=');
        const field = key.trim();
        if (!rest.length || !field) issues.push({ name, message: `line ${index + 1} is not name=value` });
        else if (Object.hasOwn(pairs, field)) issues.push({ name, message: `${field} is given twice` });
        else pairs[field] = rest.join('=').trim();
      });
      return pairs;
    },
  };
}
export type FormReader = ReturnType<typeof formReader>;

/** The schema `answerForm` parses a settings form with: the form read into a body, not yet checked. */
export const formOf = <T>(toBody: (read: FormReader) => T) =>
  z.record(z.string(), z.unknown()).transform((values, context) => {
    const read = formReader(values);
    const body = toBody(read);
    for (const { name, message } of read.issues) context.addIssue({ code: 'custom', path: [name], message });
    return body;
  });

/**
 * The form's field a body path is about: the longest whose name the path starts with (`management-wifi-ssid` for an
 * issue of its SSID), else the first within the path (`management-setupWifi-ssid` for one of the whole network).
 */
function fieldOfPath(fields: readonly string[], path: readonly PropertyKey[]): string {
  for (let end = path.length; end > 0; end--) {
    const name = path.slice(0, end).map(String).join('-');
    if (fields.includes(name)) return name;
  }
  const within = `${path.map(String).join('-')}-`;
  return (path.length && fields.find((name) => name.startsWith(within))) || FORM_ERROR;
}

/**
 * Runs a settings call whose refusals name paths in its body (the schema's issues, the service's own refusals of a
 * field): they come back naming the form's fields, for `answerForm` to show each beside its field — or above the form,
 * with the path, when no field fits.
 */
export async function besideFields<T>(fields: readonly string[], call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof ZodError)) throw error;
    throw new ZodError(
      error.issues.map((issue) => {
        const name = fieldOfPath(fields, issue.path);
        const message =
          name === FORM_ERROR && issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
        return { ...issue, path: [name], message };
      }),
    );
  }
}

/** Short news on the next page after a redirect, by a fixed key: no text travels in the address. */
export const noticeFrom = <Key extends string>(req: Request, notices: Record<Key, string>): string | undefined =>
  typeof req.query.notice === 'string' && Object.hasOwn(notices, req.query.notice)
    ? notices[req.query.notice as Key]
    : undefined;

const NOTICES = {
  created: 'The template has been created.',
  saved: 'Your changes have been saved.',
  deleted: 'The template has been deleted.',
};

/** A part's inputs read into its object: what is left out stays out (an empty optional field, a default flag). */
function inputValue(read: FormReader, input: SettingInput): unknown {
  const { name } = input.spec;
  switch (input.kind) {
    case 'flag':
      return read.ticked(name) === input.byDefault ? undefined : read.ticked(name);
    case 'whole':
      return read.whole(name);
    case 'lines':
      return read.lines(name).length ? read.lines(name) : undefined;
    case 'secret':
      // As typed: a passphrase's spaces count. Left empty, the stored one is kept (services/admin/settings.ts).
      return read.raw(name) || undefined;
    case 'choice':
      return read.text(name) || undefined;
    default:
      return input.spec.optional ? read.text(name) || undefined : read.text(name);
  }
}

const isThere = (part: SettingsPart, read: FormReader, values: Record<string, unknown>) => {
  if (part.when === 'always') return true;
  if (part.when === 'any') return Object.keys(values).length > 0;
  if ('ticked' in part.when) return read.ticked(part.when.ticked.name);
  return values[part.when.filled] !== undefined;
};

/** A typed platform's `management`, from its parts' inputs. */
function managementOf(read: FormReader, parts: SettingsPart[]): Record<string, unknown> {
  const management: Record<string, unknown> = {};
  for (const part of parts) {
    const values: Record<string, unknown> = {};
    for (const input of part.inputs) {
      const value = inputValue(read, input);
      if (value !== undefined) values[input.key] = value;
    }
    if (!part.key) Object.assign(management, values);
    else if (isThere(part, read, values)) management[part.key] = values;
  }
  return management;
}

/** A stored `management` as its form shows it; the secrets never, but which of them are stored. */
function managementValues(parts: SettingsPart[], management: Record<string, unknown>) {
  const values: Record<string, string> = {};
  const stored: string[] = [];
  for (const part of parts) {
    const object = (part.key ? management[part.key] : management) as Record<string, unknown> | undefined;
    if (typeof part.when === 'object' && 'ticked' in part.when) values[part.when.ticked.name] = object ? 'on' : '';
    for (const input of part.inputs) {
      const { name } = input.spec;
      const value = object?.[input.key];
      if (input.kind === 'flag') values[name] = (value ?? input.byDefault) ? 'on' : '';
      // The settings' view says whether a password is set (`passwordSet`), never what it is.
      else if (input.kind === 'secret') object?.[`${input.key}Set`] && stored.push(name);
      else if (Array.isArray(value)) values[name] = value.join('\n');
      else values[name] = value === undefined ? '' : String(value);
    }
  }
  return { values, stored };
}

type AccountView = Awaited<ReturnType<Settings['templates']['account']['get']>>;
type DeviceView = Awaited<ReturnType<Settings['templates']['device']['get']>>;

/** What differs between the kinds of template: their body, their form's values and fields, and their page. */
interface Kind<View extends { id: number; name: string }> {
  segment: 'account' | 'device';
  service: TemplateService<z.ZodType, View>;
  fields(platform: Platform | undefined): string[];
  body(read: FormReader, platform: Platform | undefined): unknown;
  values(view: View): { values: Record<string, string>; stored?: string[] };
  /** A new template's form: the platform's defaults ticked. */
  blank(platform: Platform | undefined): Record<string, string>;
  platformOf(view: View): Platform | undefined;
  page(
    input: { organisation: string; csrf: string; state: FormState; template?: View; stored?: string[] },
    platform: Platform | undefined,
  ): Page;
}

const ACCOUNT_NAMES = Object.values(ACCOUNT_FIELDS).map((spec) => spec.name);

const accountKind = (service: Settings['templates']['account']): Kind<AccountView> => ({
  segment: 'account',
  service,
  fields: () => ACCOUNT_NAMES,
  body: (read) => ({
    name: read.text('name'),
    locale: read.text('locale'),
    timeZone: read.text('timeZone'),
    role: read.text('role'),
    groups: read.commas('groups'),
    validityDays: read.whole('validityDays') ?? null,
    attributes: read.pairs('attributes'),
  }),
  values: (template) => ({
    values: {
      name: template.name,
      locale: template.locale,
      timeZone: template.timeZone,
      role: template.role,
      groups: template.groups.join(', '),
      validityDays: template.validityDays === null ? '' : String(template.validityDays),
      // Attributes the API set to other than text show as JSON, and come back as that text.
      attributes: Object.entries(template.attributes)
        .map(([name, value]) => `${name}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
        .join('\n'),
    },
  }),
  blank: () => ({}),
  platformOf: () => undefined,
  page: (input) => accountTemplatePage(input),
});

const deviceKind = (service: Settings['templates']['device']): Kind<DeviceView> => ({
  segment: 'device',
  service,
  fields: (platform) => deviceFieldNames(platform as Platform),
  body: (read, platform) => {
    const parts = settingsPartsOf(platform as Platform);
    return {
      name: read.text(DEVICE_FIELDS.name.name),
      platform,
      groups: read.commas(DEVICE_FIELDS.groups.name),
      description: read.text(DEVICE_FIELDS.description.name),
      management: parts ? managementOf(read, parts) : read.json(FREE_FORM_SETTINGS.name),
    };
  },
  values: (template) => {
    const common = { name: template.name, description: template.description, groups: template.groups.join(', ') };
    const parts = settingsPartsOf(template.platform);
    if (!parts) {
      return { values: { ...common, [FREE_FORM_SETTINGS.name]: JSON.stringify(template.management, null, 2) } };
    }
    const settings = managementValues(parts, template.management);
    return { values: { ...common, ...settings.values }, stored: settings.stored };
  },
  blank: (platform) => managementValues(settingsPartsOf(platform as Platform) ?? [], {}).values,
  platformOf: (template) => template.platform,
  page: (input, platform) => deviceTemplatePage({ ...input, platform: platform as Platform }),
});

/** The platform of a new device template's address; any other is not a page. */
function platformIn(req: Request): Platform {
  const platform = z.enum(PLATFORMS).safeParse(req.params.platform);
  if (!platform.success) throw new HttpError('not_found', 'There is nothing at this address.');
  return platform.data;
}

export function templatePages({ showSignedIn }: AdminKit, settings: Settings): Router {
  const router = Router();

  router.get('/templates', async (req, res) => {
    const organisation = managedOrganisation(res);
    const [accounts, devices, setup] = await Promise.all([
      settings.templates.account.list(organisation),
      settings.templates.device.list(organisation),
      settings.deviceSetup(organisation),
    ]);
    const usedDevices = new Set(Object.values(setup.deviceTemplates));
    showSignedIn(
      res,
      templatesPage({
        organisation,
        accountTemplates: accounts.map((template) => ({
          id: template.id,
          name: template.name,
          about: `${template.locale} · ${template.timeZone} · ${template.role}`,
          inUse: template.id === setup.accountTemplate,
        })),
        deviceTemplates: devices.map((template) => ({
          id: template.id,
          name: template.name,
          about: platformName(template.platform),
          inUse: usedDevices.has(template.id),
        })),
        notice: noticeFrom(req, NOTICES),
      }),
    );
  });

  kindPages(router, accountKind(settings.templates.account), 'new', () => undefined);
  kindPages(router, deviceKind(settings.templates.device), 'new/:platform', platformIn);

  /** A kind's pages: new, edit, delete; each form posts to its own address and goes back to the list. */
  function kindPages<View extends { id: number; name: string }>(
    routes: Router,
    kind: Kind<View>,
    newPath: string,
    newPlatform: (req: Request) => Platform | undefined,
  ) {
    const base = `/templates/${kind.segment}`;
    const listWith = (res: Response, notice: keyof typeof NOTICES) =>
      `${templatesPath(managedOrganisation(res).slug)}?notice=${notice}`;
    const show = (
      res: Response,
      platform: Platform | undefined,
      state: FormState,
      status = 200,
      template?: View,
      stored?: string[],
    ) =>
      showSignedIn(
        res,
        kind.page(
          { organisation: managedOrganisation(res).slug, csrf: csrfToken(res), state, template, stored },
          platform,
        ),
        status,
      );
    /** The stored template and its form's values; another organisation's is not found. */
    const stored = async (req: Request, res: Response) => {
      const template = await kind.service.get(managedOrganisation(res), String(req.params.id));
      return { template, platform: kind.platformOf(template), ...kind.values(template) };
    };

    routes.get(`${base}/${newPath}`, (req, res) => {
      const platform = newPlatform(req);
      show(res, platform, { values: kind.blank(platform), errors: {} });
    });
    routes.post(`${base}/${newPath}`, (req, res) => {
      const platform = newPlatform(req);
      return answerForm(req, res, {
        schema: formOf((read) => kind.body(read, platform)),
        again: (state, status) => show(res, platform, state, status),
        run: async (body) => {
          await besideFields(kind.fields(platform), () =>
            kind.service.create(managedOrganisation(res), kind.service.body.parse(body)),
          );
          return listWith(res, 'created');
        },
      });
    });

    routes.get(`${base}/:id`, async (req, res) => {
      const { template, platform, values, stored: secrets } = await stored(req, res);
      show(res, platform, { values, errors: {} }, 200, template, secrets);
    });
    routes.post(`${base}/:id`, async (req, res) => {
      const { template, platform, stored: secrets } = await stored(req, res);
      await answerForm(req, res, {
        schema: formOf((read) => kind.body(read, platform)),
        again: (state, status) => show(res, platform, state, status, template, secrets),
        run: async (body) => {
          await besideFields(kind.fields(platform), () =>
            kind.service.replace(managedOrganisation(res), template.id, body),
          );
          return listWith(res, 'saved');
        },
      });
    });

    // Refused while device setup uses the template: its page again, saying so.
    routes.post(`${base}/:id/delete`, async (req, res) => {
      const { template, platform, values, stored: secrets } = await stored(req, res);
      await answerForm(req, res, {
        schema: z.object({}),
        again: ({ errors }, status) => show(res, platform, { values, errors }, status, template, secrets),
        run: async () => {
          await kind.service.delete(managedOrganisation(res), template.id);
          return listWith(res, 'deleted');
        },
      });
    });
  }

  return router;
}
