import type { FunnelPeriod, TimelineEntry } from '../../services/admin/registrations';
import { STEPS, type Step } from '../../workflows/registration/messages';
import { html } from '../html';
import { moment, notice, type Page } from '../views/document';
import { button, type FieldSpec, type FormState, field, formPage, postForm, select } from '../views/form';
import { platformName } from '../views/platforms';
import { organisationBase } from './templates.view';

/**
 * An organisation's registrations in the admin console: the list with its filters, the funnel, and each
 * registration's timeline with the operators' actions.
 */

export const registrationsPath = (slug: string) => `${organisationBase(slug)}/registrations`;
export const registrationPath = (slug: string, registrationId: string) =>
  `${registrationsPath(slug)}/${encodeURIComponent(registrationId)}`;

/** Each step in people's words. */
const STEP_WORDS: Record<Step, string> = {
  'verify-email': 'Verifying the address',
  profile: 'Giving a profile',
  device: 'Choosing a device',
  provision: 'Setting up the device',
  done: 'Done',
  expired: 'Expired',
};
const stepWords = (step: string | null | undefined) => (step ? (STEP_WORDS[step as Step] ?? step) : 'Unknown');

export const FILTER_FIELDS = {
  step: { name: 'step', label: 'Step', optional: true },
  email: {
    name: 'email',
    label: 'E-mail address',
    hint: 'The whole address: registrations are found by it exactly.',
    type: 'email',
    inputmode: 'email',
    autocomplete: 'off',
    optional: true,
    maxlength: 254,
  },
} satisfies Record<string, FieldSpec>;

interface Listed {
  registrationId: string;
  email: string | null;
  step: string | null;
  startedAt: string;
}

export function registrationsPage(input: {
  organisation: { slug: string; name: string };
  state: FormState;
  registrations: Listed[];
  funnel: FunnelPeriod[];
  filtered: boolean;
}): Page {
  const { organisation, state } = input;
  const path = registrationsPath(organisation.slug);
  return formPage(
    state,
    'Registrations',
    html`<p>Who is registering with ${organisation.name}, and how far they got.</p>
<h2>Funnel</h2>
${funnelTable(input.funnel)}
<p class="hint">Each stage counts the registrations that got at least that far, whatever became of them since: one that verified its address and then expired counts as verified, and as expired.</p>
<h2>Find registrations</h2>
<form method="get" action="${path}" novalidate>
${select(state, FILTER_FIELDS.step, [
  { value: '', text: 'Any step' },
  ...STEPS.map((step) => ({ value: step, text: STEP_WORDS[step] })),
])}
${field(state, FILTER_FIELDS.email)}
${button('Show registrations', { variant: 'secondary' })}
</form>
<h2>${input.filtered ? 'Registrations found' : 'All registrations'}</h2>
${
  input.registrations.length
    ? html`<ul class="records">${input.registrations.map(
        (registration) => html`<li class="record">
<h3 class="record-title"><a href="${registrationPath(organisation.slug, registration.registrationId)}" class="address">${registration.email ?? 'Unknown address'}</a></h3>
<dl class="facts">
<div><dt>Step</dt><dd>${stepWords(registration.step)}</dd></div>
<div><dt>Started</dt><dd>${moment(registration.startedAt)}</dd></div>
</dl>
</li>`,
      )}</ul>`
    : html`<p>${input.filtered ? 'No registration matches.' : 'There is no registration yet.'}</p>`
}
<p><a href="/admin">Back to the admin home</a></p>`,
    FILTER_FIELDS,
  );
}

function funnelTable(periods: FunnelPeriod[]) {
  const rows = [
    { text: 'Started', counts: periods.map((period) => period.started) },
    ...(periods[0]?.stages ?? []).map((stage, index) => ({
      text: stage.text,
      counts: periods.map((period) => period.stages[index]?.count ?? 0),
    })),
  ];
  return html`<table class="funnel">
<caption class="visually-hidden">Registrations by how far they got</caption>
<thead><tr><th scope="col">Stage</th>${periods.map((period) => html`<th scope="col">Last ${period.days} days</th>`)}</tr></thead>
<tbody>${rows.map(
    (row) => html`<tr><th scope="row">${row.text}</th>${row.counts.map((count) => html`<td>${count}</td>`)}</tr>`,
  )}</tbody>
</table>`;
}

interface RegistrationInput {
  organisation: { slug: string; name: string };
  csrf: string;
  registration: {
    registrationId: string;
    email: string;
    step?: Step;
    startedAt: string;
    entries: TimelineEntry[];
  };
  notice?: string;
  /** An action refused (a registration that moved on meanwhile, say): said above the page. */
  refusal?: string;
}

export function registrationPage(input: RegistrationInput): Page {
  const { organisation, registration } = input;
  const path = registrationPath(organisation.slug, registration.registrationId);
  const open = registration.step !== undefined && registration.step !== 'done' && registration.step !== 'expired';
  const state: FormState = { values: {}, errors: input.refusal ? { '': input.refusal } : {} };
  return formPage(
    state,
    'Registration',
    html`${notice(input.notice)}
<dl class="facts">
<div><dt>Address</dt><dd class="address">${registration.email}</dd></div>
<div><dt>Step</dt><dd>${stepWords(registration.step)}</dd></div>
<div><dt>Started</dt><dd>${moment(registration.startedAt)}</dd></div>
</dl>
<h2>Timeline</h2>
<ol class="records timeline">${registration.entries.map(
      (entry) => html`<li class="record">
<p>${moment(entry.at)}: ${entry.what}${entry.device && html` (${platformName(entry.device.platform)}; the link works until ${moment(entry.device.expiresAt)})`}${entry.by && html`, by <span class="address">${entry.by}</span>`}</p>
</li>`,
    )}</ol>
${
  open &&
  html`<h2>Actions</h2>
<div class="record-actions">
${
  registration.step === 'verify-email' &&
  postForm(`${path}/new-code`, input.csrf, button('Send a new code', { variant: 'secondary' }))
}
<a class="button button-secondary" href="${path}/end">End this registration</a>
</div>`
}
<p><a href="${registrationsPath(organisation.slug)}">Back to the registrations</a></p>`,
  );
}

/** The confirmation step before ending a registration. */
export function endRegistrationPage(input: {
  organisation: { slug: string };
  csrf: string;
  registrationId: string;
  email: string;
}): Page {
  const path = registrationPath(input.organisation.slug, input.registrationId);
  return {
    title: 'End this registration?',
    body: html`<p>The registration of <strong class="address">${input.email}</strong> ends at once, as expired: the owner cannot go on with it, and a device link it issued stops working. They can start again with their address.</p>
${postForm(`${path}/end`, input.csrf, button('End the registration'))}
<p><a href="${path}">Keep it, and go back to the registration</a></p>`,
  };
}
