import { createHash, createHmac, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { markUnenrolled } from '../../db/devices';
import type { Device, Organisation } from '../../db/models';
import type { Secrets } from '../../lib/secrets';
import type { ServiceDeps } from '../../services/context';
import { HttpError } from '../../services/errors';
import type { Provisioning } from '../../services/provisioning';
import { opaqueParam, slug } from '../../services/schemas';
import { isFresh, stringsMatch, takeOnce } from '../../services/webhooks';
import type { DeviceOutcome } from '../../workflows/device/messages';
import { homeOf } from '..';

/**
 * The organisations' own MDMs (Intune, Fleet…) report back through a signed webhook: `enrolled` is the
 * check-in of a Windows device (and of an Android device whose DPC reports through its MDM), `unenrolled` that the
 * device left management. Each organisation signs with its own secret, shown once when made (docs/api.md).
 */

/** The headers of a signed event: unix seconds, and `sha256=<hex HMAC-SHA-256 of "<timestamp>.<raw body>">`. */
export const TIMESTAMP_HEADER = 'X-Signature-Timestamp';
export const SIGNATURE_HEADER = 'X-Signature';
/** What an organisation's webhook secret starts with, so that one found lying around says what it is. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

const identifier = z.string().trim().min(1).max(200);
/** What an MDM says about the device it enrolled; recorded with the device, as the DPC's own check-in is. */
export const reportedDevice = z.strictObject({
  serialNumber: identifier.optional(),
  imei: identifier.optional(),
  meid: identifier.optional(),
  /** Android's enrollment-specific id (a personal device's work profile has no serial number to give). */
  enrollmentSpecificId: identifier.optional(),
  /** Windows' hardware id, or any other id the platform gives the device. */
  hardwareId: identifier.optional(),
  /** The MDM's own id of the device (Intune's managed device id, Fleet's host id…). */
  mdmDeviceId: identifier.optional(),
  manufacturer: identifier.optional(),
  model: identifier.optional(),
  osVersion: identifier.optional(),
  deviceName: identifier.optional(),
});

export const mdmEventBody = z
  .strictObject({
    id: z.string().min(1).max(200).describe("The MDM's id of this event: each is taken once per organisation."),
    organisation: slug,
    type: z.enum(['enrolled', 'unenrolled']),
    enrolmentToken: opaqueParam.optional().describe('The token of the provisioning link, /provision/<token>.'),
    deviceId: z.uuid().optional(),
    device: reportedDevice.optional(),
  })
  .superRefine((event, ctx) => {
    if (event.type === 'enrolled' && !event.enrolmentToken) {
      ctx.addIssue({ code: 'custom', path: ['enrolmentToken'], message: 'required for an enrolled event' });
    }
    if (event.type === 'unenrolled' && !event.enrolmentToken && !event.deviceId) {
      ctx.addIssue({ code: 'custom', path: ['deviceId'], message: 'deviceId or enrolmentToken is required' });
    }
  });
export type MdmEvent = z.infer<typeof mdmEventBody>;

/** A signed call as it arrived: the raw body (what the signature covers) and the two headers. */
export interface SignedCall {
  body: Buffer;
  timestamp?: string;
  signature?: string;
}

const notSigned = () =>
  new HttpError('invalid_signature', "The event is not signed with the organisation's webhook secret.");
const deviceNotFound = () => new HttpError('device_not_found', 'This organisation has no such device.');
const linkNotFound = () => new HttpError('link_not_found', 'This provisioning link does not exist.');

/** The HMAC of a call, hex: the key is the whole secret as text, the message `<timestamp>.<raw body>`. */
export const signatureOf = (secret: string, timestamp: string, body: Buffer) =>
  createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');

/** The replay key of an event: `org:<organisation id>:<event id>`, a long event id by its hash (keys are ≤ 128). */
function eventKey(organisation: Organisation, eventId: string): string {
  const key = `org:${organisation.id}:${eventId}`;
  return key.length <= 128
    ? key
    : `org:${organisation.id}:#${createHash('sha256').update(eventId).digest('base64url')}`;
}

export function createMdmEvents({ models, secrets }: ServiceDeps, provisioning: Provisioning) {
  /**
   * The organisation the call names, if the call is signed with its secret. An unknown organisation, one without a
   * secret, a missing or malformed header and a wrong signature all get the same answer (and the same work).
   */
  async function signedBy(call: SignedCall, slugOf: unknown): Promise<Organisation> {
    const named = slug.safeParse(slugOf);
    if (!named.success) throw new HttpError('invalid_request', 'organisation: the slug of the organisation is needed.');
    const organisation = await models.Organisation.findOne({ where: { slug: named.data } });
    const secret = organisation?.mdmWebhookSecret ? secrets.unseal(organisation.mdmWebhookSecret) : undefined;
    const timestamp = /^\d{1,12}$/.test(call.timestamp ?? '') ? (call.timestamp as string) : undefined;
    const given = /^sha256=([0-9a-fA-F]{64})$/.exec(call.signature?.trim() ?? '')?.[1]?.toLowerCase();
    const expected = signatureOf(secret ?? randomBytes(32).toString('hex'), timestamp ?? '', call.body);
    const matches = stringsMatch(given ?? '', expected);
    if (!organisation || !secret || !timestamp || !given || !matches) throw notSigned();
    return organisation;
  }

  /** The device a link token names in this organisation (also through a link replaced since); never another's. */
  async function deviceOfLink(token: string, organisation: Organisation): Promise<Device | undefined> {
    const hash = secrets.keyedHash('link', token);
    const retired = await models.RetiredLink.findByPk(hash);
    const device = retired
      ? await models.Device.findByPk(retired.deviceId)
      : await models.Device.findOne({ where: { linkTokenHash: hash } });
    return device?.organisationId === organisation.id ? device : undefined;
  }

  /** `enrolled`: the check-in of the link's device, as the device's own would be, once. */
  async function enrolled(event: MdmEvent, organisation: Organisation) {
    const token = event.enrolmentToken as string;
    const device = await deviceOfLink(token, organisation);
    if (!device) throw linkNotFound();
    if (event.deviceId !== undefined && event.deviceId !== device.id) {
      throw new HttpError('invalid_request', 'deviceId: not the device of this enrolmentToken.');
    }
    // Expired, replaced, used: the provisioning service says which, as it does to the device itself.
    const live = await provisioning.usableDevice(token);
    const outcome = await provisioning.checkIn(live, { ...event.device, reportedBy: 'mdm' });
    return { deviceId: live.id, state: outcome.state };
  }

  /** `unenrolled`: an enrolled device left management (a removed one is only marked as having let go). */
  async function unenrolled(event: MdmEvent, organisation: Organisation) {
    const byLink = event.enrolmentToken ? await deviceOfLink(event.enrolmentToken, organisation) : undefined;
    // A link replaced since never enrolled anything: only a device's current link names it here.
    if (event.enrolmentToken && byLink?.linkTokenHash !== secrets.keyedHash('link', event.enrolmentToken)) {
      throw deviceNotFound();
    }
    if (byLink && event.deviceId !== undefined && event.deviceId !== byLink.id) {
      throw new HttpError('invalid_request', 'deviceId: not the device of this enrolmentToken.');
    }
    const device =
      byLink ??
      (await models.Device.findOne({ where: { id: event.deviceId as string, organisationId: organisation.id } }));
    if (!device) throw deviceNotFound();
    const refusal = homeOf(device.platform).mdmReportRefusal;
    if (refusal) throw new HttpError('wrong_step', refusal);
    const state = device.stateNow();
    const letGo = state === 'removed' && device.enrolledAt && !device.unenrolledAt;
    if (state !== 'enrolled' && !letGo) throw new HttpError('wrong_step', 'This device is not enrolled.');
    await markUnenrolled(models, { deviceId: device.id, linkNumber: device.linkNumber });
    await device.reload();
    return { deviceId: device.id, state: device.stateNow() };
  }

  return {
    /**
     * A signed event: the organisation is read from the body to know whose secret signs it; nothing else is looked at
     * before the signature is checked. Then fresh (5 minutes either way), well-formed, taken once per organisation and
     * event id. An event whose handling fails is released, so the MDM's retry of it is judged anew.
     */
    async receive(call: SignedCall): Promise<{ deviceId: string; state: DeviceOutcome['state'] }> {
      let json: unknown;
      try {
        json = JSON.parse(call.body.toString('utf8'));
      } catch {
        throw new HttpError('invalid_request', 'The request body is not valid JSON.');
      }
      const claimed = json && typeof json === 'object' ? (json as Record<string, unknown>).organisation : undefined;
      const organisation = await signedBy(call, claimed);
      if (!isFresh(Number(call.timestamp) * 1000)) {
        throw new HttpError('stale_event', 'The event is more than 5 minutes off; sign it with the time of sending.');
      }
      const event = mdmEventBody.parse(json);
      const release = await takeOnce(models, eventKey(organisation, event.id));
      try {
        return event.type === 'enrolled' ? await enrolled(event, organisation) : await unenrolled(event, organisation);
      } catch (error) {
        await release();
        throw error;
      }
    },
  };
}

export type MdmEvents = ReturnType<typeof createMdmEvents>;

/** Whether the organisation has a webhook secret this server can use, and since when. */
export function webhookSecretStatus(secrets: Secrets, organisation: Organisation) {
  const sealed = organisation.mdmWebhookSecret;
  const configured = Boolean(sealed && secrets.unseal(sealed));
  return {
    configured,
    createdAt: configured ? (organisation.mdmWebhookSecretCreatedAt?.toISOString() ?? null) : null,
  };
}

/**
 * A new webhook secret for the organisation, answered this once and kept sealed: it replaces the one before at once,
 * so events signed with the old one are refused from now on.
 */
export async function makeWebhookSecret(secrets: Secrets, organisation: Organisation) {
  const secret = `${WEBHOOK_SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
  const createdAt = new Date();
  await organisation.update({ mdmWebhookSecret: secrets.seal(secret), mdmWebhookSecretCreatedAt: createdAt });
  return { secret, createdAt: createdAt.toISOString() };
}
