import { randomToken } from '../../lib/secrets';
import type { ServiceDeps } from '../context';

/**
 * API tokens for automation (the settings API's bearer tokens): random, shown once when issued, kept only as their
 * keyed hash, so that the database alone lets nobody call the API. The API checks them (api/auth.ts); the settings
 * service issues managers' tokens, for the API and the admin console alike.
 */
export function createApiTokens({ models, secrets }: Pick<ServiceDeps, 'models' | 'secrets'>) {
  const hashOf = (token: string) => secrets.keyedHash('api-token', token);
  return {
    /** What a token is kept and looked up as. */
    hashOf,

    /** Issues a token: returned once, kept only as its keyed hash. */
    async issue(input: { role: 'supervisor' | 'manager'; organisationId: number | null; label: string }) {
      const token = randomToken();
      const row = await models.ApiToken.create({ ...input, tokenHash: hashOf(token) });
      return { id: row.id, token };
    },
  };
}

export type ApiTokens = ReturnType<typeof createApiTokens>;
