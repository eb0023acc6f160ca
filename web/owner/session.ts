import type { RequestHandler } from 'express';
import { ownersOrganisation } from '../../db/policy';
import { clientAddress } from '../../services/attempts';
import { signInForm } from '../../services/schemas';
import { csrfToken } from '../csrf';
import { organisationIn } from '../page-kit';
import { devicesOf, noticeIn, type OwnerKit, signInOf } from './shared';
import { signInPage } from './sign-in.view';

/** Signing in with an organisation, and out again. */
export function sessionPages({
  accounts,
  deps,
  show,
  tokenIn,
  deviceTokenIn,
  keepSession,
  forgetSession,
  signedOutForm,
}: OwnerKit) {
  return {
    showSignIn: async (req, res) => {
      const slug = organisationIn(req);
      const organisation = await ownersOrganisation(deps.models, slug);
      const token = tokenIn(req, slug);
      if (token) {
        const owner = await accounts.ownerOf(token).catch(() => undefined);
        if (owner?.organisation.slug === slug) return res.redirect(303, devicesOf(slug));
      }
      show(res, signInPage({ organisation, csrf: csrfToken(res), notice: noticeIn(req) }));
    },

    signIn: signedOutForm(signInPage, signInForm, async (credentials, slug, req, res) => {
      const deviceToken = deviceTokenIn(req, slug);
      keepSession(
        res,
        slug,
        await accounts.signIn({ organisation: slug, ...credentials, deviceToken }, clientAddress(req)),
      );
      return devicesOf(slug);
    }),

    signOut: async (req, res) => {
      const slug = organisationIn(req);
      const token = tokenIn(req, slug);
      if (token) await accounts.signOut(token);
      forgetSession(res, slug);
      res.redirect(303, signInOf(slug, 'signed-out'));
    },
  } satisfies Record<string, RequestHandler>;
}
