import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import type { Organisation } from '../../db/models';
import type { Settings } from '../../services/admin/settings';
import { idParam, managerBody } from '../../services/admin/settings-schemas';
import type { ServiceDeps } from '../../services/context';
import { describeError, HttpError } from '../../services/errors';
import { slug } from '../../services/schemas';
import { csrfToken } from '../csrf';
import { type FormState, refused, refusedWith } from '../views/form';
import { organisationName } from './layout.view';
import { type AdminKit, adminIn, noticeIn } from './shared';
import { newTokenPage, revokePage, TOKENS_PATH, tokensPage } from './tokens.view';

const NOTICES = { revoked: 'The token is revoked: whatever uses it gets “401 Unauthorized” from now on.' };

/** The form as the settings API's body for a new manager (services/admin/settings-schemas.ts); an empty label is none. */
const newTokenForm = z.strictObject({
  organisation: z.string().min(1, 'choose an organisation').pipe(slug),
  label: z
    .string()
    .transform((label) => label.trim() || undefined)
    .pipe(managerBody.shape.label),
});

/**
 * API tokens (supervisors only, by web/admin/index.ts): every token, a new manager token for an organisation, and
 * revoking one, through services/admin/settings.ts as the settings API does them.
 */
export function tokenPages(settings: Settings, deps: ServiceDeps, { admins, showSignedIn }: AdminKit): Router {
  const showList = async (req: Request, res: Response, state?: FormState, status?: number) => {
    const [tokens, organisations] = await Promise.all([settings.apiTokens(), settings.organisations()]);
    const notice = noticeIn(req, NOTICES);
    showSignedIn(res, tokensPage({ csrf: csrfToken(res), tokens, organisations, state, notice }), status);
  };

  /** The token of the address; one never made, or a malformed id, is not found. */
  const tokenIn = async (req: Request) => {
    const id = idParam.safeParse(req.params.id);
    const token = id.success ? (await settings.apiTokens()).find((each) => each.id === id.data) : undefined;
    if (!token) throw new HttpError('not_found', 'There is no such token.');
    return token;
  };

  const router = Router();
  router.get('/', (req, res) => showList(req, res));

  // The token is the answer to the POST itself, not to a page redirected to: shown once, it is stored nowhere.
  router.post('/', async (req, res) => {
    const input = newTokenForm.safeParse(req.body ?? {});
    if (!input.success) return showList(req, res, refused(req.body, input.error), 400);
    const { organisation: chosen, label } = input.data;
    let organisation: Organisation;
    try {
      organisation = await admins.organisationFor(adminIn(res), chosen);
    } catch (error) {
      // Gone since the list was shown: said beside the choice.
      const answer = describeError(error);
      if (answer?.code !== 'organisation_not_found') throw error;
      return showList(req, res, refusedWith(req.body, 'organisation', answer.message), answer.status);
    }
    const { token } = await settings.addManager(organisation, { label });
    const apiUrl = `${deps.config.publicUrl}/api/organisations/${organisation.slug}/device-setup`;
    showSignedIn(res, newTokenPage({ token, organisation: organisationName(organisation), apiUrl }), 201);
  });

  router.get('/:id/revoke', async (req, res) => {
    const token = await tokenIn(req);
    if (token.revokedAt) return res.redirect(303, TOKENS_PATH);
    showSignedIn(res, revokePage({ csrf: csrfToken(res), token }));
  });
  router.post('/:id/revoke', async (req, res) => {
    await settings.revokeToken(String(req.params.id));
    res.redirect(303, `${TOKENS_PATH}?notice=revoked`);
  });
  return router;
}
