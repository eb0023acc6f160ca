import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';

export interface SentSms {
  accountSid: string;
  to: string;
  from: string;
  body: string;
}

/** Numbers that Twilio refuses as invalid (error 21211), to test that path. */
export const INVALID_NUMBER = '+15005550001';

/**
 * Twilio's REST API as it answers `POST /2010-04-01/Accounts/{sid}/Messages.json` (the part we use), on a loopback
 * port, recording what it was sent. The machine cannot reach api.twilio.com; this is the only fake in the suite.
 */
export class TwilioFake {
  readonly sent: SentSms[] = [];
  private server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => {
      raw += chunk;
    });
    req.on('end', () => {
      const match = /^\/2010-04-01\/Accounts\/(AC\w+)\/Messages\.json$/.exec(req.url ?? '');
      const auth = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
      res.setHeader('content-type', 'application/json');
      if (req.method !== 'POST' || !match) {
        res.statusCode = 404;
        res.end(JSON.stringify({ code: 20404, message: 'The requested resource was not found', status: 404 }));
        return;
      }
      if (!auth.startsWith(`${match[1]}:`)) {
        res.statusCode = 401;
        res.end(JSON.stringify({ code: 20003, message: 'Authenticate', status: 401 }));
        return;
      }
      const form = new URLSearchParams(raw);
      const sms = {
        accountSid: match[1] as string,
        to: form.get('To') ?? '',
        from: form.get('From') ?? '',
        body: form.get('Body') ?? '',
      };
      if (sms.to === INVALID_NUMBER) {
        res.statusCode = 400;
        res.end(
          JSON.stringify({
            code: 21211,
            message: `The 'To' number ${sms.to} is not a valid phone number.`,
            status: 400,
          }),
        );
        return;
      }
      this.sent.push(sms);
      res.statusCode = 201;
      res.end(
        JSON.stringify({
          sid: `SM${randomUUID().replace(/-/g, '')}`,
          account_sid: sms.accountSid,
          to: sms.to,
          from: sms.from,
          body: sms.body,
          status: 'queued',
          num_segments: '1',
          direction: 'outbound-api',
          date_created: new Date().toUTCString(),
          uri: `/2010-04-01/Accounts/${sms.accountSid}/Messages/SM0.json`,
        }),
      );
    });
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** The real Twilio client's HTTP layer, sending to this fake instead of https://api.twilio.com. */
  httpClient(): twilio.RequestClient {
    const base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    const client = new twilio.RequestClient();
    const request = client.request.bind(client);
    client.request = (opts) => request({ ...opts, uri: opts.uri.replace('https://api.twilio.com', base) });
    return client;
  }

  to(phone: string): SentSms[] {
    return this.sent.filter((sms) => sms.to === phone);
  }
}
