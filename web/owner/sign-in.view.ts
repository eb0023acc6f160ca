import { html } from '../html';
import { notice, type Page } from '../views/document';
import { blankForm, button, type FieldSpec, type FormState, field, formPage, postForm } from '../views/form';

/** A returning device owner's sign-in and forgotten password. */

const EMAIL: FieldSpec = {
  name: 'email',
  label: 'E-mail address',
  type: 'email',
  hint: 'The address you registered with.',
  autocomplete: 'username',
  inputmode: 'email',
};
const PASSWORD: FieldSpec = {
  name: 'password',
  label: 'Password',
  type: 'password',
  autocomplete: 'current-password',
};
const CODE: FieldSpec = {
  name: 'code',
  label: 'Reset code',
  hint: 'The 6 digits from the e-mail',
  autocomplete: 'one-time-code',
  inputmode: 'numeric',
  maxlength: 6,
};
const NEW_PASSWORD: FieldSpec = {
  name: 'password',
  label: 'New password',
  type: 'password',
  hint: 'At least 12 characters and hard to guess: a few unrelated words work well.',
  autocomplete: 'new-password',
};

interface OwnerForm {
  organisation: { slug: string; name: string };
  csrf: string;
  state?: FormState;
  notice?: string;
}

export function signInPage(input: OwnerForm): Page {
  const state = input.state ?? blankForm;
  const base = `/setup/${input.organisation.slug}`;
  return formPage(
    state,
    'Sign in',
    html`${notice(input.notice)}
<p>Sign in to ${input.organisation.name} to see your devices and set up another one.</p>
${postForm(
  `${base}/sign-in`,
  input.csrf,
  html`${field(state, EMAIL)}
${field(state, PASSWORD)}
${button('Sign in')}`,
)}
<p><a href="${base}/forgot-password">Forgotten your password?</a></p>
<p>Not registered yet? <a href="${base}">Register</a>.</p>`,
    { email: EMAIL, password: PASSWORD },
  );
}

export function forgotPasswordPage(input: OwnerForm): Page {
  const state = input.state ?? blankForm;
  const base = `/setup/${input.organisation.slug}`;
  const email = { ...EMAIL, hint: 'We send a code to this address if it has an account.' };
  return formPage(
    state,
    'Forgotten your password?',
    html`<p>We e-mail you a code to choose a new password with.</p>
${postForm(
  `${base}/forgot-password`,
  input.csrf,
  html`${field(state, email)}
${button('Send a code')}`,
)}
<p><a href="${base}/reset-password">I already have a code</a></p>
<p><a href="${base}/sign-in">Back to sign-in</a></p>`,
    { email },
  );
}

export function resetPasswordPage(input: OwnerForm): Page {
  const state = input.state ?? blankForm;
  const base = `/setup/${input.organisation.slug}`;
  return formPage(
    state,
    'Choose a new password',
    html`${notice(input.notice)}
<p>Enter the code from our e-mail and the password you want from now on. You are signed out everywhere once it is changed.</p>
${postForm(
  `${base}/reset-password`,
  input.csrf,
  html`${field(state, EMAIL)}
${field(state, CODE)}
${field(state, NEW_PASSWORD)}
${button('Change password')}`,
)}
<p>No code, or it has expired? <a href="${base}/forgot-password">Ask for a new one</a>.</p>`,
    { email: EMAIL, code: CODE, password: NEW_PASSWORD },
  );
}
