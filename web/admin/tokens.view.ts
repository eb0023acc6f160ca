import type { Settings } from '../../services/admin/settings';
import { html } from '../html';
import { moment, notice, type Page } from '../views/document';
import { blankForm, button, type FieldSpec, type FormState, field, formPage, postForm, select } from '../views/form';
import { organisationChoices, organisationName } from './layout.view';

/** API tokens: the automation tokens of the settings API, made and revoked by a supervisor. */

export const TOKENS_PATH = '/admin/tokens';
export const revokePath = (id: number) => `${TOKENS_PATH}/${id}/revoke`;

type ApiToken = Awaited<ReturnType<Settings['apiTokens']>>[number];
type Organisations = Awaited<ReturnType<Settings['organisations']>>;

const ORGANISATION: FieldSpec = { name: 'organisation', label: 'Organisation' };
const LABEL: FieldSpec = {
  name: 'label',
  label: 'Label',
  hint: 'What uses the token, to tell it from the others: “nightly sync”, say.',
  maxlength: 200,
  optional: true,
};

const organisationOf = ({ organisation, role }: ApiToken) =>
  organisation ? organisationName(organisation) : role === 'supervisor' ? 'Every organisation' : '–';

function tokenItem(token: ApiToken) {
  return html`<li class="token${token.revokedAt ? ' token-revoked' : ''}">
<h3 class="token-label">${token.label}</h3>
<dl class="facts">
<div><dt>Role</dt><dd>${token.role === 'supervisor' ? 'Supervisor' : 'Manager'}</dd></div>
<div><dt>Organisation</dt><dd>${organisationOf(token)}</dd></div>
<div><dt>Created</dt><dd>${moment(token.createdAt.toISOString())}</dd></div>
<div><dt>Revoked</dt><dd>${token.revokedAt ? moment(token.revokedAt.toISOString()) : 'No, it works'}</dd></div>
</dl>
${!token.revokedAt && html`<p class="token-actions"><a class="button button-secondary" href="${revokePath(token.id)}">Revoke<span class="visually-hidden"> “${token.label}”</span></a></p>`}
</li>`;
}

export function tokensPage(input: {
  csrf: string;
  tokens: ApiToken[];
  organisations: Organisations;
  state?: FormState;
  notice?: string;
}): Page {
  const state = input.state ?? blankForm;
  const organisations = organisationChoices(input.organisations, 'Choose an organisation');
  return formPage(
    state,
    'API tokens',
    html`${notice(input.notice)}
<p>Scripts and other systems use the settings API with a token: a supervisor’s for everything, an organisation manager’s for their organisation. People sign in to this console instead.</p>
<h2>New manager token</h2>
${
  input.organisations.length
    ? postForm(
        TOKENS_PATH,
        input.csrf,
        html`${select(state, ORGANISATION, organisations)}
${field(state, LABEL)}
${button('Make the token')}`,
      )
    : html`<p>There is no organisation yet. <a href="/admin/organisations">Add one first</a>.</p>`
}
<h2>Tokens</h2>
${
  input.tokens.length ? html`<ul class="tokens">${input.tokens.map(tokenItem)}</ul>` : html`<p>There are no tokens.</p>`
}
<p><a href="/admin">Back to the admin home</a></p>`,
    { organisation: ORGANISATION, label: LABEL },
  );
}

/** The new token, shown this once: it is kept only as a keyed hash. */
export function newTokenPage(input: { token: string; organisation: string; apiUrl: string }): Page {
  return {
    title: 'Your new API token',
    body: html`<p>A manager token of <strong>${input.organisation}</strong>. Copy it now: it is shown only this once.</p>
<p class="secret-value"><code id="api-token">${input.token}</code></p>
<p>Send it with each request to the settings API, for example:</p>
<pre class="example"><code>curl -H "Authorization: Bearer ${input.token}" ${input.apiUrl}</code></pre>
<p><a href="${TOKENS_PATH}">Back to the API tokens</a></p>`,
  };
}

export function revokePage(input: { csrf: string; token: ApiToken }): Page {
  const { token } = input;
  return {
    title: 'Revoke this token?',
    body: html`<p>The token “${token.label}” (${organisationOf(token)}) stops working at once: whatever uses it gets “401 Unauthorized”. This cannot be undone; a new token can be made instead.</p>
${postForm(revokePath(token.id), input.csrf, button('Revoke the token'))}
<p><a href="${TOKENS_PATH}">Keep it, and go back to the API tokens</a></p>`,
  };
}
