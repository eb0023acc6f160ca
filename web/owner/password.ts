import type { RequestHandler } from 'express';
import { ownersOrganisation } from '../../db/policy';
import { clientAddress } from '../../services/attempts';
import { passwordResetConfirmForm, passwordResetForm } from '../../services/schemas';
import { cookieName } from '../cookies';
import { csrfToken } from '../csrf';
import { organisationIn, pageLimit } from '../page-kit';
import { CODE_FIELDS } from '../problems';
import { blankForm } from '../views/form';
import { baseOf, noticeIn, type OwnerKit, signInOf } from './shared';
import { forgotPasswordPage, resetPasswordPage } from './sign-in.view';

const RESET_COOKIE_MS = 30 * 60_000;

/** A forgotten password: a code by e-mail, then the code and a new password. */
export function passwordPages({ accounts, deps, cookie, show, forgetSession, signedOutForm }: OwnerKit) {
  // The address a code was asked for, to fill in on the page the code is entered on.
  const resetPrefix = cookieName('reset-email-', cookie);
  const limit = pageLimit(deps.config.registrationsPerMinute, 'password resets');

  return {
    showForgot: async (req, res) => {
      const organisation = await ownersOrganisation(deps.models, organisationIn(req));
      show(res, forgotPasswordPage({ organisation, csrf: csrfToken(res) }));
    },

    forgot: signedOutForm(forgotPasswordPage, passwordResetForm, async ({ email }, slug, req, res) => {
      await limit(req, res);
      await accounts.requestPasswordReset({ organisation: slug, email });
      res.cookie(`${resetPrefix}${slug}`, email, { ...cookie, maxAge: RESET_COOKIE_MS });
      return `${baseOf(slug)}/reset-password?notice=sent`;
    }),

    showReset: async (req, res) => {
      const slug = organisationIn(req);
      const organisation = await ownersOrganisation(deps.models, slug);
      const email = (req.cookies as Record<string, unknown>)[`${resetPrefix}${slug}`];
      const state = typeof email === 'string' ? { values: { email }, errors: {} } : blankForm;
      show(res, resetPasswordPage({ organisation, csrf: csrfToken(res), state, notice: noticeIn(req) }));
    },

    reset: signedOutForm(
      resetPasswordPage,
      passwordResetConfirmForm,
      async (reset, slug, req, res) => {
        await limit(req, res);
        await accounts.confirmPasswordReset({ organisation: slug, ...reset }, clientAddress(req));
        forgetSession(res, slug);
        res.clearCookie(`${resetPrefix}${slug}`, cookie);
        return signInOf(slug, 'password-changed');
      },
      CODE_FIELDS,
    ),
  } satisfies Record<string, RequestHandler>;
}
