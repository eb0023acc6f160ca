import type { LinkState } from '../../services/admin/invitations';
import { html, type SafeHtml } from '../html';
import type { Page } from '../views/document';
import { blankForm, button, type FormState, field, formPage, postForm } from '../views/form';
import { problemPage } from '../views/problem';
import { authenticatorPage, NEW_PASSWORD } from './sign-in.view';

/**
 * The invited manager's link: a password, then an authenticator app and a code, as the first supervisor's
 * set-up; or, for a link that can no longer accept, what became of the invitation.
 */

export const invitationPath = (id: string, token: string) => `/admin/invitations/${id}/${token}`;

interface LinkForm {
  csrf: string;
  /** The link's own address: its pages post back to it. */
  base: string;
  state?: FormState;
}

export function acceptPage(input: LinkForm & { organisation: string; email: string }): Page {
  const state = input.state ?? blankForm;
  return formPage(
    state,
    'Accept your invitation',
    html`<p>You are invited to manage the device setup of <strong>${input.organisation}</strong>. You will sign in as <strong class="address">${input.email}</strong>.</p>
<p>Choose your password. Next, you add a second factor to an authenticator app on your phone.</p>
${postForm(
  input.base,
  input.csrf,
  html`${field(state, NEW_PASSWORD)}
${button('Continue')}`,
)}`,
    { password: NEW_PASSWORD },
  );
}

export const acceptCodePage = (input: LinkForm & { email: string; secret: string; qr: SafeHtml }) =>
  authenticatorPage({ ...input, finish: 'Accept and sign in', again: 'Choose another password' });

/** What a link that cannot accept says, by what became of its invitation. */
const GONE: Record<Exclude<LinkState, 'open'>, Parameters<typeof problemPage>[0]> = {
  accepted: {
    title: 'This invitation has been accepted',
    message: 'Its account is set up already.',
    next: { href: '/admin/sign-in', text: 'Sign in' },
  },
  withdrawn: {
    title: 'This invitation has been withdrawn',
    message: 'It can no longer be accepted. If you still need access, ask a supervisor to invite you again.',
  },
  expired: {
    title: 'This invitation has expired',
    message: 'It can no longer be accepted. Ask a supervisor to invite you again.',
  },
  replaced: {
    title: 'This invitation link has been replaced',
    message: 'The invitation was sent to you again, with a new link. Use the link in the newest e-mail.',
  },
};

export const goneInvitationPage = (link: Exclude<LinkState, 'open'>): Page => problemPage(GONE[link]);
