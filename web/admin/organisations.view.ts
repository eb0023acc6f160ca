import type { AdminUser, Organisation } from '../../db/models';
import type { Invitation } from '../../services/admin/invitations';
import type { InvitationState } from '../../workflows/invitation/messages';
import { html, type SafeHtml } from '../html';
import { moment, notice, type Page } from '../views/document';
import { blankForm, button, type FieldSpec, type FormState, field, formPage, postForm } from '../views/form';
import { organisationSections, sectionList } from './layout.view';

/**
 * Organisations: the supervisor's list and a new organisation; each organisation's managers, revoking one,
 * and its invitations (invite, send again, withdraw). A manager sees their own organisation's managers, and nothing
 * to change.
 */

export const ORGANISATIONS_PATH = '/admin/organisations';
export const organisationPath = (slug: string) => `${ORGANISATIONS_PATH}/${slug}`;
export const invitationsPath = (slug: string) => `${organisationPath(slug)}/invitations`;
export const revokePath = (slug: string, managerId: number) => `${organisationPath(slug)}/managers/${managerId}/revoke`;

const SLUG: FieldSpec = {
  name: 'slug',
  label: 'Slug',
  hint: 'The organisation’s name in addresses: lower-case letters, digits and dashes. Its people register at /setup/<slug>. It cannot be changed later.',
  maxlength: 64,
};
const NAME: FieldSpec = { name: 'name', label: 'Name', hint: 'As its people know it.', maxlength: 200 };
const EMAIL: FieldSpec = {
  name: 'email',
  label: 'E-mail address',
  hint: 'They get a link to choose a password and set up an authenticator app.',
  type: 'email',
  inputmode: 'email',
  autocomplete: 'off',
};

interface WithManagers {
  organisation: Organisation;
  managers: AdminUser[];
}

const setupWords = (organisation: Organisation) => (organisation.enabled ? 'On' : 'Off');
function organisationItem({ organisation, managers }: WithManagers): SafeHtml {
  const active = managers.filter((manager) => !manager.disabledAt);
  return html`<li class="record">
<h3 class="record-title"><a href="${organisationPath(organisation.slug)}">${organisation.name}</a></h3>
<dl class="facts">
<div><dt>Slug</dt><dd>${organisation.slug}</dd></div>
<div><dt>Device setup</dt><dd>${setupWords(organisation)}</dd></div>
<div><dt>Managers</dt><dd>${active.length ? active.map((manager) => manager.email).join(', ') : 'None yet'}</dd></div>
</dl>
</li>`;
}

export function organisationsPage(input: {
  csrf: string;
  organisations: WithManagers[];
  state?: FormState;
  notice?: string;
}): Page {
  const state = input.state ?? blankForm;
  return formPage(
    state,
    'Organisations',
    html`${notice(input.notice)}
<h2>New organisation</h2>
${postForm(
  ORGANISATIONS_PATH,
  input.csrf,
  html`${field(state, SLUG)}
${field(state, NAME)}
${button('Create the organisation')}`,
)}
<h2>All organisations</h2>
${
  input.organisations.length
    ? html`<ul class="records">${input.organisations.map(organisationItem)}</ul>`
    : html`<p>There is no organisation yet.</p>`
}
<p><a href="/admin">Back to the admin home</a></p>`,
    { slug: SLUG, name: NAME },
  );
}

/** A button of one invitation among several: screen readers hear whose it is. */
const invitationAction = (action: string, csrf: string, text: string, email: string) =>
  postForm(
    action,
    csrf,
    html`<input type="hidden" name="invitation" value="${email}">
<button type="submit" class="button button-secondary">${text}<span class="visually-hidden"> the invitation of ${email}</span></button>`,
  );

const STATE_WORDS: Record<InvitationState, string> = {
  open: 'Open',
  accepted: 'Accepted',
  withdrawn: 'Withdrawn',
  expired: 'Expired',
};

function invitationItem(slug: string, csrf: string, invitation: Invitation): SafeHtml {
  const { email, state } = invitation;
  const open = state === 'open';
  return html`<li class="record${open ? '' : ' record-ended'}">
<h3 class="record-title address">${email}</h3>
<dl class="facts">
<div><dt>State</dt><dd>${STATE_WORDS[state]}</dd></div>
<div><dt>Invited by</dt><dd>${invitation.invitedBy}</dd></div>
<div><dt>Sent</dt><dd>${invitation.sent === 1 ? 'Once' : `${invitation.sent} times`}</dd></div>
${(open || state === 'expired') && html`<div><dt>${open ? 'Expires' : 'Expired'}</dt><dd>${moment(invitation.expiresAt)}</dd></div>`}
</dl>
${
  open &&
  html`<div class="record-actions">
${invitationAction(`${invitationsPath(slug)}/resend`, csrf, 'Send again', email)}
${invitationAction(`${invitationsPath(slug)}/withdraw`, csrf, 'Withdraw', email)}
</div>`
}
</li>`;
}

function managerItem(slug: string, manager: AdminUser, canRevoke: boolean): SafeHtml {
  const revoked = manager.disabledAt;
  return html`<li class="record${revoked ? ' record-ended' : ''}">
<h3 class="record-title address">${manager.email}</h3>
<dl class="facts">
<div><dt>Manager since</dt><dd>${moment(manager.createdAt.toISOString())}</dd></div>
<div><dt>Revoked</dt><dd>${revoked ? moment(revoked.toISOString()) : 'No'}</dd></div>
</dl>
${
  canRevoke &&
  !revoked &&
  html`<p class="record-actions"><a class="button button-secondary" href="${revokePath(slug, manager.id)}">Revoke<span class="visually-hidden"> ${manager.email}</span></a></p>`
}
</li>`;
}

export function organisationPage(input: {
  csrf: string;
  organisation: Organisation;
  managers: AdminUser[];
  /** A supervisor's page: the invitations, and what changes managers. A manager's has neither. */
  invitations?: Invitation[];
  state?: FormState;
  notice?: string;
}): Page {
  const { organisation, invitations, csrf } = input;
  const { slug } = organisation;
  const state = input.state ?? blankForm;
  const supervisor = invitations !== undefined;
  return formPage(
    state,
    organisation.name,
    html`${notice(input.notice)}
<dl class="facts">
<div><dt>Slug</dt><dd>${slug}</dd></div>
<div><dt>Device setup</dt><dd>${setupWords(organisation)}</dd></div>
</dl>
<nav aria-labelledby="organisation-sections"><h2 id="organisation-sections">Pages of ${organisation.name}</h2>
${sectionList(organisationSections(slug))}
</nav>
<h2>Managers</h2>
${
  input.managers.length
    ? html`<ul class="records">${input.managers.map((manager) => managerItem(slug, manager, supervisor))}</ul>`
    : html`<p>No one manages this organisation yet.</p>`
}
${
  invitations &&
  html`<h2>Invite a manager</h2>
${postForm(
  invitationsPath(slug),
  csrf,
  html`${field(state, EMAIL)}
${button('Send the invitation')}`,
)}
<h2>Invitations</h2>
${
  invitations.length
    ? html`<ul class="records">${invitations.map((invitation) => invitationItem(slug, csrf, invitation))}</ul>`
    : html`<p>There are no invitations.</p>`
}`
}
<p>${supervisor ? html`<a href="${ORGANISATIONS_PATH}">Back to the organisations</a>` : html`<a href="/admin">Back to the admin home</a>`}</p>`,
    { email: EMAIL },
  );
}

export function revokeManagerPage(input: { csrf: string; organisation: Organisation; manager: AdminUser }): Page {
  const { organisation, manager } = input;
  return {
    title: 'Revoke this manager?',
    body: html`<p><strong class="address">${manager.email}</strong> stops managing ${organisation.name} at once: they are signed out and cannot sign in again. To let them back, invite them again.</p>
${postForm(revokePath(organisation.slug, manager.id), input.csrf, button('Revoke the manager'))}
<p><a href="${organisationPath(organisation.slug)}">Keep them, and go back to ${organisation.name}</a></p>`,
  };
}
