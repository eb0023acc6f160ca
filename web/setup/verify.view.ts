import { html } from '../html';
import { notice, type Page } from '../views/document';
import {
  blankForm,
  button,
  errorId,
  errorMessage,
  type FieldSpec,
  type FormState,
  field,
  fieldId,
  formPage,
  postForm,
} from '../views/form';

/** The field name under which a refused "send a new code" is shown, next to its button. */
export const RESEND = 'resend';

const CODE: FieldSpec = {
  name: 'code',
  label: 'Verification code',
  hint: 'The 6 digits from the e-mail',
  autocomplete: 'one-time-code',
  inputmode: 'numeric',
  maxlength: 6,
};

export function codePage(input: {
  organisation: string;
  email: string;
  csrf: string;
  state?: FormState;
  notice?: string;
}): Page {
  const state = input.state ?? blankForm;
  const base = `/setup/${input.organisation}`;
  return formPage(
    state,
    'Check your e-mail',
    html`${notice(input.notice)}
<p>We sent a 6-digit code to <strong class="address">${input.email}</strong>. Enter it here, or open the link in the e-mail.</p>
${postForm(
  `${base}/verify`,
  input.csrf,
  html`${field(state, CODE)}
${button('Confirm')}`,
)}
<h2>No code, or it has expired?</h2>
<p>Look in your spam folder. Codes expire after a while, and you can ask for a new one.</p>
${postForm(
  `${base}/resend`,
  input.csrf,
  html`${errorMessage(RESEND, state)}
${button('Send a new code', {
  variant: 'secondary',
  id: fieldId(RESEND),
  describedBy: state.errors[RESEND] && errorId(RESEND),
})}`,
)}
${postForm(`${base}/restart`, input.csrf, button('Use a different e-mail address', { variant: 'link' }))}`,
    { code: CODE },
  );
}

/**
 * The one-click link from the e-mail. Opening it changes nothing (mail scanners open links too): the owner confirms
 * with a button, which posts the link's proof (or, in mail sent before links had one, its code).
 */
export function linkPage(input: { registration: string; csrf: string } & ({ proof: string } | { code: string })): Page {
  const [name, value] = 'proof' in input ? ['proof', input.proof] : ['code', input.code];
  return {
    title: 'Confirm your e-mail address',
    body: html`<p>You opened the link from our e-mail. Confirm your address to continue with your registration.</p>
${postForm(
  '/setup/verify',
  input.csrf,
  html`<input type="hidden" name="registration" value="${input.registration}">
<input type="hidden" name="${name}" value="${value}">
${button('Confirm my address')}`,
)}`,
  };
}
