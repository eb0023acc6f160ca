import { PLATFORMS } from '../../domain/platform';
import type { ProvisioningLink } from '../../platforms/link';
import { traitsOf } from '../../platforms/traits';
import type { AdministeredDevice } from '../../services/admin/devices';
import { DEVICE_STATES } from '../../services/admin/devices';
import type { Settings } from '../../services/admin/settings';
import { html, type SafeHtml } from '../html';
import { removalWords, SETTINGS_WORDS, STATE_WORDS, stateDetail } from '../owner/devices.view';
import { moment, notice, type Page } from '../views/document';
import { blankForm, button, type FieldSpec, type FormState, field, formPage, postForm, select } from '../views/form';
import { platformName } from '../views/platforms';
import { organisationBase } from './templates.view';

/**
 * An organisation's devices in the admin console: the list with its filters, each device's page, and the
 * operator's two actions on it — a new link for the owner, and removing the device (after a confirmation).
 */

export const devicesPath = (slug: string) => `${organisationBase(slug)}/devices`;
export const devicePath = (slug: string, id: string) => `${devicesPath(slug)}/${id}`;

type ListedDevice = Awaited<ReturnType<Settings['devices']>>[number];

export const FILTER_FIELDS = {
  state: { name: 'state', label: 'State' },
  platform: { name: 'platform', label: 'Platform' },
  owner: {
    name: 'owner',
    label: 'Owner’s address',
    hint: 'All or part of it.',
    inputmode: 'email',
    autocomplete: 'off',
    maxlength: 254,
    optional: true,
  },
} satisfies Record<string, FieldSpec>;

const settingsWords = (settings: { status: keyof typeof SETTINGS_WORDS; error?: string | null } | null | undefined) =>
  settings ? html`${SETTINGS_WORDS[settings.status]}${settings.error && html`: ${settings.error}`}` : 'Not managed';

function deviceItem(slug: string, device: ListedDevice): SafeHtml {
  return html`<li class="record${device.state === 'removed' ? ' record-ended' : ''}">
<h3 class="record-title"><a href="${devicePath(slug, device.id)}">${device.name}</a></h3>
<dl class="facts">
<div><dt>Platform</dt><dd>${platformName(device.platform)}</dd></div>
<div><dt>Owner</dt><dd class="address">${device.owner ?? 'Unknown'}</dd></div>
<div><dt>State</dt><dd><span class="state state-${device.state}">${STATE_WORDS[device.state]}</span></dd></div>
<div><dt>Enrolled</dt><dd>${device.enrolledAt ? moment(device.enrolledAt) : 'No'}</dd></div>
${device.unenrolledAt && html`<div><dt>Unenrolled</dt><dd>${moment(device.unenrolledAt)}</dd></div>`}
${device.settings && html`<div><dt>Apple settings</dt><dd>${settingsWords(device.settings)}</dd></div>`}
</dl>
</li>`;
}

/** The organisation's devices, as filtered; the filters are a GET form, so a filtered list has an address. */
export function devicesPage(input: {
  organisation: { slug: string; name: string };
  filters: Record<string, string>;
  devices: ListedDevice[];
}): Page {
  const { slug } = input.organisation;
  const state: FormState = { values: input.filters, errors: {} };
  const any = { value: '', text: 'Any' };
  return {
    title: 'Devices',
    body: html`<p>The devices of ${input.organisation.name}, newest first.</p>
<form method="get" action="${devicesPath(slug)}" class="filters" role="search" aria-label="Filter the devices" novalidate>
${select(state, FILTER_FIELDS.state, [any, ...DEVICE_STATES.map((value) => ({ value, text: STATE_WORDS[value] }))])}
${select(state, FILTER_FIELDS.platform, [any, ...PLATFORMS.map((value) => ({ value, text: platformName(value) }))])}
${field(state, FILTER_FIELDS.owner)}
${button('Show devices')}
</form>
<h2>${input.devices.length === 1 ? 'One device' : `${input.devices.length} devices`}</h2>
${
  input.devices.length
    ? html`<ul class="records">${input.devices.map((device) => deviceItem(slug, device))}</ul>`
    : html`<p>No device matches.</p>`
}
${links(slug)}`,
  };
}

const links = (slug: string, device?: boolean) => html`<nav class="page-links" aria-label="Related pages"><ul>
${device && html`<li><a href="${devicesPath(slug)}">All devices</a></li>`}
<li><a href="${organisationBase(slug)}/device-setup">Device setup</a></li>
<li><a href="/admin">Admin home</a></li>
</ul></nav>`;

/** What the device said about itself when it enrolled, as name and value. */
const deviceInfoFacts = (info: Record<string, unknown> | null) =>
  info &&
  Object.entries(info).map(
    ([name, value]) =>
      html`<div><dt>${name}</dt><dd>${typeof value === 'string' ? value : JSON.stringify(value)}</dd></div>`,
  );

/** The live link, for the operator to pass on to the owner. */
const liveLink = (link: ProvisioningLink) => html`<h2>The device’s link</h2>
<p>Pass it on to the owner: it works once, until ${moment(link.expiresAt)}.${traitsOf(link.platform).linkBySms && ' It has also been sent by SMS to the owner’s phone.'}</p>
<p class="secret-value"><code id="provisioning-link">${link.provisioningUrl}</code></p>`;

export function devicePage(input: {
  organisation: { slug: string; name: string };
  device: AdministeredDevice;
  link?: ProvisioningLink;
  csrf: string;
  state?: FormState;
  notice?: string;
}): Page {
  const { device, csrf } = input;
  const { slug } = input.organisation;
  const path = devicePath(slug, device.id);
  return formPage(
    input.state ?? blankForm,
    device.name,
    html`${notice(input.notice)}
<dl class="facts">
<div><dt>Platform</dt><dd>${platformName(device.platform)}</dd></div>
<div><dt>Owner</dt><dd class="address">${device.owner}</dd></div>
<div><dt>State</dt><dd><span class="state state-${device.state}">${STATE_WORDS[device.state]}</span> ${stateDetail(device)}</dd></div>
${device.settings && html`<div><dt>Apple settings</dt><dd class="settings-${device.settings.status}">${settingsWords(device.settings)}</dd></div>`}
${deviceInfoFacts(device.deviceInfo)}
</dl>
${input.link && liveLink(input.link)}
${
  device.state === 'link-expired' &&
  html`<h2>A new link</h2>
<p>The owner gets a new link for this device, as if they had asked for it; you see it here to pass on.</p>
${postForm(`${path}/link`, csrf, button('Give it a new link'))}`
}
${
  device.state !== 'removed' &&
  html`<p class="record-actions"><a class="button button-secondary" href="${path}/remove">Remove this device</a></p>`
}
${links(slug, true)}`,
  );
}

export function removeDevicePage(input: {
  organisation: { slug: string; name: string };
  device: AdministeredDevice;
  csrf: string;
  state?: FormState;
}): Page {
  const { device } = input;
  const path = devicePath(input.organisation.slug, device.id);
  return formPage(
    input.state ?? blankForm,
    `Remove ${device.name}?`,
    html`<p>${platformName(device.platform)} of <strong class="address">${device.owner}</strong>, ${STATE_WORDS[device.state].toLowerCase()}.</p>
<p>${removalWords(device)} The owner can add it again as a new device.</p>
${postForm(`${path}/remove`, input.csrf, button('Remove the device'))}
<p><a href="${path}">Keep it, and go back to ${device.name}</a></p>`,
  );
}
