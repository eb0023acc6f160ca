import type { NextFunction, Request, Response } from 'express';
import { UniqueConstraintError } from 'sequelize';
import type { Models, Organisation } from '../db/models';
import type { ApiTokens } from '../services/admin/api-tokens';
import { HttpError } from '../services/errors';

/** The bearer token of a request; absent or malformed is `401 unauthorized`. */
export function bearerToken(req: Request): string {
  const match = /^Bearer ([A-Za-z0-9_-]{16,512})$/.exec(req.get('authorization') ?? '');
  if (!match) throw new HttpError('unauthorized', 'Send your token as "Authorization: Bearer <token>".');
  return match[1] as string;
}

/** Who calls the settings API: a supervisor, or the manager of one organisation. */
export type Principal =
  | { role: 'supervisor'; tokenId: number }
  | { role: 'manager'; tokenId: number; organisationId: number };

/** Over the API tokens' service (services/admin/api-tokens.ts): what a token is looked up as, and issuing one. */
export function createAuth(models: Models, tokens: ApiTokens) {
  /** The principal behind a token, or undefined for an unknown or revoked one. */
  const principalOf = async (token: string): Promise<Principal | undefined> => {
    const row = await models.ApiToken.findOne({ where: { tokenHash: tokens.hashOf(token), revokedAt: null } });
    if (!row) return undefined;
    return row.role === 'supervisor'
      ? { role: 'supervisor', tokenId: row.id }
      : { role: 'manager', tokenId: row.id, organisationId: row.organisationId as number };
  };

  /** Middleware: every settings request carries a live token (401 otherwise); sets `res.locals.principal`. */
  const authenticate = async (req: Request, res: Response, next: NextFunction) => {
    const principal = await principalOf(bearerToken(req));
    if (!principal) throw new HttpError('unauthorized', 'This token is not valid or has been revoked.');
    res.locals.principal = principal;
    next();
  };

  const principal = (res: Response) => res.locals.principal as Principal;

  return {
    principalOf,
    authenticate,
    principal,

    requireSupervisor(res: Response): void {
      if (principal(res).role !== 'supervisor') throw new HttpError('forbidden', 'Only a supervisor may do this.');
    },

    /** The organisation of the URL, if the caller may manage it: a manager of another one gets 403, not a hint. */
    async organisationFor(res: Response, slug: string): Promise<Organisation> {
      const who = principal(res);
      const organisation = await models.Organisation.findOne({ where: { slug } });
      if (who.role === 'manager' && organisation?.id !== who.organisationId) {
        throw new HttpError('forbidden', 'You manage another organisation.');
      }
      if (!organisation) throw new HttpError('organisation_not_found', 'There is no organisation with that name.');
      return organisation;
    },

    /**
     * The first supervisor token: SUPERVISOR_TOKEN (kept as its hash), or, when unset and no supervisor exists yet,
     * a generated one that the caller prints once.
     */
    async bootstrapSupervisor(fromEnvironment: string | undefined): Promise<string | undefined> {
      if (fromEnvironment) {
        const hash = tokens.hashOf(fromEnvironment);
        if (!(await models.ApiToken.findOne({ where: { tokenHash: hash } }))) {
          // API processes starting together race to make it: the one that loses finds it made.
          await models.ApiToken.create({
            role: 'supervisor',
            organisationId: null,
            label: 'SUPERVISOR_TOKEN',
            tokenHash: hash,
          }).catch((error: unknown) => {
            if (!(error instanceof UniqueConstraintError)) throw error;
          });
        }
        return undefined;
      }
      if (await models.ApiToken.findOne({ where: { role: 'supervisor', revokedAt: null } })) return undefined;
      return (await tokens.issue({ role: 'supervisor', organisationId: null, label: 'generated on first start' }))
        .token;
    },
  };
}

export type Auth = ReturnType<typeof createAuth>;
