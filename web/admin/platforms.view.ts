import type { EngineStatus, ProfileSigningStatus } from '../../platforms/apple/engines-status';
import { html } from '../html';
import { notice, type Page } from '../views/document';
import { button, checkbox, type FieldSpec, type FormState, formPage, postForm, select } from '../views/form';
import { organisationChoices } from './layout.view';

/** Configuration › Platforms: the system-wide settings, and whether the enrolment engines answer. */

export const PLATFORMS_PATH = '/admin/configuration/platforms';

const DEVICE_SETUP: FieldSpec = {
  name: 'deviceSetupEnabled',
  label: 'Device setup enabled (system-wide)',
  hint: 'Off, nobody can register or add a device in any organisation. Owners can still see and remove their devices.',
};
const DEFAULT_ORGANISATION: FieldSpec = {
  name: 'defaultOrganisation',
  label: 'Default organisation',
  hint: 'Where people go who open the set-up address without naming an organisation. With none, they are asked for it.',
};
const SMS_CODE: FieldSpec = {
  name: 'useSmsInstallationCode',
  label: 'Use SMS installation code',
  hint: 'Android devices are offered only with this on: the owner gets the provisioning link by SMS.',
};

const engineState = ({ name, url, reachable, problem }: EngineStatus) =>
  html`<li class="engine">
<p class="engine-name"><strong>${name}</strong> <span class="state ${reachable ? 'state-up' : 'state-down'}">${reachable ? 'Reachable' : 'Not reachable'}</span></p>
<p class="engine-detail">Asked at <code class="address">${url}</code>: ${reachable ? 'it answers' : (problem ?? 'no answer')}.</p>
</li>`;

const signingState = ({ subject, validUntil, selfSigned }: ProfileSigningStatus) =>
  html`<p class="profile-signing">Enrolment profiles are signed by <code>${subject}</code>, valid until ${validUntil}.${
    selfSigned
      ? html` This certificate was made by the service itself, so devices show the profiles as “Not Verified”: set <code>PROFILE_SIGNING_CERTIFICATE</code> and <code>PROFILE_SIGNING_KEY</code> to a certificate they trust (this site’s TLS certificate will do).`
      : ''
  }</p>`;

export function platformsPage(input: {
  csrf: string;
  state: FormState;
  organisations: Array<{ slug: string; name: string }>;
  /** Empty when Apple enrolment is not set up: there are no engines to ask. */
  engines: EngineStatus[];
  signing?: ProfileSigningStatus;
  notice?: string;
}): Page {
  const { state } = input;
  const organisations = organisationChoices(input.organisations, 'None: people name their organisation');
  return formPage(
    state,
    'Configuration › Platforms',
    html`${notice(input.notice)}
${postForm(
  PLATFORMS_PATH,
  input.csrf,
  html`${checkbox(state, DEVICE_SETUP)}
${select(state, DEFAULT_ORGANISATION, organisations)}
<fieldset class="group">
<legend>Android</legend>
${checkbox(state, SMS_CODE)}
</fieldset>
${button('Save changes')}`,
)}
<h2>Enrolment engines</h2>
${
  input.engines.length
    ? html`<p>iPhones, iPads and Macs enrol through NanoMDM, with certificates from the SCEP server. Right now:</p>
<ul class="engines">${input.engines.map(engineState)}</ul>
${input.signing ? signingState(input.signing) : ''}`
    : html`<p class="engines-off">Apple enrolment is off: iPhones, iPads and Macs are not offered. A deployment turns it on by naming its NanoMDM and SCEP server (<code>NANOMDM_URL</code>, <code>SCEP_URL</code> and their keys).</p>`
}
<p><a href="/admin">Back to the admin home</a></p>`,
    { deviceSetupEnabled: DEVICE_SETUP, defaultOrganisation: DEFAULT_ORGANISATION, useSmsInstallationCode: SMS_CODE },
  );
}
