import { UniqueConstraintError } from 'sequelize';
import twilio from 'twilio';
import type { Models } from '../db/models';
import { domainError } from '../domain/errors';
import type { TwilioConfig } from '../lib/config';
import { phoneHashOf, type Secrets } from '../lib/secrets';
import { provisioningUrl } from '../platforms/urls';
import { workflowRun } from './context';
import { deliverOnce } from './delivery';

export interface SmsSender {
  send(to: string, body: string): Promise<void>;
}

/** Twilio error codes that mean the number itself is wrong: retrying cannot help. */
const INVALID_NUMBER_CODES = new Set([21211, 21214, 21217, 21407, 21408, 21610, 21614]);

/** Real SMS through Twilio's REST API; `httpClient` lets tests point the real client at a loopback fake. */
export function createTwilioSms(config: TwilioConfig, httpClient?: twilio.RequestClient): SmsSender {
  const client = twilio(config.accountSid, config.authToken, { httpClient });
  return {
    async send(to, body) {
      try {
        await client.messages.create({ to, from: config.from, body });
      } catch (error) {
        const code = (error as { code?: number }).code;
        if (code !== undefined && INVALID_NUMBER_CODES.has(code)) {
          throw domainError('invalid_phone', 'The phone number cannot receive SMS.');
        }
        throw error;
      }
    },
  };
}

/** Embedded default: SMS are kept in the database's outbox. */
export function createOutboxSms(models: Models): SmsSender {
  return {
    async send(to, body) {
      await models.OutboxMessage.create({ channel: 'sms', recipient: to, subject: null, body });
    },
  };
}

export function createSmsActivities(deps: { models: Models; sms: SmsSender; secrets: Secrets; publicUrl: string }) {
  return {
    /**
     * The run's n-th code proving the phone number a device's link is to go to: made here from the run and n (a retry
     * sends the same code), and only its keyed hash returned. It carries no link: a number nobody proved gets nothing
     * worth sending to someone else.
     */
    async sendPhoneCode(input: { deviceId: string; phone: string; codeNumber: number }) {
      const { runKey } = workflowRun();
      const code = deps.secrets.verificationCode(runKey, input.codeNumber);
      await deliverOnce(deps.models, `phone-code/${runKey}/${input.codeNumber}`, 'sms', () =>
        deps.sms.send(
          input.phone,
          `Your code to confirm this number for device setup: ${code}. If you did not ask for it, ignore this message.`,
        ),
      );
      return { codeHash: deps.secrets.keyedHash('phone-code', code) };
    },

    /** The owner typed the code: the number is theirs, and its next links go to it at once. */
    async provePhone(input: { deviceId: string; phone: string }) {
      const device = await deps.models.Device.findByPk(input.deviceId);
      if (!device) return;
      try {
        await deps.models.ProvenPhone.create({
          userId: device.userId,
          phoneHash: phoneHashOf(deps.secrets, input.phone),
        });
      } catch (error) {
        // Proven before (a retry, or the same number on another device at once): nothing more to record.
        if (!(error instanceof UniqueConstraintError)) throw error;
      }
    },

    /** Android enrolment: the provisioning link (the registration address) by SMS to the owner's phone. */
    async sendProvisioningSms(input: { deviceId: string; linkNumber: number; phone: string }) {
      const url = provisioningUrl(deps.publicUrl, deps.secrets.linkToken(input.deviceId, input.linkNumber));
      await deliverOnce(deps.models, `sms/${input.deviceId}/${input.linkNumber}`, 'sms', () =>
        deps.sms.send(input.phone, `Set up your Android device: open ${url} on it. The link works once.`),
      );
    },
  };
}
