import { type Request, type RequestHandler, type Response, Router } from 'express';
import { z } from 'zod';
import type { InvitationAcceptance, Invitations } from '../../services/admin/invitations';
import { adminSetupForm, totpCodeForm } from '../../services/admin/schemas';
import { HttpError } from '../../services/errors';
import { opaqueParam } from '../../services/schemas';
import { csrfToken } from '../csrf';
import { answerForm } from '../page-kit';
import { CODE_FIELDS } from '../problems';
import { qrCode } from '../qr';
import type { FormState } from '../views/form';
import { acceptCodePage, acceptPage, goneInvitationPage, invitationPath } from './invitations.view';
import type { AdminKit } from './shared';

/** The link's id and token; malformed, they are as unknown as a link never made. */
function linkIn(req: Request) {
  const id = opaqueParam.safeParse(req.params.id);
  const token = opaqueParam.safeParse(req.params.token);
  if (!id.success || !token.success) {
    throw new HttpError('not_found', 'There is no such invitation. Check that the address is complete.');
  }
  return { id: id.data, token: token.data, base: invitationPath(id.data, token.data) };
}

type Link = ReturnType<typeof linkIn> & { organisation: string; email: string };

/** The password the first supervisor's rules take, judged against the invitation's address. */
const passwordFor = (email: string) => z.preprocess((body) => ({ ...(body as object), email }), adminSetupForm);

/**
 * The invited manager's link (signed out): a password, then the authenticator app and a code, which accepts the
 * invitation and signs the new manager in. Each request looks at the invitation first: a link that can no longer
 * accept (withdrawn, expired, accepted, or sent again since) says so as its page, whichever page it opens.
 */
export function invitationPages(
  invitations: Invitations,
  acceptance: InvitationAcceptance,
  { admins, cookie, names, cookieIn, sessionIn, show, keepSession }: AdminKit,
): Router {
  const showChoose = (res: Response, link: Link, state?: FormState, status?: number) =>
    show(res, acceptPage({ ...link, csrf: csrfToken(res), state }), status);

  /** The secret to add, as a QR code and as text, with the code field; without a live choice, back to the first page. */
  const showCode = async (req: Request, res: Response, link: Link, state?: FormState, status?: number) => {
    const app = acceptance.authenticator(link.id, link.token, cookieIn(req, names.setup));
    if (!app) return res.redirect(303, link.base);
    const qr = await qrCode(app.uri);
    show(
      res,
      acceptCodePage({ base: link.base, csrf: csrfToken(res), state, email: app.email, secret: app.secret, qr }),
      status,
    );
  };

  const withLink =
    (handle: (req: Request, res: Response, link: Link) => unknown): RequestHandler =>
    async (req, res) => {
      const link = linkIn(req);
      const invitation = await invitations.open(link.id, link.token);
      if (invitation.link !== 'open') return show(res, goneInvitationPage(invitation.link), 410);
      await handle(req, res, { ...link, organisation: invitation.name, email: invitation.email });
    };

  const router = Router();
  router.get(
    '/invitations/:id/:token',
    withLink((_req, res, link) => showChoose(res, link)),
  );

  // The choice lives in the browser, sealed, until the code confirms it: a browser-session cookie (its seal expires).
  router.post(
    '/invitations/:id/:token',
    withLink((req, res, link) =>
      answerForm(req, res, {
        schema: passwordFor(link.email),
        again: (state, status) => showChoose(res, link, state, status),
        run: async ({ password }) => {
          res.cookie(names.setup, await acceptance.choose(link.id, link.token, password), cookie);
          return `${link.base}/code`;
        },
      }),
    ),
  );

  router.get(
    '/invitations/:id/:token/code',
    withLink((req, res, link) => showCode(req, res, link)),
  );

  router.post(
    '/invitations/:id/:token/code',
    withLink((req, res, link) =>
      answerForm(req, res, {
        schema: totpCodeForm,
        fields: CODE_FIELDS,
        again: (state, status) => showCode(req, res, link, state, status),
        run: async ({ code }) => {
          const session = await acceptance.complete(link.id, link.token, cookieIn(req, names.setup), code);
          // A session this browser still had (another admin's, say) ends rather than lingering unseen.
          const previous = sessionIn(req);
          if (previous) await admins.signOut(previous);
          res.clearCookie(names.setup, cookie);
          keepSession(res, session);
          return '/admin?notice=set-up';
        },
      }),
    ),
  );
  return router;
}
