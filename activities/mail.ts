import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { Models } from '../db/models';
import type { Secrets } from '../lib/secrets';
import { workflowRun } from './context';
import { deliverOnce } from './delivery';

export interface MailMessage {
  /** The delivery key: also the Message-ID, so a resend after a crash is recognisably the same message. */
  key: string;
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

/** Real delivery through an SMTP server (`SMTP_URL`). */
export function createSmtpMailer(smtpUrl: string, from: string): Mailer {
  const transport = nodemailer.createTransport(smtpUrl);
  return {
    async send({ key, ...message }) {
      const messageId = `<${createHash('sha256').update(key).digest('hex').slice(0, 32)}@self-service-setup>`;
      await transport.sendMail({ from, messageId, ...message });
    },
  };
}

/** Embedded default: mail is kept in the database's outbox, shown to the developer instead of delivered. */
export function createOutboxMailer(models: Models): Mailer {
  return {
    async send({ to, subject, text }) {
      await models.OutboxMessage.create({ channel: 'mail', recipient: to, subject, body: text });
    },
  };
}

export interface MailDeps {
  models: Models;
  mailer: Mailer;
  secrets: Secrets;
  publicUrl: string;
}

export function createMailActivities({ models, mailer, secrets, publicUrl }: MailDeps) {
  return {
    /**
     * Makes the registration's n-th verification code, mails it with a one-click link, and returns only the code's
     * keyed hash: the code itself never reaches the workflow. Derived from the run and n, so a retry mails the same code.
     */
    async sendVerificationCode(input: { email: string; codeNumber: number; codeTtlMinutes: number }) {
      const { workflowId, runKey } = workflowRun();
      const code = secrets.verificationCode(runKey, input.codeNumber);
      const link = `${publicUrl}/setup/verify?registration=${encodeURIComponent(secrets.registrationId(workflowId))}&code=${code}`;
      const key = `code/${runKey}/${input.codeNumber}`;
      await deliverOnce(models, key, 'mail', () =>
        mailer.send({
          key,
          to: input.email,
          subject: `Your verification code: ${code}`,
          text: [
            `Your verification code is ${code}.`,
            '',
            `Or confirm your address with one click: ${link}`,
            '',
            `The code is valid for ${input.codeTtlMinutes} minutes. If you did not ask for it, ignore this message.`,
          ].join('\n'),
        }),
      );
      return { codeHash: secrets.keyedHash('code', code) };
    },

    async sendEnrolledMail(input: { email: string; deviceId: string; deviceName: string }) {
      const key = `enrolled/${input.deviceId}`;
      await deliverOnce(models, key, 'mail', () =>
        mailer.send({
          key,
          to: input.email,
          subject: `Your device is enrolled: ${input.deviceName}`,
          text: `Your device "${input.deviceName}" has checked in and is now managed by your organisation.`,
        }),
      );
    },
  };
}
