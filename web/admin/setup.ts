import type { Request, RequestHandler, Response } from 'express';
import { adminSetupForm, totpCodeForm } from '../../services/admin/schemas';
import { HttpError } from '../../services/errors';
import { opaqueParam } from '../../services/schemas';
import { csrfToken } from '../csrf';
import { answerForm } from '../page-kit';
import { CODE_FIELDS } from '../problems';
import { qrCode } from '../qr';
import type { FormState } from '../views/form';
import type { AdminKit } from './shared';
import { setupCodePage, setupPage, setupPath } from './sign-in.view';

/** The link's token; a malformed one is as unknown as one never made. */
const tokenIn = (req: Request) => {
  const token = opaqueParam.safeParse(req.params.token);
  if (!token.success)
    throw new HttpError('link_not_found', 'There is no such set-up link. Check that the address is complete.');
  return token.data;
};

/**
 * The first supervisor's set-up link: an address and a password, then the authenticator app and a code. Every
 * request checks the link first, so a used or unknown one gets its problem page (410, 404) whichever page it opens.
 */
export function setupPages({ setup, cookie, names, cookieIn, show, keepSession }: AdminKit) {
  const showChoose = (res: Response, token: string, state?: FormState, status?: number) =>
    show(res, setupPage({ token, csrf: csrfToken(res), state }), status);

  /** The secret to add, as a QR code and as text, with the code field; without a live choice, back to the first page. */
  const showCode = async (req: Request, res: Response, token: string, state?: FormState, status?: number) => {
    const app = setup.authenticator(token, cookieIn(req, names.setup));
    if (!app) return res.redirect(303, setupPath(token));
    const qr = await qrCode(app.uri);
    show(res, setupCodePage({ token, csrf: csrfToken(res), state, email: app.email, secret: app.secret, qr }), status);
  };

  /** Runs a page of the link once the link has been found unused. */
  const withLink =
    (handle: (req: Request, res: Response, token: string) => unknown): RequestHandler =>
    async (req, res) => {
      const token = tokenIn(req);
      await setup.check(token);
      await handle(req, res, token);
    };

  return {
    show: withLink((_req, res, token) => showChoose(res, token)),

    // The choice lives in the browser, sealed, until the code confirms it: a browser-session cookie (its seal expires).
    choose: withLink((req, res, token) =>
      answerForm(req, res, {
        schema: adminSetupForm,
        again: (state, status) => showChoose(res, token, state, status),
        run: async (input) => {
          res.cookie(names.setup, await setup.choose(token, input), cookie);
          return `${setupPath(token)}/code`;
        },
      }),
    ),

    showCode: withLink((req, res, token) => showCode(req, res, token)),

    complete: withLink((req, res, token) =>
      answerForm(req, res, {
        schema: totpCodeForm,
        fields: CODE_FIELDS,
        again: (state, status) => showCode(req, res, token, state, status),
        run: async ({ code }) => {
          const session = await setup.complete(token, cookieIn(req, names.setup), code);
          res.clearCookie(names.setup, cookie);
          keepSession(res, session);
          return '/admin?notice=set-up';
        },
      }),
    ),
  } satisfies Record<string, RequestHandler>;
}
