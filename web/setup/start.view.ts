import { html } from '../html';
import { notice, type Page } from '../views/document';
import { blankForm, button, type FieldSpec, type FormState, field, formPage, postForm } from '../views/form';

const ORGANISATION: FieldSpec = {
  name: 'organisation',
  label: 'Organisation',
  hint: 'Lower-case letters, digits and dashes, for example acme',
  autocomplete: 'organization',
};
const EMAIL: FieldSpec = {
  name: 'email',
  label: 'Your e-mail address',
  type: 'email',
  hint: 'We send a code to this address.',
  autocomplete: 'email',
  inputmode: 'email',
};

/** `/setup` when no default organisation is configured: it asks, it does not guess. */
export function organisationPage(state: FormState = blankForm): Page {
  return formPage(
    state,
    'Which organisation are you with?',
    html`<p>Enter your organisation’s short name, as your IT team gave it to you.</p>
<form method="get" action="/setup" novalidate>
${field(state, ORGANISATION)}
${button('Continue')}
<p class="sign-in-hint">Already registered? Enter your organisation, then
${button('Sign in', { variant: 'link', name: 'then', value: 'sign-in' })}</p>
</form>`,
    { organisation: ORGANISATION },
  );
}

export function emailPage(input: {
  organisation: { slug: string; name: string };
  csrf: string;
  state?: FormState;
  notice?: string;
}): Page {
  const state = input.state ?? blankForm;
  return formPage(
    state,
    `Register with ${input.organisation.name}`,
    html`${notice(input.notice)}
<p>Register yourself and set up your phone, tablet or computer in a few steps. First, we confirm your e-mail address.</p>
${postForm(
  `/setup/${input.organisation.slug}`,
  input.csrf,
  html`${field(state, EMAIL)}
${button('Continue')}`,
)}
<p class="sign-in-hint">Already registered? <a href="/setup/${input.organisation.slug}/sign-in">Sign in</a> to see your devices or add another.</p>`,
    { email: EMAIL },
  );
}
