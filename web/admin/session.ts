import type { Request, RequestHandler, Response } from 'express';
import { totpCodeForm } from '../../services/admin/schemas';
import { clientAddress } from '../../services/attempts';
import { signInForm } from '../../services/schemas';
import { csrfToken } from '../csrf';
import { answerForm } from '../page-kit';
import { CODE_FIELDS } from '../problems';
import type { FormState } from '../views/form';
import { adminHomePage } from './layout.view';
import { type AdminKit, adminIn, noticeIn, signInOf } from './shared';
import { signInCodePage, signInPage } from './sign-in.view';

/** Signing in with a password and then a code, signing out, and the home page a signed-in admin lands on. */
export function sessionPages({
  admins,
  cookie,
  names,
  cookieIn,
  sessionIn,
  deviceTokenIn,
  keepSession,
  forgetSession,
  show,
  showSignedIn,
}: AdminKit) {
  const firstFactorIn = (req: Request) => cookieIn(req, names.firstFactor);
  const showSignIn = (req: Request, res: Response, state?: FormState, status?: number) =>
    show(res, signInPage({ csrf: csrfToken(res), state, notice: noticeIn(req) }), status);
  const showCode = (res: Response, state?: FormState, status?: number) =>
    show(res, signInCodePage({ csrf: csrfToken(res), state }), status);

  /** The code's page only while a right password waits for it (it expires): otherwise back to the start. */
  const withFirstFactor =
    (handle: RequestHandler): RequestHandler =>
    async (req, res, next) => {
      if (!(await admins.passwordChecked(firstFactorIn(req)))) return res.redirect(303, signInOf('timed-out'));
      await handle(req, res, next);
    };

  return {
    showSignIn: (req, res) => {
      if (res.locals.admin) return res.redirect(303, '/admin');
      showSignIn(req, res);
    },

    // The proven password lives in the browser, sealed, until the code: a browser-session cookie (its seal expires).
    signIn: (req, res) =>
      answerForm(req, res, {
        schema: signInForm,
        again: (state, status) => showSignIn(req, res, state, status),
        run: async (credentials) => {
          const firstFactor = await admins.checkPassword(credentials, clientAddress(req), deviceTokenIn(req));
          res.cookie(names.firstFactor, firstFactor, cookie);
          return '/admin/sign-in/code';
        },
      }),

    showCode: withFirstFactor((_req, res) => showCode(res)),

    code: withFirstFactor((req, res) =>
      answerForm(req, res, {
        schema: totpCodeForm,
        fields: CODE_FIELDS,
        again: (state, status) => showCode(res, state, status),
        run: async ({ code }) => {
          const session = await admins.checkCode(firstFactorIn(req), code, clientAddress(req), deviceTokenIn(req));
          // A session this browser still had (another admin's, say) ends rather than lingering unseen.
          const previous = sessionIn(req);
          if (previous) await admins.signOut(previous);
          res.clearCookie(names.firstFactor, cookie);
          keepSession(res, session);
          return '/admin';
        },
      }),
    ),

    signOut: async (req, res) => {
      const token = sessionIn(req);
      if (token) await admins.signOut(token);
      forgetSession(res);
      res.redirect(303, signInOf('signed-out'));
    },

    home: (req, res) => showSignedIn(res, adminHomePage({ admin: adminIn(res), notice: noticeIn(req) })),
  } satisfies Record<string, RequestHandler>;
}
