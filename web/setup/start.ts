import type { RequestHandler } from 'express';
import { openOrganisation } from '../../db/policy';
import { clientAddress } from '../../services/attempts';
import { describeError } from '../../services/errors';
import { emailForm, organisationForm } from '../../services/schemas';
import { csrfToken } from '../csrf';
import { answerForm, organisationIn, pageLimit } from '../page-kit';
import { refused } from '../views/form';
import { pathOf, type SetupKit, startOf } from './shared';
import { emailPage, organisationPage } from './start.view';

/** Starting a registration: the organisation, then the e-mail address; or starting it again. */
export function startPages({ registrations, deps, sessions, show, current }: SetupKit) {
  const limit = pageLimit(deps.config.registrationsPerMinute);

  return {
    chooseOrganisation: async (req, res) => {
      if (req.query.organisation !== undefined) {
        // "Sign in" instead of "Continue": a returning owner.
        const { then, ...query } = req.query;
        const input = organisationForm.safeParse(query);
        if (!input.success) return show(res, organisationPage(refused(query, input.error)), 400);
        return res.redirect(303, `${startOf(input.data.organisation)}${then === 'sign-in' ? '/sign-in' : ''}`);
      }
      try {
        res.redirect(303, startOf((await openOrganisation(deps.models, undefined)).slug));
      } catch (error) {
        // No default organisation: ask for it rather than guess.
        if (describeError(error)?.code !== 'organisation_required') throw error;
        show(res, organisationPage());
      }
    },

    showEmail: async (req, res) => {
      const slug = organisationIn(req);
      // A registration under way continues (its link, say, still works); the workflow applies the settings to each step.
      const at = await current(req, res, slug);
      if (at === 'complete') return res.redirect(303, pathOf(slug, 'done'));
      if (at && at.status.step !== 'expired') return res.redirect(303, pathOf(slug, at.status.step));
      if (at) sessions.forget(res, slug);
      const organisation = await openOrganisation(deps.models, slug);
      const notice = at ? 'Your earlier registration has expired. Start again with your e-mail address.' : undefined;
      show(res, emailPage({ organisation, csrf: csrfToken(res), notice }));
    },

    register: async (req, res) => {
      const slug = organisationIn(req);
      const organisation = await openOrganisation(deps.models, slug);
      await answerForm(req, res, {
        schema: emailForm,
        again: (state, status) => show(res, emailPage({ organisation, csrf: csrfToken(res), state }), status),
        fields: { email_not_allowed: 'email' },
        run: async ({ email }) => {
          await limit(req, res);
          const started = await registrations.register({ organisation: slug, email }, clientAddress(req));
          sessions.keep(res, { organisation: slug, registrationId: started.registrationId, token: started.token });
          return pathOf(slug, started.step);
        },
      });
    },

    restart: (req, res) => {
      const organisation = organisationIn(req);
      sessions.forget(res, organisation);
      res.redirect(303, startOf(organisation));
    },
  } satisfies Record<string, RequestHandler>;
}
