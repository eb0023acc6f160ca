import type { Request, RequestHandler, Response } from 'express';
import { clientAddress } from '../../services/attempts';
import { describeError } from '../../services/errors';
import { emptyBody, linkForm, verifyBody } from '../../services/schemas';
import { csrfToken } from '../csrf';
import { CODE_FIELDS, formRefusal, refusalMessage } from '../problems';
import { refusedWith } from '../views/form';
import { problemPage } from '../views/problem';
import { pathOf, type SetupKit, type StepView, startOf } from './shared';
import { codePage, linkPage, RESEND } from './verify.view';

const INVALID_LINK = problemPage({
  title: 'This link is not valid',
  message: 'Open the link exactly as it is in the e-mail, or enter the code from the e-mail on the registration page.',
});

const STALE_LINK = 'This link is no longer valid. Enter the code from our newest e-mail, or ask for a new one.';

/** Refusals of a link's proof that say the link itself is not (or no longer) good: a page of their own. */
const linkProblem = (code: string | undefined, message: string) => {
  if (code === 'not_found' || code === 'unauthorized') return { page: INVALID_LINK, status: 404 };
  if (code !== 'link_expired') return undefined;
  return { page: problemPage({ title: 'This link no longer works', message }), status: 410 };
};

/** The page of the e-mail's code. */
export const codeView = ({ organisation, status, csrf, state, codeSent }: StepView) =>
  codePage({
    organisation,
    email: status.email,
    csrf,
    state,
    notice: codeSent ? `We sent a new code to ${status.email}.` : undefined,
  });

/** Proving the e-mail address: the code typed in, a new code, or the one-click link from the e-mail. */
export function verifyPages({ registrations, sessions, show, showStep, formAction }: SetupKit) {
  /** This browser's session on the link's registration; another browser than the one that registered joins it. */
  const sessionFor = async (req: Request, res: Response, registration: string) => {
    const session = sessions.withId(req, registration);
    if (session) return session;
    const resumed = await registrations.resume(registration, clientAddress(req)).catch((error: unknown) => {
      if (describeError(error)?.code === 'not_found') return undefined;
      throw error;
    });
    if (!resumed) return undefined;
    const joined = { organisation: resumed.organisation, registrationId: resumed.registrationId, token: resumed.token };
    sessions.keep(res, joined);
    return joined;
  };

  return {
    // Opening the link changes nothing: mail scanners open links too, and would use up the code. The owner confirms
    // with a button, in whichever browser the mail app opened.
    showLink: (req, res) => {
      const link = linkForm.safeParse(req.query);
      if (!link.success) return show(res, INVALID_LINK, 400);
      show(res, linkPage({ ...link.data, csrf: csrfToken(res) }));
    },

    confirmLink: async (req, res) => {
      const link = linkForm.safeParse(req.body ?? {});
      if (!link.success) return show(res, INVALID_LINK, 400);
      if ('proof' in link.data) {
        const { registration, proof } = link.data;
        const confirmed = await registrations
          .verifyByLink(registration, proof, sessions.withId(req, registration)?.token)
          .catch((error: unknown) => {
            const answer = describeError(error);
            const problem = answer && linkProblem(answer.code, answer.message);
            if (!problem) throw error;
            return problem;
          });
        if ('page' in confirmed) return show(res, confirmed.page, confirmed.status);
        const { organisation, registrationId, token, codeSent } = confirmed;
        sessions.keep(res, { organisation, registrationId, token });
        return res.redirect(303, codeSent ? `${pathOf(organisation, 'verify-email')}?sent=1` : startOf(organisation));
      }
      const session = await sessionFor(req, res, link.data.registration);
      if (!session) return show(res, INVALID_LINK, 404);
      try {
        await registrations.verify(session.registrationId, session.token, link.data.code, clientAddress(req));
        res.redirect(303, startOf(session.organisation));
      } catch (error) {
        const answer = formRefusal(error);
        const message = Object.hasOwn(CODE_FIELDS, answer.code) ? STALE_LINK : refusalMessage(answer);
        await showStep(req, res, session.organisation, 'verify', refusedWith({}, 'code', message), answer.status);
      }
    },

    enterCode: formAction('verify', verifyBody, CODE_FIELDS, async (s, { code }, req) =>
      pathOf(s.organisation, (await registrations.verify(s.registrationId, s.token, code, clientAddress(req))).step),
    ),

    resend: formAction('verify', emptyBody, { too_many_attempts: RESEND }, async (s) => {
      await registrations.resend(s.registrationId, s.token);
      return `${pathOf(s.organisation, 'verify-email')}?sent=1`;
    }),
  } satisfies Record<string, RequestHandler>;
}
