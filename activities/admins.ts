import { createAdmin } from '../db/admins';
import { domainError } from '../domain/errors';
import type { ActivityDeps } from '.';

export function createAdminActivities({ models, secrets }: ActivityDeps) {
  return {
    /**
     * An accepted invitation's manager account. Repeating it after it was made (a retry) finds that account; a manager
     * of the organisation revoked before gets theirs back with the new credentials; an address that is another
     * admin's already is refused.
     */
    async createManager(input: {
      organisation: string;
      email: string;
      passwordHash: string;
      totpSecretSealed: string;
      totpLastStep?: number;
    }): Promise<void> {
      const organisation = await models.Organisation.findOne({ where: { slug: input.organisation } });
      const totpSecret = secrets.unseal(input.totpSecretSealed);
      if (!organisation || !totpSecret) throw domainError('not_found', 'The invitation’s organisation is gone.');
      const existing = await models.AdminUser.findOne({ where: { email: input.email } });
      if (existing?.role === 'manager' && existing.organisationId === organisation.id) {
        if (existing.disabledAt) {
          // Revoking ended the old sessions: nothing of the old credentials works again.
          await existing.update({
            passwordHash: input.passwordHash,
            totpSecret: input.totpSecretSealed,
            totpLastStep: input.totpLastStep ?? null,
            disabledAt: null,
          });
        }
        return;
      }
      await createAdmin(
        { models, secrets },
        {
          email: input.email,
          passwordHash: input.passwordHash,
          totpSecret,
          role: 'manager',
          organisationId: organisation.id,
          totpLastStep: input.totpLastStep,
        },
      );
    },
  };
}
