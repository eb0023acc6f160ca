import { html, type SafeHtml } from '../html';
import { notice, type Page } from '../views/document';
import { blankForm, button, type FieldSpec, type FormState, field, formPage, postForm } from '../views/form';

/** The admin console's way in: the first supervisor's set-up, and sign-in with a password and a code. */

const EMAIL: FieldSpec = {
  name: 'email',
  label: 'E-mail address',
  type: 'email',
  autocomplete: 'username',
  inputmode: 'email',
};
const PASSWORD: FieldSpec = { name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password' };
export const NEW_PASSWORD: FieldSpec = {
  ...PASSWORD,
  hint: 'At least 12 characters and hard to guess: a few unrelated words work well.',
  autocomplete: 'new-password',
};
const CODE: FieldSpec = {
  name: 'code',
  label: 'Code',
  hint: 'The 6 digits your authenticator app shows now.',
  autocomplete: 'one-time-code',
  inputmode: 'numeric',
  maxlength: 7,
};

interface AdminForm {
  csrf: string;
  state?: FormState;
  notice?: string;
}

export const setupPath = (token: string) => `/admin/setup/${token}`;

export function setupPage(input: AdminForm & { token: string }): Page {
  const state = input.state ?? blankForm;
  return formPage(
    state,
    'Set up the first supervisor',
    html`<p>This link works once. Choose the e-mail address and the password you will sign in with. Next, you add a second factor to an authenticator app on your phone.</p>
${postForm(
  setupPath(input.token),
  input.csrf,
  html`${field(state, EMAIL)}
${field(state, NEW_PASSWORD)}
${button('Continue')}`,
)}`,
    { email: EMAIL, password: NEW_PASSWORD },
  );
}

/** The secret in groups of four, as apps that take it typed in show it. */
const grouped = (secret: string) => secret.replace(/(.{4})(?=.)/g, '$1 ');

/**
 * The second step of a new admin's link (`base`): the secret to add to an authenticator app, as a QR code and as text,
 * and the code that confirms it (posted to `<base>/code`); `again` leads back to the first step.
 */
export function authenticatorPage(
  input: AdminForm & { base: string; email: string; secret: string; qr: SafeHtml; finish: string; again: string },
): Page {
  const state = input.state ?? blankForm;
  const { base } = input;
  return formPage(
    state,
    'Add your authenticator app',
    html`<p>You sign in as <strong class="address">${input.email}</strong> with your password and a code from an authenticator app (such as Google Authenticator, Microsoft Authenticator or 1Password).</p>
<ol class="steps">
<li>In the app, add an account and scan this QR code.</li>
<li>Enter the code the app shows for it.</li>
</ol>
<figure class="qr">
<div class="qr-code" role="img" aria-label="QR code to add this account to an authenticator app">${input.qr}</div>
<figcaption>Cannot scan it? Type this key into the app instead (time-based): <code id="totp-secret">${grouped(input.secret)}</code></figcaption>
</figure>
${postForm(
  `${base}/code`,
  input.csrf,
  html`${field(state, CODE)}
${button(input.finish)}`,
)}
<p><a href="${base}">${input.again}</a></p>`,
    { code: CODE },
  );
}

export const setupCodePage = (input: AdminForm & { token: string; email: string; secret: string; qr: SafeHtml }) =>
  authenticatorPage({
    ...input,
    base: setupPath(input.token),
    finish: 'Finish set-up',
    again: 'Choose another address or password',
  });

export function signInPage(input: AdminForm): Page {
  const state = input.state ?? blankForm;
  return formPage(
    state,
    'Sign in to the admin console',
    html`${notice(input.notice)}
<p>For supervisors and organisation managers. You need your password and your authenticator app.</p>
${postForm(
  '/admin/sign-in',
  input.csrf,
  html`${field(state, EMAIL)}
${field(state, PASSWORD)}
${button('Continue')}`,
)}`,
    { email: EMAIL, password: PASSWORD },
  );
}

export function signInCodePage(input: AdminForm): Page {
  const state = input.state ?? blankForm;
  return formPage(
    state,
    'Enter your code',
    html`<p>Open your authenticator app and enter the code it shows for this site.</p>
${postForm(
  '/admin/sign-in/code',
  input.csrf,
  html`${field(state, CODE)}
${button('Sign in')}`,
)}
<p><a href="/admin/sign-in">Start again</a></p>`,
    { code: CODE },
  );
}
