import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { Models } from '../db/models';
import { accountOf } from '../db/policy';
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
  /**
   * Makes the run's n-th code, mails it, and returns only its keyed hash: the code itself never reaches the workflow.
   * Derived from the run and n, so a retry mails the same code.
   */
  const mailCode = async (
    kind: 'code' | 'reset',
    to: string,
    codeNumber: number,
    compose: (code: string, runWorkflowId: string) => Pick<MailMessage, 'subject' | 'text'>,
  ) => {
    const { workflowId, runKey } = workflowRun();
    const code = secrets.verificationCode(runKey, codeNumber);
    const key = `${kind}/${runKey}/${codeNumber}`;
    await deliverOnce(models, key, 'mail', () => mailer.send({ key, to, ...compose(code, workflowId) }));
    return { codeHash: secrets.keyedHash(kind, code) };
  };

  const sendOnce = (key: string, to: string, subject: string, text: string) =>
    deliverOnce(models, key, 'mail', () => mailer.send({ key, to, subject, text }));

  return {
    /**
     * The registration's n-th verification code, with a one-click link. The link carries a proof of its own, a MAC of
     * the run and n (so a retry mails the same link), not the code: strangers' wrong guesses and resends, which spend
     * codes, do not spend it. Only its keyed hash goes back to the workflow.
     */
    async sendVerificationCode(input: { email: string; codeNumber: number; codeTtlMinutes: number }) {
      const proof = secrets.linkToken(`verify-link/${workflowRun().runKey}`, input.codeNumber);
      const sent = await mailCode('code', input.email, input.codeNumber, (code, workflowId) => ({
        subject: `Your verification code: ${code}`,
        text: [
          `Your verification code is ${code}.`,
          '',
          `Or confirm your address with one click: ${publicUrl}/setup/verify?registration=${encodeURIComponent(secrets.registrationId(workflowId))}&proof=${proof}`,
          '',
          `The code and the link are valid for ${input.codeTtlMinutes} minutes; the link then sends you a new code. If you did not ask for it, ignore this message.`,
        ].join('\n'),
      }));
      return { ...sent, linkHash: secrets.keyedHash('verify-link', proof) };
    },

    /**
     * The n-th password-reset code of an owner. An address with no account in the organisation gets no mail and a
     * null hash, which no code matches: the requester cannot tell the difference.
     */
    async sendResetCode(input: { organisation: string; email: string; codeNumber: number; codeTtlMinutes: number }) {
      if (!(await accountOf(models, input.organisation, input.email))) return { codeHash: null };
      return mailCode('reset', input.email, input.codeNumber, (code) => ({
        subject: `Your password reset code: ${code}`,
        text: [
          `Your password reset code is ${code}.`,
          '',
          `Enter it at ${publicUrl}/setup/${input.organisation}/reset-password to choose a new password.`,
          '',
          `The code is valid for ${input.codeTtlMinutes} minutes. If you did not ask for it, ignore this message: your password stays as it is.`,
        ].join('\n'),
      }));
    },

    /**
     * The n-th mailing of an invitation to manage an organisation: a link made from the run and n (a retry mails the
     * same one), of which only the keyed hash goes back to the workflow.
     */
    async sendInvitation(input: { organisation: string; email: string; invitedBy: string; invitationNumber: number }) {
      const { workflowId, runKey } = workflowRun();
      const token = secrets.linkToken(runKey, input.invitationNumber);
      const link = `${publicUrl}/admin/invitations/${encodeURIComponent(secrets.registrationId(workflowId))}/${token}`;
      await sendOnce(
        `invitation/${runKey}/${input.invitationNumber}`,
        input.email,
        `You are invited to manage ${input.organisation}'s device setup`,
        [
          `${input.invitedBy} invites you to manage the self-service device setup of ${input.organisation}.`,
          '',
          `Accept at ${link}`,
          '',
          'You will choose a password and set up an authenticator app for a second factor. If you did not expect this, ignore this message.',
        ].join('\n'),
      );
      return { tokenHash: secrets.keyedHash('invitation', token) };
    },

    async sendEnrolledMail(input: { email: string; deviceId: string; deviceName: string }) {
      await sendOnce(
        `enrolled/${input.deviceId}`,
        input.email,
        `Your device is enrolled: ${input.deviceName}`,
        `Your device "${input.deviceName}" has checked in and is now managed by your organisation.`,
      );
    },

    /** The one reminder for a link that has not been used yet (keyed by device and link number). */
    async sendLinkReminder(input: {
      organisation: string;
      email: string;
      deviceId: string;
      linkNumber: number;
      deviceName: string;
      expiresAt: string;
    }) {
      await sendOnce(
        `reminder/${input.deviceId}/${input.linkNumber}`,
        input.email,
        `Your setup link expires soon: ${input.deviceName}`,
        [
          `The link to set up your device "${input.deviceName}" has not been used yet. It expires at ${input.expiresAt}.`,
          '',
          `Open ${publicUrl}/setup/${input.organisation}/devices to see it again, or to get a new one once it has expired.`,
        ].join('\n'),
      );
    },
  };
}
