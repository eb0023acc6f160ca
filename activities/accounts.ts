import { UniqueConstraintError } from 'sequelize';
import type { Models } from '../db/models';
import { accountOf, assertEmailAllowed, openOrganisation } from '../db/policy';
import { domainError } from '../domain/errors';
import { workflowRun } from './context';

const DAY_MS = 86_400_000;

export interface NewAccount {
  organisation: string;
  email: string;
  firstName: string;
  lastName: string;
  phone?: string;
  passwordHash: string;
}

export function createAccountActivities({ models }: { models: Models }) {
  return {
    /**
     * The owner's account, made from the organisation's account template as it is now (values copied, so later
     * template edits leave it alone). Keyed by the registration run: a retry finds the account it made.
     */
    async createAccount(input: NewAccount): Promise<{ userId: number }> {
      const registrationKey = workflowRun().runKey;
      const existing = await models.User.findOne({ where: { registrationKey } });
      if (existing) return { userId: existing.id };

      const organisation = await openOrganisation(models, input.organisation);
      assertEmailAllowed(organisation, input.email);
      const template = await models.AccountTemplate.findByPk(organisation.accountTemplateId as number);
      if (!template) throw domainError('organisation_disabled', `${organisation.name} has no account template.`);
      try {
        const user = await models.User.create({
          organisationId: organisation.id,
          email: input.email,
          firstName: input.firstName,
          lastName: input.lastName,
          phone: input.phone ?? null,
          passwordHash: input.passwordHash,
          accountTemplateId: template.id,
          locale: template.locale,
          timeZone: template.timeZone,
          role: template.role,
          groups: structuredClone(template.groups),
          validUntil: template.validityDays == null ? null : new Date(Date.now() + template.validityDays * DAY_MS),
          attributes: structuredClone(template.attributes),
          registrationKey,
        });
        return { userId: user.id };
      } catch (error) {
        if (!(error instanceof UniqueConstraintError)) throw error;
        const raced = await models.User.findOne({ where: { registrationKey } });
        if (raced) return { userId: raced.id };
        throw domainError('account_exists', 'An account with this address already exists in this organisation.');
      }
    },

    /**
     * A new password from a confirmed reset code; every session of the owner ends with it, and every device token goes
     * (one kept by whoever knew the old password would still have its own guesses). Repeating it sets the same hash and
     * ends nothing more.
     */
    async setPassword(input: { organisation: string; email: string; passwordHash: string }) {
      const user = await accountOf(models, input.organisation, input.email);
      if (!user) throw domainError('invalid_code', 'That code is not right.');
      await models.User.sequelize?.transaction(async (transaction) => {
        await user.update({ passwordHash: input.passwordHash }, { transaction });
        await models.OwnerSession.update(
          { endedAt: new Date() },
          { where: { userId: user.id, endedAt: null }, transaction },
        );
        await models.KnownDevice.destroy({ where: { accountKind: 'owner', accountId: user.id }, transaction });
      });
    },
  };
}
