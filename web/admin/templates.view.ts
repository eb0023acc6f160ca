import { PLATFORMS, type Platform } from '../../domain/platform';
import { homeOf } from '../../platforms';
import type { SettingInput, SettingsPart } from '../../platforms/template-form';
import { html, type SafeHtml } from '../html';
import { notice, type Page } from '../views/document';
import {
  blankForm,
  button,
  checkbox,
  type FieldLabels,
  type FieldSpec,
  type FormState,
  field,
  formPage,
  postForm,
  select,
  textarea,
} from '../views/form';
import { platformName } from '../views/platforms';

/**
 * An organisation's account and device templates in the admin console: the lists, and typed forms for each
 * kind. A device template's settings are described here part by part (`SettingsPart`), once: the pages draw the parts,
 * and web/admin/templates.ts reads them into the `management` the settings' schemas check, and back.
 */

/** A template's settings its platform does not type are its MDM's own: free-form JSON. */
export const FREE_FORM_SETTINGS: FieldSpec = {
  name: 'management',
  label: 'Settings for your MDM (JSON)',
  hint: 'A JSON object, passed to your organisation’s MDM as it is, such as {"wifi": {"ssid": "Office"}}.',
};

/** The typed parts of a platform's settings; undefined for a platform whose settings are free-form. */
export const settingsPartsOf = (platform: Platform): SettingsPart[] | undefined => homeOf(platform).settings?.form;

/** What every template's form has. */
const NAME: FieldSpec = { name: 'name', label: 'Name', maxlength: 200 };
const GROUPS: FieldSpec = { name: 'groups', label: 'Groups', hint: 'Separated by commas.', optional: true };
const DESCRIPTION: FieldSpec = { name: 'description', label: 'Description', optional: true };

export const ACCOUNT_FIELDS = {
  name: NAME,
  locale: { name: 'locale', label: 'Language', hint: 'A BCP 47 language tag, such as en-GB.' },
  timeZone: { name: 'timeZone', label: 'Time zone', hint: 'An IANA time zone, such as Europe/London.' },
  role: { name: 'role', label: 'Role', hint: 'The role new accounts get, such as employee.' },
  groups: GROUPS,
  validityDays: {
    name: 'validityDays',
    label: 'Days an account stays valid',
    hint: 'From 1 to 3650; leave it empty for accounts that do not expire.',
    inputmode: 'numeric',
    optional: true,
  },
  attributes: {
    name: 'attributes',
    label: 'Attributes',
    hint: 'One a line, as name=value, such as costCentre=4711.',
    optional: true,
  },
} satisfies Record<string, FieldSpec>;

export const DEVICE_FIELDS = { name: NAME, description: DESCRIPTION, groups: GROUPS } satisfies Record<
  string,
  FieldSpec
>;

/** The names of a device template's fields on its platform's form. */
export function deviceFieldNames(platform: Platform): string[] {
  const common = Object.values(DEVICE_FIELDS).map((spec) => spec.name);
  const parts = settingsPartsOf(platform);
  return parts ? [...common, ...Object.keys(settingsLabels(parts))] : [...common, FREE_FORM_SETTINGS.name];
}

/** The settings' fields by name, labelled with their part's legend for the error summary. */
function settingsLabels(parts: SettingsPart[]): FieldLabels {
  const labels: FieldLabels = {};
  for (const part of parts) {
    const specs = [...(typeof part.when === 'object' && 'ticked' in part.when ? [part.when.ticked] : [])];
    for (const spec of [...specs, ...part.inputs.map((input) => input.spec)]) {
      labels[spec.name] = { label: part.legend ? `${part.legend}: ${spec.label}` : spec.label };
    }
  }
  return labels;
}

/** The organisation's pages under /admin/organisations/<slug>. */
export const organisationBase = (slug: string) => `/admin/organisations/${slug}`;
export const templatesPath = (slug: string) => `${organisationBase(slug)}/templates`;

/** The links back from an organisation's pages. */
export const organisationLinks = (slug: string, here: 'device-setup' | 'templates') =>
  html`<nav class="page-links" aria-label="Related pages"><ul>
${here === 'templates' ? html`<li><a href="${organisationBase(slug)}/device-setup">Device setup</a></li>` : html`<li><a href="${templatesPath(slug)}">Templates</a></li>`}
<li><a href="/admin">Admin home</a></li>
</ul></nav>`;

interface Listed {
  id: number;
  name: string;
  /** What else to say about it in the list. */
  about: string;
  inUse: boolean;
}

export function templatesPage(input: {
  organisation: { slug: string; name: string };
  accountTemplates: Listed[];
  deviceTemplates: Listed[];
  notice?: string;
}): Page {
  const base = templatesPath(input.organisation.slug);
  const list = (kind: 'account' | 'device', rows: Listed[]) =>
    rows.length
      ? html`<ul class="template-list">${rows.map(
          (row) => html`<li><a href="${base}/${kind}/${row.id}">${row.name}</a>
<span class="meta">${row.about}</span>${row.inUse && html` <span class="state state-in-use">Used by device setup</span>`}</li>`,
        )}</ul>`
      : html`<p>There are none yet.</p>`;
  return {
    title: 'Templates',
    body: html`${notice(input.notice)}
<p>The templates of ${input.organisation.name}. <a href="${organisationBase(input.organisation.slug)}/device-setup">Device setup</a> chooses which ones new owners get.</p>
<h2>Account templates</h2>
<p>What a new owner’s account gets: its language, time zone, role, groups and how long it stays valid.</p>
${list('account', input.accountTemplates)}
<p><a class="button button-secondary" href="${base}/account/new">New account template</a></p>
<h2>Device templates</h2>
<p>What a device gets once it has enrolled, by platform.</p>
${list('device', input.deviceTemplates)}
<h3>New device template</h3>
<ul class="new-templates">${PLATFORMS.map(
      (platform) => html`<li><a href="${base}/device/new/${platform}">For ${platformName(platform)}</a></li>`,
    )}</ul>
${organisationLinks(input.organisation.slug, 'templates')}`,
  };
}

interface TemplateForm {
  organisation: string;
  csrf: string;
  state?: FormState;
  /** The template being edited; none for a new one. */
  template?: { id: number; name: string };
}

/** The way to delete an edited template; one that device setup uses is refused, and the page says why. */
const deletion = (input: TemplateForm, kind: 'account' | 'device') =>
  input.template &&
  html`<h2>Delete this template</h2>
<p>A template that device setup uses cannot be deleted. Accounts and devices made with it keep their settings.</p>
${postForm(`${templatesPath(input.organisation)}/${kind}/${input.template.id}/delete`, input.csrf, button('Delete template', { variant: 'secondary' }))}`;

const formTitle = (input: TemplateForm, what: string) =>
  input.template ? `Edit the ${what} “${input.template.name}”` : `New ${what}`;

/** A template's form, its fields then its button, the way back, and for a stored template the way to delete it. */
const templateForm = (input: TemplateForm, kind: 'account' | 'device', newPath: string, fields: SafeHtml) =>
  html`${postForm(
    `${templatesPath(input.organisation)}/${kind}/${input.template ? input.template.id : newPath}`,
    input.csrf,
    html`${fields}
${button(input.template ? 'Save changes' : 'Create template')}`,
  )}
<p><a href="${templatesPath(input.organisation)}">Back to the templates</a></p>
${deletion(input, kind)}`;

export function accountTemplatePage(input: TemplateForm): Page {
  const state = input.state ?? blankForm;
  const fields = ACCOUNT_FIELDS;
  return formPage(
    state,
    formTitle(input, 'account template'),
    templateForm(
      input,
      'account',
      'new',
      html`${field(state, fields.name)}
${field(state, fields.locale)}
${field(state, fields.timeZone)}
${field(state, fields.role)}
${field(state, fields.groups)}
${field(state, fields.validityDays)}
${textarea(state, fields.attributes)}`,
    ),
    fields,
  );
}

export function deviceTemplatePage(
  input: TemplateForm & {
    platform: Platform;
    /** The secrets' fields with a password stored, which an empty field keeps. */
    stored?: string[];
  },
): Page {
  const state = input.state ?? blankForm;
  const parts = settingsPartsOf(input.platform);
  const settings = parts
    ? parts.map((part) => settingsPart(state, part, input.stored ?? []))
    : textarea(state, FREE_FORM_SETTINGS, 8);
  return formPage(
    state,
    formTitle(input, `${platformName(input.platform)} template`),
    templateForm(
      input,
      'device',
      `new/${input.platform}`,
      html`${field(state, DEVICE_FIELDS.name)}
${field(state, DEVICE_FIELDS.description)}
${field(state, DEVICE_FIELDS.groups)}
${settings}`,
    ),
    { ...DEVICE_FIELDS, [FREE_FORM_SETTINGS.name]: FREE_FORM_SETTINGS, ...settingsLabels(parts ?? []) },
  );
}

const KEEP_PASSWORD = 'A password is stored. Leave this empty to keep it for the same network.';

function settingInput(state: FormState, input: SettingInput, stored: string[]): SafeHtml {
  switch (input.kind) {
    case 'flag':
      return checkbox(state, input.spec);
    case 'choice':
      return select(state, input.spec, input.options);
    case 'lines':
      return textarea(state, input.spec);
    case 'secret':
      return field(state, stored.includes(input.spec.name) ? { ...input.spec, hint: KEEP_PASSWORD } : input.spec);
    default:
      return field(state, input.spec);
  }
}

function settingsPart(state: FormState, part: SettingsPart, stored: string[]): SafeHtml {
  const inputs = html`${typeof part.when === 'object' && 'ticked' in part.when && checkbox(state, part.when.ticked)}
${part.inputs.map((input) => settingInput(state, input, stored))}`;
  if (!part.legend) return inputs;
  return html`<fieldset class="group">
<legend>${part.legend}</legend>
${part.hint && html`<p class="hint">${part.hint}</p>`}
${inputs}
</fieldset>`;
}
