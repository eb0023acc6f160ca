import { createHash, createHmac } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import plist from 'plist';
import { Op, UniqueConstraintError, type WhereOptions } from 'sequelize';
import { markUnenrolled, recordSettingsOutcome } from '../../db/devices';
import type { Device } from '../../db/models';
import { deviceWorkflowId, managedDeviceWorkflowId } from '../../domain/ids';
import { DEFAULT_SETTINGS_TIMEOUT_MS } from '../../domain/timings';
import type { ServiceDeps } from '../../services/context';
import { HttpError } from '../../services/errors';
import { isFresh, stringsMatch, takeOnce } from '../../services/webhooks';
import { checkInUpdate } from '../../workflows/device/messages';
import { checkOutUpdate, settingsResultSignal } from '../../workflows/managed-device/messages';
import { readCertificateRequest, signerCommonName } from './certificates';
import type { AppleMdm } from './nanomdm';
import { commandUuid } from './profiles';

/** A message from an Apple device: the enrolment id of its URL, the body, and its `Mdm-Signature`. */
export interface DeviceMessage {
  enrolment: unknown;
  body: Buffer;
  signature?: string;
  contentType?: string;
}

/** What NanoMDM answered a device, passed back to it as it came. */
export interface Relayed {
  status: number;
  contentType?: string;
  body: Buffer;
}

/** The device-channel check-ins the enrolment is made of: the device, enrolled, unenrolled. */
const RECORDED: ReadonlySet<string> = new Set(['Authenticate', 'TokenUpdate', 'CheckOut']);

/** The device's identity from its Authenticate message: what owners and managers see, and what its commands go to. */
const IDENTITY_KEYS = {
  UDID: 'udid',
  SerialNumber: 'serialNumber',
  Model: 'model',
  ModelName: 'modelName',
  ProductName: 'productName',
  OSVersion: 'osVersion',
  BuildVersion: 'buildVersion',
  DeviceName: 'deviceName',
} as const;

/**
 * Apple enrolment as the product sees it. The device talks to NanoMDM through us: its check-ins are checked
 * (the enrolment id is ours and the certificate that signed was issued for it), passed to NanoMDM, and recorded in the
 * device's workflow only once NanoMDM has taken them — when recording fails the device is told to try again, so an
 * enrolment is never in NanoMDM and lost here. The SCEP server asks us before it issues an identity, and NanoMDM's
 * webhook tells us the device's answers to commands.
 */
export function createAppleEnrolment(deps: ServiceDeps) {
  const { client, models, secrets, logger } = deps;

  const engines = (): AppleMdm => {
    if (!deps.apple) throw new HttpError('not_found', 'Apple enrolment is not set up on this server.');
    return deps.apple;
  };

  /** The device and link an enrolment id names, if the id is ours and the device is still known. */
  const enrolmentOf = async (enrolmentId: unknown) => {
    const parsed = typeof enrolmentId === 'string' ? secrets.parseEnrolmentId(enrolmentId) : undefined;
    const device = parsed && (await models.Device.findByPk(parsed.deviceId));
    if (!parsed || !device || device.linkNumber !== parsed.linkNumber) {
      throw new HttpError('enrolment_not_found', 'There is no such enrolment.');
    }
    return { enrolmentId: enrolmentId as string, device, linkNumber: parsed.linkNumber };
  };

  /** The enrolment a device message names, if the certificate that signed it was issued for that enrolment. */
  const signedEnrolment = async (input: DeviceMessage) => {
    const enrolment = await enrolmentOf(input.enrolment);
    if (signerCommonName(input.signature) !== enrolment.enrolmentId) {
      throw new HttpError('forbidden', 'The message is not signed with this enrolment’s identity.');
    }
    return enrolment;
  };

  const forward = async (url: string, init: RequestInit): Promise<Relayed> => {
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
    } catch (error) {
      logger.warn({ err: error }, 'Apple enrolment engine unreachable');
      throw new HttpError('unavailable', 'Device management is unavailable; try again.');
    }
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? undefined,
      body: Buffer.from(await response.arrayBuffer()),
    };
  };

  /** A recording that failed for a reason that may pass: the device tries the same message again later. */
  const retryLater = (error: unknown): never => {
    logger.error({ err: error }, 'Apple check-in taken by NanoMDM but not recorded; the device will retry');
    throw new HttpError('unavailable', 'The check-in could not be recorded; try again.');
  };

  /** The enrolment holds this UDID: its device gave it at Authenticate, and no other enrolment may speak with it. */
  const holds = (device: Device, udid: string) => device.udid === udid;

  /**
   * Refuses a check-in that cannot go on before NanoMDM sees it; a repeat of one already recorded goes through. What
   * the enrolment does not hang on (a Mac's user channel, bootstrap tokens) is the enrolled device's own business, and
   * after Authenticate every message must name the UDID the enrolment holds.
   */
  function admit(device: Device, message: Record<string, unknown>): void {
    const messageType = String(message.MessageType);
    const udid = String(message.UDID);
    const state = device.stateNow();
    if (!RECORDED.has(messageType) || message.UserID !== undefined) {
      if (state === 'enrolled' && holds(device, udid)) return;
      throw new HttpError('wrong_step', 'This device is not enrolled.');
    }
    if (messageType === 'CheckOut' || state === 'enrolled' || state === 'unenrolled' || state === 'removed') {
      if (state !== 'link-issued' && holds(device, udid)) return;
      if (messageType === 'CheckOut') throw new HttpError('enrolment_not_found', 'This device is not enrolled.');
      throw new HttpError('link_used', 'This enrolment has already been used by another device.');
    }
    if (state !== 'link-issued') throw new HttpError('link_expired', 'This enrolment link has expired.');
    if (messageType === 'TokenUpdate' && !holds(device, udid)) {
      throw new HttpError('wrong_step', 'The device has not authenticated.');
    }
    if (messageType === 'Authenticate' && device.udid !== null && !holds(device, udid)) {
      throw new HttpError('link_used', 'This enrolment has already been used by another device.');
    }
  }

  /** How long a removed device's RemoveProfile is waited for: its run's wait for the device's check-out. */
  const removalGraceMs = deps.config.timings.settingsTimeoutMs ?? DEFAULT_SETTINGS_TIMEOUT_MS;

  /**
   * An enrolment that has let go of its UDID, for the claimant's sake: checked out, its link expired, or removed —
   * except that a removed device that has not checked out yet is still sent its RemoveProfile by UDID, so until its
   * run stops waiting for it only its own owner (enrolling the device again, after erasing it) takes the UDID over.
   */
  const letGo = (claimant: Device): WhereOptions<Device> => {
    const now = Date.now();
    return {
      [Op.or]: [
        { state: { [Op.in]: ['unenrolled', 'link-expired'] } },
        { state: 'link-issued', linkExpiresAt: { [Op.lte]: new Date(now) } },
        {
          state: 'removed',
          [Op.or]: [
            { enrolledAt: null },
            { unenrolledAt: { [Op.ne]: null } },
            { userId: claimant.userId },
            { removedAt: { [Op.lte]: new Date(now - removalGraceMs) } },
          ],
        },
      ],
    };
  };

  /**
   * Takes the UDID of an Authenticate for its enrolment before NanoMDM sees it: NanoMDM knows a device by its UDID
   * alone and would give it to whichever identity authenticated last. One enrolment holds a UDID (a unique index); the
   * holder gives way only once it has let go (`letGo`), in one conditional write, so of two devices racing for one
   * UDID one gets it.
   */
  async function holdUdid(device: Device, udid: string): Promise<void> {
    if (holds(device, udid)) return;
    const claimant = { id: device.id, linkNumber: device.linkNumber };
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const taken = await models.Device.update(
        { udid },
        { where: { ...claimant, state: 'link-issued', udid: null } },
      ).then(
        ([changed]) => changed === 1,
        (error: unknown) => {
          if (error instanceof UniqueConstraintError) return undefined;
          throw error;
        },
      );
      if (taken) return;
      if (taken === false) {
        // Taken meanwhile by this enrolment's own retry, or its link moved on.
        if ((await models.Device.findOne({ where: claimant }))?.udid === udid) return;
        throw new HttpError('link_used', 'This enrolment has already been used by another device.');
      }
      const [released] = await models.Device.update({ udid: null }, { where: { udid, ...letGo(device) } });
      if (released === 0) break;
    }
    throw new HttpError(
      'udid_in_use',
      'This device is enrolled under another enrolment: remove it there, then enrol it with a new link.',
    );
  }

  async function record(device: Device, enrolmentId: string, message: Record<string, unknown>): Promise<void> {
    const udid = String(message.UDID);
    if (message.UserID !== undefined) return;
    switch (message.MessageType) {
      case 'Authenticate': {
        const identity = Object.fromEntries(
          Object.entries(IDENTITY_KEYS)
            .filter(([key]) => typeof message[key] === 'string')
            .map(([key, name]) => [name, message[key]]),
        );
        await models.Device.update(
          { deviceInfo: identity },
          { where: { id: device.id, linkNumber: device.linkNumber, state: 'link-issued' } },
        );
        return;
      }
      case 'TokenUpdate': {
        if (device.stateNow() !== 'link-issued') return; // a token refresh of an enrolled device: NanoMDM's alone
        // One update id per enrolment: the device's retry joins the first attempt instead of being refused as a reuse.
        await client.workflow.getHandle(deviceWorkflowId(device.id)).executeUpdate(checkInUpdate, {
          args: [{ deviceInfo: device.deviceInfo ?? { udid } }],
          updateId: `token-update/${enrolmentId}`,
        });
        return;
      }
      case 'CheckOut': {
        try {
          await client.workflow.getHandle(managedDeviceWorkflowId(device.id)).executeUpdate(checkOutUpdate);
        } catch (error) {
          // No run manages the device any more (it ended, or an operator ended it): the record is all there is.
          if (!(error instanceof WorkflowNotFoundError || isRefusedByWorkflow(error))) throw error;
          await markUnenrolled(models, { deviceId: device.id, linkNumber: device.linkNumber });
        }
        return;
      }
    }
  }

  return {
    /** A device's check-in (`PUT` to the profile's CheckInURL): checked, passed to NanoMDM, then recorded. */
    async checkIn(input: DeviceMessage) {
      const apple = engines();
      const { enrolmentId, device } = await signedEnrolment(input);
      const message = parseMessage(input.body);
      admit(device, message);
      if (message.MessageType === 'Authenticate') await holdUdid(device, String(message.UDID));
      const answer = await forward(`${apple.nanomdmUrl}/checkin?enrolment=${encodeURIComponent(enrolmentId)}`, {
        method: 'PUT',
        headers: {
          'content-type': input.contentType ?? 'application/x-apple-aspen-mdm-checkin',
          'mdm-signature': input.signature as string,
        },
        body: new Uint8Array(input.body),
      });
      if (answer.status !== 200) return answer;
      await record(device, enrolmentId, message).catch((error) => {
        // A refusal the device can do nothing about is its answer; anything else may pass, so it tries again.
        if (error instanceof WorkflowUpdateFailedError && error.cause) throw error;
        retryLater(error);
      });
      return answer;
    },

    /** The device's command channel (`PUT` to the profile's ServerURL): NanoMDM's, passed through once its UDID is checked. */
    async connect(input: DeviceMessage) {
      const apple = engines();
      // Its answers reach the webhook under this enrolment id: only the enrolment's own device may speak for it, and
      // only with the UDID it holds (NanoMDM would take the answer as that UDID's, whichever enrolment's it is).
      const { enrolmentId, device } = await signedEnrolment(input);
      if (!holds(device, udidOf(input.body))) {
        throw new HttpError('forbidden', 'The message names another device than this enrolment’s.');
      }
      return forward(`${apple.nanomdmUrl}/mdm?enrolment=${encodeURIComponent(enrolmentId)}`, {
        method: 'PUT',
        headers: {
          'content-type': input.contentType ?? 'application/x-apple-aspen-mdm',
          'mdm-signature': input.signature as string,
        },
        body: new Uint8Array(input.body),
      });
    },

    /** SCEP (the profile's SCEP URL): passed to the SCEP server, which asks `verifyCertificateRequest` first. */
    async scep(input: { method: string; query: string; body?: Buffer; contentType?: string }) {
      const apple = engines();
      return forward(`${apple.scepUrl}${input.query}`, {
        method: input.method,
        headers: input.contentType ? { 'content-type': input.contentType } : {},
        body: input.method === 'POST' && input.body ? new Uint8Array(input.body) : undefined,
      });
    },

    /**
     * The SCEP server's question before it issues an identity: is this request's challenge the one of the enrolment
     * it names, for a link still open, and not yet spent on another key? Spending it is one conditional write, so of
     * two devices racing with one profile only one gets an identity; the same key asking again (a retry) gets it again.
     */
    async verifyCertificateRequest(input: { authorization?: string; body: Buffer }): Promise<boolean> {
      const apple = engines();
      if (!bearerMatches(input.authorization, apple.scepVerifyKey)) {
        throw new HttpError('unauthorized', 'This is for the SCEP server.');
      }
      const request = readCertificateRequest(input.body);
      const parsed = request?.commonName ? secrets.parseEnrolmentId(request.commonName) : undefined;
      if (!request?.challenge || !parsed) return false;
      if (!stringsMatch(request.challenge, secrets.scepChallenge(request.commonName as string))) return false;
      const [changed] = await models.Device.update(
        { identityKey: request.keyHash },
        {
          where: {
            id: parsed.deviceId,
            linkNumber: parsed.linkNumber,
            state: 'link-issued',
            linkExpiresAt: { [Op.gt]: new Date() },
            [Op.or]: [{ identityKey: null }, { identityKey: request.keyHash }],
          },
        },
      );
      return changed === 1;
    },

    /**
     * NanoMDM's webhook: signed with the shared key, fresh, and taken once. The device's answer to its settings
     * command goes to the run managing it, or (no run any more) straight to its record. Check-in events are already
     * recorded through `checkIn`, so here they are only acknowledged.
     */
    async webhook(input: { signature?: string; body: Buffer }): Promise<void> {
      const apple = engines();
      const expected = createHmac('sha256', apple.webhookKey).update(input.body).digest('base64');
      if (!input.signature || !stringsMatch(input.signature, expected)) {
        throw new HttpError('invalid_signature', 'The webhook call is not signed with the shared key.');
      }
      const event = parseEvent(input.body);
      if (!isFresh(Date.parse(event.created_at))) throw new HttpError('stale_event', 'The event is too old.');
      // Only a device's answer to its settings command changes anything; the rest (check-ins, a device polling) is
      // acknowledged without a write, so a busy fleet's idle connections cost the database nothing.
      const ack = event.acknowledge_event;
      if (event.topic !== 'mdm.Connect' || !ack?.command_uuid) return;
      if (ack.status !== 'Acknowledged' && ack.status !== 'Error') return;
      const parsed = secrets.parseEnrolmentId(String(ack.url_params?.enrolment ?? ''));
      if (!parsed) return;
      const enrolmentId = secrets.enrolmentId(parsed.deviceId, parsed.linkNumber);
      if (ack.command_uuid !== commandUuid('install-settings', enrolmentId)) return;
      await takeOnce(models, (event.event_id ?? createHash('sha256').update(input.body).digest('hex')).slice(0, 128));
      const errorChain = ack.status === 'Error' ? errorChainOf(ack.raw_payload) : undefined;
      try {
        await client.workflow
          .getHandle(managedDeviceWorkflowId(parsed.deviceId))
          .signal(settingsResultSignal, { commandUuid: ack.command_uuid, status: ack.status, errorChain });
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
        await recordSettingsOutcome(models, {
          ...parsed,
          status: ack.status === 'Acknowledged' ? 'applied' : 'failed',
          detail: errorChain,
        });
      }
    },
  };
}

export type AppleEnrolment = ReturnType<typeof createAppleEnrolment>;

/** The workflow is there but refused for a reason of its own (it has ended its managing). */
const isRefusedByWorkflow = (error: unknown) => error instanceof WorkflowUpdateFailedError && Boolean(error.cause);

const bearerMatches = (authorization: string | undefined, key: string) =>
  stringsMatch(authorization ?? '', `Bearer ${key}`);

/** A device's message: a property list naming the device's UDID. */
function parseDeviceMessage(body: Buffer, what: string): Record<string, unknown> {
  let message: unknown;
  try {
    message = plist.parse(body.toString('utf8'));
  } catch {
    throw new HttpError('invalid_request', `The ${what} is not a property list.`);
  }
  const { UDID } = (message ?? {}) as Record<string, unknown>;
  if (typeof UDID !== 'string' || UDID.length === 0 || UDID.length > 100) {
    throw new HttpError('invalid_request', `The ${what} needs the device’s UDID.`);
  }
  return message as Record<string, unknown>;
}

/** A check-in message: a property list with a MessageType and the device's UDID. */
function parseMessage(body: Buffer): Record<string, unknown> {
  const message = parseDeviceMessage(body, 'check-in');
  if (typeof message.MessageType !== 'string') {
    throw new HttpError('invalid_request', 'The check-in needs a MessageType and the device’s UDID.');
  }
  return message;
}

/** The UDID a device's command-channel message (a status report) names. */
const udidOf = (body: Buffer) => String(parseDeviceMessage(body, 'report').UDID);

interface WebhookEvent {
  topic: string;
  event_id?: string;
  created_at: string;
  acknowledge_event?: {
    status?: string;
    command_uuid?: string;
    url_params?: Record<string, string>;
    raw_payload?: string;
  };
}

function parseEvent(body: Buffer): WebhookEvent {
  try {
    const event = JSON.parse(body.toString('utf8')) as WebhookEvent;
    if (typeof event.topic === 'string' && typeof event.created_at === 'string') return event;
  } catch {
    // answered below
  }
  throw new HttpError('invalid_request', 'The webhook call is not a NanoMDM event.');
}

/** Apple's ErrorChain from the device's report (the raw property list NanoMDM passes on, base64). */
function errorChainOf(rawPayload: string | undefined): unknown[] | undefined {
  if (!rawPayload) return undefined;
  try {
    const report = plist.parse(Buffer.from(rawPayload, 'base64').toString('utf8')) as { ErrorChain?: unknown };
    return Array.isArray(report.ErrorChain) ? report.ErrorChain : undefined;
  } catch {
    return undefined;
  }
}
