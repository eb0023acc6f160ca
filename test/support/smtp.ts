import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  messageId: string;
  to: string;
  subject: string;
  text: string;
}

/** A real SMTP server on a loopback port that keeps every message it receives, for tests to read codes and links from. */
export class MailCatcher {
  readonly messages: ReceivedMail[] = [];
  private waiters: Array<() => void> = [];
  /** While set, the answers to senders wait here: a slow mail server, as the product must cope with. */
  private held: Array<() => void> | undefined;
  private server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData: (stream, _session, callback) => {
      simpleParser(stream)
        .then((mail: ParsedMail) => {
          const to = Array.isArray(mail.to) ? mail.to[0] : mail.to;
          this.messages.push({
            messageId: mail.messageId ?? '',
            to: to?.value[0]?.address ?? '',
            subject: mail.subject ?? '',
            text: mail.text ?? '',
          });
          for (const wake of this.waiters.splice(0)) wake();
          // Read, but not yet accepted while held: the sender waits for the server's answer.
          if (this.held) this.held.push(() => callback());
          else callback();
        })
        .catch(callback);
    },
  });

  /**
   * Holds every message in the middle of its SMTP transaction until `release()`: a slow mail server. The message can
   * be read meanwhile (as a quick owner reads a mail before the server has told the sender it took it).
   */
  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const accept of held) accept();
  }

  async start(): Promise<string> {
    // A sender that dies mid-session (the scale-out test kills a worker) resets its connection: that is the sender's
    // problem, not the mail server's, which goes on serving the others.
    this.server.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') throw error;
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `smtp://127.0.0.1:${(this.server.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  to(address: string): ReceivedMail[] {
    return this.messages.filter((m) => m.to === address.toLowerCase());
  }

  /** The n-th (1-based) message to an address, waiting for it to arrive. */
  async nth(address: string, n: number, timeoutMs = 10_000): Promise<ReceivedMail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.to(address)[n - 1];
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message #${n} to ${address} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

export const codeIn = (mail: ReceivedMail) => /verification code is (\d{6})/.exec(mail.text)?.[1] as string;
export const linkIn = (mail: ReceivedMail) => /(https?:\/\/\S+)/.exec(mail.text)?.[1] as string;
