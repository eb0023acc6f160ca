import { createHmac, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { type ApiUnderTest, type HttpAnswer, SUPERVISOR_TOKEN } from './system';

/**
 * An organisation's MDM as the webhook sees it (`POST /api/mdm/events`): events signed the documented way, so that
 * other tests can enrol Windows devices (and Android ones whose DPC reports through an MDM) the realistic way.
 */

/** `sha256=<hex HMAC-SHA-256 of "<timestamp>.<raw body>">`, keyed with the whole secret. */
export const mdmSignature = (secret: string, timestamp: string | number, body: string) =>
  `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;

export const unixNow = () => Math.floor(Date.now() / 1000);

export interface Signing {
  /** The organisation's webhook secret; left out, the call is not signed (unless `signature` says otherwise). */
  secret?: string;
  /** Unix seconds (now unless given); `null` leaves the header out. */
  timestamp?: number | string | null;
  /** A signature header of the test's own instead of the right one; `null` leaves it out. */
  signature?: string | null;
  /** The MDM's address, as a proxy the API trusts forwards it (X-Forwarded-For); this machine's unless given. */
  from?: string;
}

/** Posts an event (an object, sent as JSON, or the raw text as it is), signed as `signing` says. */
export async function postMdmEvent(api: ApiUnderTest, event: unknown, signing: Signing = {}): Promise<HttpAnswer> {
  const body = typeof event === 'string' ? event : JSON.stringify(event);
  const timestamp = signing.timestamp === undefined ? unixNow() : signing.timestamp;
  const headers: Record<string, string> = {};
  if (timestamp !== null) headers['x-signature-timestamp'] = String(timestamp);
  if (signing.from) headers['x-forwarded-for'] = signing.from;
  const signature =
    signing.signature !== undefined
      ? signing.signature
      : signing.secret === undefined
        ? null
        : mdmSignature(signing.secret, timestamp ?? '', body);
  if (signature !== null) headers['x-signature'] = signature;
  return api.call('POST', '/api/mdm/events', { raw: body, headers });
}

/** Makes (or rotates) the organisation's webhook secret through the settings API and answers it. */
export async function makeMdmWebhookSecret(api: ApiUnderTest, organisation: string, token = SUPERVISOR_TOKEN) {
  const answer = await api.call('POST', `/api/organisations/${organisation}/mdm-webhook-secret`, { token });
  expect(answer.status, answer.text).to.equal(201);
  return answer.body.secret as string;
}

export interface Report {
  organisation: string;
  secret: string;
  /** The event id: a fresh one unless given. */
  id?: string;
  enrolmentToken?: string;
  deviceId?: string;
  device?: Record<string, string>;
  from?: string;
}

const eventOf = (type: 'enrolled' | 'unenrolled', { secret: _, from: __, ...report }: Report) => ({
  id: report.id ?? `evt-${randomUUID()}`,
  type,
  ...report,
});

/** The MDM reports that the device of the link `enrolmentToken` enrolled (its check-in). */
export const reportEnrolment = (api: ApiUnderTest, report: Report & { enrolmentToken: string }) =>
  postMdmEvent(
    api,
    eventOf('enrolled', { device: { serialNumber: 'PF-TEST-0001', model: 'Surface Laptop 5' }, ...report }),
    { secret: report.secret, from: report.from },
  );

/** The MDM reports that a device (by `deviceId` or its link's `enrolmentToken`) left management. */
export const reportUnenrolment = (api: ApiUnderTest, report: Report) =>
  postMdmEvent(api, eventOf('unenrolled', report), { secret: report.secret, from: report.from });
