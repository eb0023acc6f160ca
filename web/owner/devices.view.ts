import type { DeviceState, SettingsStatus } from '../../domain/platform';
import type { OwnedDevice } from '../../services/owners/devices';
import { html, type SafeHtml } from '../html';
import { moment, notice, type Page } from '../views/document';
import { blankForm, button, type FieldSpec, type FormState, field, formPage, postForm } from '../views/form';
import { platformChoice, platformName } from '../views/platforms';

/** A signed-in owner's devices: the list, removing one, a new link for one whose link expired. */

export const STATE_WORDS: Record<DeviceState, string> = {
  'link-issued': 'Link issued',
  enrolled: 'Enrolled',
  'link-expired': 'Link expired',
  removed: 'Removed',
  unenrolled: 'Unenrolled',
};

export const SETTINGS_WORDS: Record<SettingsStatus, string> = {
  pending: 'Settings are waiting for the device',
  applied: 'Settings applied',
  failed: 'Settings not applied',
};

/** When what the state says happened, or will: the words after the state's own ("Enrolled on …"). */
export function stateDetail(device: OwnedDevice): SafeHtml | string | undefined {
  switch (device.state) {
    case 'link-issued':
      return device.linkExpiresAt && html`– the link works until ${moment(device.linkExpiresAt)}`;
    case 'link-expired':
      return device.linkExpiresAt && html`on ${moment(device.linkExpiresAt)}`;
    case 'enrolled':
      return device.enrolledAt && html`on ${moment(device.enrolledAt)}`;
    case 'removed':
      return device.removedAt && html`on ${moment(device.removedAt)}`;
    case 'unenrolled':
      return device.unenrolledAt && html`– its management profile was removed on ${moment(device.unenrolledAt)}`;
  }
}

/** An MDM-managed device's settings: whether the device has taken them, and the device's own reason if not. */
function settingsLine(device: OwnedDevice): SafeHtml | undefined {
  const settings = device.settings;
  if (!settings || device.state === 'removed') return undefined;
  return html`<p class="device-settings settings-${settings.status}">${SETTINGS_WORDS[settings.status]}${
    settings.error && html`: ${settings.error}`
  }</p>`;
}

/** A control's words, with the device's name for screen readers (who hear the buttons of every device in a list). */
const named = (text: string, device: OwnedDevice) => html`${text}<span class="visually-hidden"> ${device.name}</span>`;

function deviceCard(base: string, device: OwnedDevice, csrf: string): SafeHtml {
  const { name, icon } = platformChoice(device.platform);
  const href = `${base}/devices/${device.id}`;
  const actions = [
    device.state === 'link-issued' &&
      html`<a class="button button-primary" href="${href}">${named('Show link', device)}</a>`,
    device.state === 'link-expired' &&
      postForm(
        `${href}/link`,
        csrf,
        html`<button type="submit" class="button button-primary">${named('Get a new link', device)}</button>`,
      ),
    device.state !== 'removed' &&
      html`<a class="button button-secondary" href="${href}/remove">${named('Remove', device)}</a>`,
  ].filter((action): action is SafeHtml => Boolean(action));
  return html`<li class="device device-${device.state}" id="device-${device.id}">
<div class="device-head">${icon}<div><h2 class="device-name">${device.name}</h2>
<p class="device-platform">${name}</p></div></div>
<p class="device-state"><span class="state state-${device.state}">${STATE_WORDS[device.state]}</span> ${stateDetail(device)}</p>
${settingsLine(device)}
${actions.length > 0 && html`<div class="device-actions">${actions}</div>`}
</li>`;
}

export function devicesPage(input: {
  organisation: { slug: string; name: string };
  email: string;
  devices: OwnedDevice[];
  csrf: string;
  /** Why no device can be added now, if none can; otherwise the button is shown. */
  cannotAdd?: string;
  notice?: string;
  state?: FormState;
}): Page {
  const base = `/setup/${input.organisation.slug}`;
  const state = input.state ?? blankForm;
  return formPage(
    state,
    'My devices',
    html`${notice(input.notice)}
<div class="account">
<p>Signed in as <strong class="address">${input.email}</strong></p>
${postForm(`${base}/sign-out`, input.csrf, button('Sign out', { variant: 'link' }))}
</div>
${
  input.devices.length === 0
    ? html`<p>You have no devices with ${input.organisation.name} yet.</p>`
    : html`<ul class="devices">${input.devices.map((device) => deviceCard(base, device, input.csrf))}</ul>`
}
${
  input.cannotAdd
    ? html`<p class="add-off">${input.cannotAdd}</p>`
    : html`<p><a class="button button-primary" href="${base}/devices/new">Add a device</a></p>`
}`,
  );
}

/** What removing does to the device itself: a managed one is told to let go of its management profile. */
export function removalWords(device: OwnedDevice): string {
  if (device.state === 'link-issued') return 'Its setup link stops working at once.';
  if (device.state === 'enrolled' && device.settings) {
    return 'It is unenrolled: its management profile, and the settings that came with it, are removed from it the next time it connects.';
  }
  return 'Its setup link stops working.';
}

export function removePage(input: { organisation: string; device: OwnedDevice; csrf: string }): Page {
  const base = `/setup/${input.organisation}`;
  const { device } = input;
  return {
    title: `Remove ${device.name}?`,
    body: html`<p>${platformName(device.platform)}, ${STATE_WORDS[device.state].toLowerCase()}.</p>
<p>${removalWords(device)} To set the device up again later, add it as a new device.</p>
${postForm(`${base}/devices/${device.id}/remove`, input.csrf, button('Remove the device'))}
<p><a href="${base}/devices">Cancel</a></p>`,
  };
}

export const RELINK_PHONE: FieldSpec = {
  name: 'phone',
  label: 'Mobile phone number for the SMS',
  type: 'tel',
  hint: 'We send the new link to this number. In international format, for example +447700900123.',
  autocomplete: 'tel',
  inputmode: 'tel',
};

/** A new link for an Android device when the account has no phone number to send it to. */
export function relinkPage(input: { organisation: string; device: OwnedDevice; csrf: string; state: FormState }): Page {
  const base = `/setup/${input.organisation}`;
  return formPage(
    input.state,
    `A new link for ${input.device.name}`,
    html`${postForm(
      `${base}/devices/${input.device.id}/link`,
      input.csrf,
      html`${field(input.state, RELINK_PHONE)}
${button('Get a new link')}`,
    )}
<p><a href="${base}/devices">Back to My devices</a></p>`,
    { phone: RELINK_PHONE },
  );
}

/** A device's page when it has no live link to show: set up already, or its link expired. */
export function deviceStatusPage(input: { organisation: string; device: OwnedDevice; csrf: string }): Page {
  const base = `/setup/${input.organisation}`;
  const { device } = input;
  const expired = device.state === 'link-expired';
  return {
    title: expired ? `The link for ${device.name} has expired` : `${device.name} is set up`,
    body: html`<p>${STATE_WORDS[device.state]} ${stateDetail(device)}.</p>
${expired && postForm(`${base}/devices/${device.id}/link`, input.csrf, button('Get a new link'))}
<p><a href="${base}/devices">Back to My devices</a></p>`,
  };
}

/** Adding is off (organisation closed, service off) or the owner is at the limit: said instead of the device choice. */
export function cannotAddPage(input: { organisation: string; title: string; message: string }): Page {
  return {
    title: input.title,
    body: html`<p class="problem">${input.message}</p>
<p><a href="/setup/${input.organisation}/devices">Back to My devices</a></p>`,
  };
}
