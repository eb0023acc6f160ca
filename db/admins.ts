import { type Transaction, UniqueConstraintError } from 'sequelize';
import { domainError } from '../domain/errors';
import type { Secrets } from '../lib/secrets';
import type { AdminRole, AdminUser, Models } from './models';

/** What making an admin needs: the pages' services have it, and so does a worker's activity (an accepted invitation). */
export interface AdminStore {
  models: Models;
  secrets: Secrets;
}

export interface NewAdmin {
  /** Lower case, as the forms' schemas leave it. */
  email: string;
  passwordHash: string;
  /** The TOTP secret in base32, as `newTotpSecret` made it; sealed here before it is stored. */
  totpSecret: string;
  role: AdminRole;
  /** A manager's organisation; null for a supervisor. */
  organisationId: number | null;
  /** The step of the code the person confirmed their app with, so that code cannot also sign them in. */
  totpLastStep?: number;
}

/**
 * Makes an admin user: the first supervisor at set-up, a manager from an accepted invitation. An address that is
 * already an admin's is refused (409 account_exists).
 */
export async function createAdmin(
  { models, secrets }: AdminStore,
  input: NewAdmin,
  transaction?: Transaction,
): Promise<AdminUser> {
  if ((input.role === 'manager') !== (input.organisationId !== null)) {
    throw new Error('a manager, and only a manager, belongs to an organisation');
  }
  try {
    return await models.AdminUser.create(
      {
        email: input.email,
        passwordHash: input.passwordHash,
        totpSecret: secrets.seal(input.totpSecret),
        totpLastStep: input.totpLastStep ?? null,
        role: input.role,
        organisationId: input.organisationId,
      },
      { transaction },
    );
  } catch (error) {
    if (!(error instanceof UniqueConstraintError)) throw error;
    throw domainError('account_exists', 'There is already an admin with this e-mail address.');
  }
}
