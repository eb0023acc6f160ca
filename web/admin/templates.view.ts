import type { Platform } from '../../domain/platform';
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
import { PLATFORM_CHOICES } from '../views/platforms';

/**
 * An organisation's account and device templates in the admin console: the lists, and typed forms for each
 * kind. A device template's settings are described here part by part (`SettingsPart`), once: the pages draw the parts,
 * and web/admin/templates.ts reads them into the `management` the settings' schemas check, and back.
 */

export interface Choice {
  value: string;
  text: string;
}

/**
 * One input of a part of the settings, by its key in that part: text (left out when empty and optional), a secret (a
 * password: never shown, left out when empty), a whole number, lines (a list), a flag (a checkbox, left out while it
 * is the platform's default) or a choice.
 */
export type SettingInput =
  | { key: string; kind: 'text' | 'secret' | 'whole' | 'lines'; spec: FieldSpec }
  | { key: string; kind: 'flag'; spec: FieldSpec; byDefault: boolean }
  | { key: string; kind: 'choice'; spec: FieldSpec; options: Choice[] };

/**
 * A part of a template's settings: an object in `management` (with a key) or fields of `management` itself. It is
 * there always, while a box is ticked, while one of its inputs is filled in, or when anything in it is set.
 */
export interface SettingsPart {
  key?: string;
  legend?: string;
  hint?: string;
  when: 'always' | 'any' | { ticked: FieldSpec } | { filled: string };
  inputs: SettingInput[];
}

/** The inputs of one part, named after their path in the body (`management-wifi-ssid`) so refusals find them. */
function inputsOf(part?: string) {
  const spec = (key: string, label: string, more: Partial<FieldSpec> = {}): FieldSpec => ({
    name: ['management', part, key].filter(Boolean).join('-'),
    label,
    ...more,
  });
  return {
    text: (key: string, label: string, more: Partial<FieldSpec> = {}): SettingInput => ({
      key,
      kind: 'text',
      spec: spec(key, label, more),
    }),
    whole: (key: string, label: string, hint: string): SettingInput => ({
      key,
      kind: 'whole',
      spec: spec(key, label, { hint, inputmode: 'numeric', optional: true, maxlength: 9 }),
    }),
    flag: (key: string, label: string, byDefault: boolean): SettingInput => ({
      key,
      kind: 'flag',
      byDefault,
      spec: spec(key, label),
    }),
    choice: (key: string, label: string, options: Choice[]): SettingInput => ({
      key,
      kind: 'choice',
      options,
      spec: spec(key, label),
    }),
    secret: (key: string, label: string, hint: string): SettingInput => ({
      key,
      kind: 'secret',
      spec: spec(key, label, { type: 'password', autocomplete: 'new-password', hint, optional: true }),
    }),
    lines: (key: string, label: string, hint: string): SettingInput => ({
      key,
      kind: 'lines',
      spec: spec(key, label, { hint, optional: true }),
    }),
  };
}

/** A Wi-Fi network, as both platforms describe one; its security options are each platform's own names. */
function wifiPart(key: string, legend: string, security: Choice[], more: { hint?: string; autoJoin?: boolean } = {}) {
  const input = inputsOf(key);
  return {
    key,
    legend,
    hint: more.hint,
    when: { filled: 'ssid' },
    inputs: [
      input.text('ssid', 'Network name (SSID)', { optional: true, hint: 'Leave it empty for no network.' }),
      input.choice('security', 'Security', security),
      input.secret('password', 'Password', 'Not for an open network.'),
      input.flag('hidden', 'The network is hidden (it does not broadcast its name)', false),
      ...(more.autoJoin ? [input.flag('autoJoin', 'Join the network automatically', true)] : []),
    ],
  } satisfies SettingsPart;
}

const passcode = inputsOf('passcode');
const restriction = inputsOf('restrictions');

/** An iPhone's, iPad's or Mac's settings (platforms/apple/settings.ts): passcode, Wi-Fi, restrictions. */
const APPLE: SettingsPart[] = [
  {
    key: 'passcode',
    legend: 'Passcode',
    when: {
      ticked: {
        name: 'management-passcode',
        label: 'Require a passcode',
        hint: 'The device asks its owner for a passcode that follows these rules.',
      },
    },
    inputs: [
      passcode.whole('minLength', 'Minimum length', 'From 0 to 16 characters.'),
      passcode.flag('requireAlphanumeric', 'Require letters as well as digits', false),
      passcode.flag('allowSimple', 'Allow simple passcodes, such as 1234 or 1111', true),
      passcode.whole(
        'minComplexChars',
        'Minimum number of symbols',
        'From 0 to 4: characters other than letters and digits.',
      ),
      passcode.whole('maxInactivityMinutes', 'Lock after this many minutes unused', 'From 0 to 15.'),
      passcode.whole('maxFailedAttempts', 'Wrong passcodes before the device is erased', 'From 2 to 11.'),
      passcode.whole('maxPasscodeAgeDays', 'Days before the passcode must be changed', 'From 1 to 730.'),
      passcode.whole('pinHistory', 'Earlier passcodes that cannot be used again', 'From 1 to 50.'),
    ],
  },
  wifiPart(
    'wifi',
    'Wi-Fi',
    [
      { value: 'WPA2', text: 'WPA2 (joins WPA2 and WPA3 networks)' },
      { value: 'WPA3', text: 'WPA3 only' },
      { value: 'None', text: 'None (an open network)' },
    ],
    { autoJoin: true },
  ),
  {
    key: 'restrictions',
    legend: 'Restrictions',
    hint: 'iPhones and iPads that their owners enrolled themselves (not supervised) ignore some of these.',
    when: 'any',
    inputs: [
      restriction.flag('allowCamera', 'Allow the camera', true),
      restriction.flag('allowScreenShot', 'Allow screenshots and screen recording', true),
      restriction.flag('allowAppInstallation', 'Allow installing apps', true),
      restriction.flag('allowCloudBackup', 'Allow iCloud backup', true),
      restriction.flag('forceEncryptedBackup', 'Encrypt backups', false),
    ],
  },
];

const ANDROID_SECURITY: Choice[] = [
  { value: 'WPA', text: 'WPA or WPA2' },
  { value: 'WEP', text: 'WEP' },
  { value: 'NONE', text: 'None (an open network)' },
];
const dpc = inputsOf('dpc');
const android = inputsOf();
const screenLock = inputsOf('password');

/** An Android device's settings (platforms/android/settings.ts): its device policy app, ownership, Wi-Fi, screen lock, apps. */
const ANDROID: SettingsPart[] = [
  {
    key: 'dpc',
    legend: 'Device policy app (DPC)',
    hint: 'The app from your organisation’s EMM that manages the devices.',
    when: 'always',
    inputs: [
      dpc.text('componentName', 'Component name', {
        hint: 'Its device admin receiver, as package/class: such as com.example.dpc/.AdminReceiver.',
      }),
      dpc.text('packageDownloadUrl', 'Download address', {
        type: 'url',
        hint: 'Where a new device downloads the app (APK): an https address.',
      }),
      dpc.text('signatureChecksum', 'Signature checksum', {
        hint: 'The SHA-256 of the app’s signing certificate in URL-safe base64: 43 characters, no “=”.',
      }),
    ],
  },
  {
    when: 'always',
    inputs: [
      android.choice('ownership', 'Who owns the devices', [
        { value: 'company', text: 'The organisation: fully managed, set up with a QR code' },
        { value: 'personal', text: 'Their owners: a work profile on their own device' },
      ]),
    ],
  },
  wifiPart('setupWifi', 'Set-up Wi-Fi', ANDROID_SECURITY, {
    hint: 'Company-owned devices only: the network the set-up wizard joins to download the app. It travels in the QR code.',
  }),
  {
    key: 'password',
    legend: 'Screen lock',
    when: { filled: 'quality' },
    inputs: [
      screenLock.choice('quality', 'Screen lock required', [
        { value: '', text: 'No rule' },
        { value: 'something', text: 'Any screen lock' },
        { value: 'numeric', text: 'Numeric (a PIN)' },
        { value: 'numeric-complex', text: 'Numeric, without repeated or ordered digits' },
        { value: 'alphabetic', text: 'Letters' },
        { value: 'alphanumeric', text: 'Letters and digits' },
        { value: 'complex', text: 'Letters, digits and symbols' },
      ]),
      screenLock.whole('minLength', 'Minimum length', 'From 4 to 16; for numeric locks or stronger.'),
    ],
  },
  wifiPart('wifi', 'Wi-Fi', ANDROID_SECURITY, { hint: 'The network the app sets up once the device is enrolled.' }),
  {
    when: 'always',
    inputs: [android.lines('apps', 'Apps to install', 'Package names, one a line, such as com.example.mail.')],
  },
];

/** A Windows template's settings are its MDM's own: free-form JSON. */
export const WINDOWS_SETTINGS: FieldSpec = {
  name: 'management',
  label: 'Settings for your MDM (JSON)',
  hint: 'A JSON object, passed to your organisation’s MDM as it is, such as {"wifi": {"ssid": "Office"}}.',
};

/** The typed parts of each platform's settings; Windows has none (`WINDOWS_SETTINGS`). */
const SETTINGS_PARTS: Record<Exclude<Platform, 'windows'>, SettingsPart[]> = {
  ios: APPLE,
  macos: APPLE,
  android: ANDROID,
};

export const settingsPartsOf = (platform: Platform) => (platform === 'windows' ? [] : SETTINGS_PARTS[platform]);

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
  if (platform === 'windows') return [...common, WINDOWS_SETTINGS.name];
  return [...common, ...Object.keys(settingsLabels(settingsPartsOf(platform)))];
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
<ul class="new-templates">${(Object.keys(PLATFORM_CHOICES) as Platform[]).map(
      (platform) => html`<li><a href="${base}/device/new/${platform}">For ${PLATFORM_CHOICES[platform].name}</a></li>`,
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
  const settings =
    input.platform === 'windows'
      ? textarea(state, WINDOWS_SETTINGS, 8)
      : parts.map((part) => settingsPart(state, part, input.stored ?? []));
  return formPage(
    state,
    formTitle(input, `${PLATFORM_CHOICES[input.platform].name} template`),
    templateForm(
      input,
      'device',
      `new/${input.platform}`,
      html`${field(state, DEVICE_FIELDS.name)}
${field(state, DEVICE_FIELDS.description)}
${field(state, DEVICE_FIELDS.groups)}
${settings}`,
    ),
    { ...DEVICE_FIELDS, [WINDOWS_SETTINGS.name]: WINDOWS_SETTINGS, ...settingsLabels(parts) },
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
