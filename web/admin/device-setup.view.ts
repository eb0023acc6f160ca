import { PLATFORMS, type Platform } from '../../domain/platform';
import { traitsOf } from '../../platforms/traits';
import { html } from '../html';
import { moment, notice, type Page } from '../views/document';
import {
  button,
  type Choice,
  checkbox,
  type FieldSpec,
  type FormState,
  field,
  formPage,
  postForm,
  select,
  textarea,
} from '../views/form';
import { platformName } from '../views/platforms';
import { organisationBase, organisationLinks } from './templates.view';

/**
 * An organisation's device setup in the admin console: whether owners may register, which addresses, the
 * templates their accounts and devices get, how many devices, Windows' MDM, and the secret the MDM signs its reports
 * with.
 */

export const deviceTemplateField = (platform: Platform): FieldSpec => ({
  name: `deviceTemplates-${platform}`,
  label: `Device template: ${platformName(platform)}`,
  hint: traitsOf(platform).offeredWhen,
});

export const SETUP_FIELDS = {
  enabled: {
    name: 'enabled',
    label: 'Self-service enabled',
    hint: 'New owners can register with this organisation and set up their devices. It needs an account template.',
  },
  emailRequirement: {
    name: 'emailRequirement',
    label: 'E-mail requirement',
    hint: 'A regular expression that addresses must match, not minding case, such as @example\\.com$ (RE2: no look-arounds or back-references). Leave it empty to accept every address.',
    optional: true,
    maxlength: 500,
  },
  addresses: {
    name: 'addresses',
    label: 'Addresses to try',
    hint: 'One a line: see which of them meet the requirement as it is typed above, before saving it.',
    optional: true,
  },
  accountTemplate: { name: 'accountTemplate', label: 'Account template' },
  maxDevicesPerOwner: {
    name: 'maxDevicesPerOwner',
    label: 'Devices per owner',
    hint: 'From 1 to 100: the devices one owner may have that are not removed.',
    inputmode: 'numeric',
    maxlength: 9,
  },
  windowsMdmDiscoveryUrl: {
    name: 'windowsMdmDiscoveryUrl',
    label: 'Windows MDM discovery URL',
    hint: 'Where Windows PCs find your organisation’s MDM (https), such as https://enterpriseenrollment.example.com/EnrollmentServer/Discovery.svc.',
    type: 'url',
    optional: true,
    maxlength: 2000,
  },
} satisfies Record<string, FieldSpec>;

/** Every field of the form by name: for the error summary, and for refusals to find their field. */
export const SETUP_LABELS: Record<string, FieldSpec> = {
  ...SETUP_FIELDS,
  ...Object.fromEntries(
    PLATFORMS.map((platform) => [deviceTemplateField(platform).name, deviceTemplateField(platform)]),
  ),
};

interface DeviceSetupInput {
  organisation: { slug: string; name: string };
  csrf: string;
  state: FormState;
  accountTemplates: Choice[];
  deviceTemplates: Record<Platform, Choice[]>;
  webhookSecret: { configured: boolean; createdAt: string | null };
  /** The addresses tried against the requirement as typed, when the person asked. */
  tried?: Array<{ email: string; meets: boolean }>;
  notice?: string;
}

export const deviceSetupPath = (slug: string) => `${organisationBase(slug)}/device-setup`;

export function deviceSetupPage(input: DeviceSetupInput): Page {
  const { state } = input;
  const path = deviceSetupPath(input.organisation.slug);
  const fields = SETUP_FIELDS;
  return formPage(
    state,
    'Device setup',
    html`${notice(input.notice)}
<p>Who may register with ${input.organisation.name}, and what their accounts and devices get. The templates are made on <a href="${organisationBase(input.organisation.slug)}/templates">Templates</a>.</p>
${postForm(
  path,
  input.csrf,
  html`${checkbox(state, fields.enabled)}
<fieldset class="group">
<legend>Who may register</legend>
${field(state, fields.emailRequirement)}
${textarea(state, fields.addresses, 3)}
${button('Try addresses', { variant: 'secondary', formaction: `${path}/try` })}
${input.tried && tried(input.tried)}
</fieldset>
${select(state, fields.accountTemplate, [{ value: '', text: 'None' }, ...input.accountTemplates])}
<fieldset class="group">
<legend>Device templates</legend>
<p class="hint">A platform without a template is not offered to owners.</p>
${PLATFORMS.map((platform) =>
  select(state, deviceTemplateField(platform), [
    { value: '', text: 'Not offered' },
    ...input.deviceTemplates[platform],
  ]),
)}
</fieldset>
${field(state, fields.maxDevicesPerOwner)}
${field(state, fields.windowsMdmDiscoveryUrl)}
${button('Save changes')}`,
)}
<h2>MDM webhook secret</h2>
<p>Your organisation’s MDM signs its reports of enrolled and removed devices with this secret.</p>
<p>${
      input.webhookSecret.configured
        ? html`A secret is set, made on ${input.webhookSecret.createdAt && moment(input.webhookSecret.createdAt)}.`
        : 'There is no secret yet: reports from your MDM are refused until there is one.'
    }</p>
${postForm(
  `${path}/webhook-secret`,
  input.csrf,
  button(input.webhookSecret.configured ? 'Make a new secret (the old one stops working)' : 'Make a secret', {
    variant: 'secondary',
  }),
)}
${organisationLinks(input.organisation.slug, 'device-setup')}`,
    SETUP_LABELS,
  );
}

/** Each address tried, and whether it meets the requirement: said in words, not only shown. */
const tried = (results: Array<{ email: string; meets: boolean }>) =>
  html`<div class="tried" role="status">
<h2 class="visually-hidden">Addresses tried</h2>
${
  results.length
    ? html`<ul>${results.map(
        ({ email, meets }) =>
          html`<li class="${meets ? 'meets' : 'fails'}"><span class="address">${email}</span>: ${meets ? 'meets the requirement' : 'does not meet the requirement'}</li>`,
      )}</ul>`
    : html`<p>Type one or more addresses to try.</p>`
}
</div>`;

/** The new secret, shown this once. */
export function webhookSecretPage(input: { organisation: string; secret: string; createdAt: string }): Page {
  return {
    title: 'Your new webhook secret',
    body: html`<p>Copy it now into your MDM’s webhook settings: it is shown only this once. Any earlier secret no longer works.</p>
<p class="secret-value"><code id="webhook-secret">${input.secret}</code></p>
<p>Made on ${moment(input.createdAt)}.</p>
<p>Your MDM signs each report: <code>X-Signature-Timestamp</code> is the time in Unix seconds, and <code>X-Signature</code> is <code>sha256=</code> followed by the hex HMAC-SHA-256 of the timestamp, a full stop and the body, keyed with this secret.</p>
<p><a href="${deviceSetupPath(input.organisation)}">Back to device setup</a></p>`,
  };
}
