import { ApplicationFailure } from '@temporalio/common';
import {
  allHandlersFinished,
  condition,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  startChild,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { Actor } from '../../domain/actor';
import { domainError, unwrapDomainError } from '../../domain/errors';
import { managedDeviceWorkflowId } from '../../domain/ids';
import type { DeviceState, SmsState } from '../../domain/platform';
import { searchAttributesOf } from '../../domain/search-attributes';
import { DEFAULT_SETTINGS_TIMEOUT_MS } from '../../domain/timings';
import { traitsOf } from '../../platforms/traits';
import { mailedCodes } from '../codes';
import { managedDevice } from '../managed-device/workflow';
import { stepActivities } from '../util';
import {
  checkInUpdate,
  type DeviceInput,
  type DeviceOutcome,
  deviceLinkUpdate,
  deviceStateQuery,
  provePhoneUpdate,
  removeDeviceUpdate,
  smsStateQuery,
} from './messages';

const steps = () => stepActivities<Activities>();
/** Runs before Apple MDM ended at enrolment for every platform; they replay on that path. */
export const APPLE_MDM_PATCH = 'apple-mdm-v1';
const { sendProvisioningSms, sendPhoneCode, sendEnrolledMail } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m', nonRetryableErrorTypes: ['invalid_phone'] },
});

/**
 * One device's provisioning link, for the first device of a registration (started by it as a child) and for every
 * device a signed-in owner adds or relinks (started on its own, making its record first): the single-use link is
 * issued (and for Android sent by SMS), the owner is reminded once before it expires, and then the device checks in,
 * the owner removes it, or the link dies. Check-in and removal are updates, so racing requests get one winner.
 *
 * Runs started before reminders and owner-started runs carry neither `reminderBeforeMs` nor `record` in their input,
 * so their histories replay on exactly the path they took (test/histories/before-returning-owners/).
 */
export async function device(input: DeviceInput): Promise<DeviceOutcome> {
  const { email, device, smsPhone, record } = input;
  let state = 'link-issued' as DeviceState;
  let deviceName = input.deviceName;
  let refusal: unknown;
  /** What is writing the record right now: a racing check-in or removal waits or is refused. */
  let writing: 'check-in' | 'removal' | undefined;
  /** Where the SMS stands; a number not proven for the account is sent a code first (`phoneCode`). */
  let sms: SmsState | undefined;
  let phoneCodes: ReturnType<typeof mailedCodes> | undefined;
  /** A typed code is being checked: a second one at once waits its turn rather than racing it. */
  let proving = false;

  const sendLinkBySms = (phone: string) => {
    sms = 'link-sent';
    // In the background: an SMS outage must not hold up the link the owner already has on screen.
    void sendProvisioningSms({ deviceId: device.id, linkNumber: device.linkNumber, phone }).catch((error) =>
      log.warn('provisioning SMS not sent', { error: String(error) }),
    );
  };

  const writingRecord = async <T>(what: typeof writing, work: () => Promise<T>): Promise<T> => {
    writing = what;
    try {
      return await work();
    } catch (error) {
      throw unwrapDomainError(error);
    } finally {
      writing = undefined;
    }
  };

  setHandler(
    checkInUpdate,
    ({ deviceInfo }) =>
      writingRecord('check-in', async () => {
        await steps().markEnrolled({ deviceId: device.id, linkNumber: device.linkNumber, deviceInfo });
        state = 'enrolled';
        return { state };
      }),
    {
      validator: (_checkIn) => {
        if (writing === 'check-in' || state === 'enrolled')
          throw domainError('link_used', 'This provisioning link has already been used.');
        if (state !== 'link-issued' || writing === 'removal' || deviceName === undefined)
          throw domainError('link_expired', 'This provisioning link has expired.');
      },
    },
  );

  setHandler(
    removeDeviceUpdate,
    // Who removed it is the update's argument, in the history; an owner's removal names no one.
    async (request?: Partial<Actor>) => {
      log.info('device removed', { by: request?.by ?? 'its owner' });
      await condition(() => writing === undefined);
      return writingRecord('removal', async () => {
        await steps().removeDevice({ deviceId: device.id });
        state = 'removed';
        return { state };
      });
    },
    {
      validator: (_request?: Partial<Actor>) => {
        if (state === 'removed' || refusal !== undefined)
          throw domainError('device_not_found', 'There is no such device.');
        if (deviceName === undefined || writing === 'removal')
          throw domainError('busy', 'This device is still being set up; try again.');
      },
    },
  );

  setHandler(deviceLinkUpdate, async () => {
    await condition(() => deviceName !== undefined || refusal !== undefined);
    if (refusal !== undefined) throw refusal;
    return { device, deviceName: deviceName as string };
  });
  setHandler(deviceStateQuery, () => state);

  setHandler(
    provePhoneUpdate,
    async ({ codeHash }) => {
      proving = true;
      try {
        await (phoneCodes as ReturnType<typeof mailedCodes>).check(codeHash, true).catch((error: unknown) => {
          throw asPhoneCodeRefusal(error);
        });
        await steps().provePhone({ deviceId: device.id, phone: smsPhone as string });
        sendLinkBySms(smsPhone as string);
        return { sms: 'link-sent' as const };
      } catch (error) {
        throw unwrapDomainError(error);
      } finally {
        proving = false;
      }
    },
    {
      validator: (_proof) => {
        if (state !== 'link-issued' || sms !== 'code-sent' || !phoneCodes) {
          throw domainError('wrong_step', 'No phone number of this device is waiting for its code.');
        }
        if (proving) throw domainError('busy', 'A code for this device is being checked; try again.');
        try {
          phoneCodes.assertCheckable();
        } catch (error) {
          throw asPhoneCodeRefusal(error);
        }
      },
    },
  );
  setHandler(smsStateQuery, () => sms);

  if (record) {
    try {
      const made =
        record.kind === 'create'
          ? await steps().createDevice({ organisation: input.organisation, userId: record.userId, device })
          : await steps().renewLink({ organisation: input.organisation, device });
      deviceName = made.name;
    } catch (error) {
      refusal = unwrapDomainError(error);
      await condition(allHandlersFinished);
      return { state: 'refused' };
    }
  }

  // No patch: runs from before phone numbers were proven have no `phoneCode` in their input, so they replay on the
  // link's path by themselves.
  if (smsPhone && input.phoneCode) {
    // A number nobody has proven for this account gets no link under the organisation's name, only a code: the owner
    // types it where they asked for the device, and the link follows.
    sms = 'code-sent';
    phoneCodes = mailedCodes(input.phoneCode, (codeNumber) =>
      sendPhoneCode({ deviceId: device.id, phone: smsPhone, codeNumber }),
    );
    phoneCodes.issue();
  } else if (smsPhone) {
    sendLinkBySms(smsPhone);
  }

  const settled = () => state !== 'link-issued';
  const expiresAt = Date.parse(device.expiresAt);
  const msUntil = (at: number) => Math.max(at - Date.now(), 1);
  if (input.reminderBeforeMs !== undefined) {
    // Halfway through a link shorter than the reminder lead, so the owner still has time to act on it.
    const remindAt = Math.max(expiresAt - input.reminderBeforeMs, Date.now() + (expiresAt - Date.now()) / 2);
    if (!(await condition(settled, msUntil(remindAt)))) remindInBackground(input, deviceName as string, expiresAt);
  }

  const settledInTime = await condition(settled, msUntil(expiresAt));
  if (!settledInTime) await condition(() => writing === undefined);
  if (state === 'enrolled') {
    await sendEnrolledMail({ email, deviceId: device.id, deviceName: deviceName as string });
    if (traitsOf(device.platform).mdmManaged && patched(APPLE_MDM_PATCH)) {
      // The device's life under management outlives this link's run (and the registration waiting for it).
      await startChild(managedDevice, {
        workflowId: managedDeviceWorkflowId(device.id),
        args: [
          {
            organisation: input.organisation,
            email,
            deviceId: device.id,
            linkNumber: device.linkNumber,
            settingsTimeoutMs: input.settingsTimeoutMs ?? DEFAULT_SETTINGS_TIMEOUT_MS,
          },
        ],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        typedSearchAttributes: searchAttributesOf(input.organisation, email, 'done'),
      });
    }
  } else if (state === 'link-issued') {
    state = 'link-expired';
    await steps().expireLink({ deviceId: device.id, linkNumber: device.linkNumber });
  }
  await condition(allHandlersFinished);
  return { state };
}

/**
 * The code rules' refusals of a spent or expired code say to ask for a new one; a phone's code has no resend, and the
 * link on the owner's screen works anyway, so they say that instead.
 */
function asPhoneCodeRefusal(error: unknown): unknown {
  if (!(error instanceof ApplicationFailure) || (error.type !== 'code_expired' && error.type !== 'too_many_attempts')) {
    return error;
  }
  return domainError(
    error.type,
    'This code can no longer be used. The link on this page still works; to get it by SMS, remove the device and add it again.',
  );
}

/**
 * The one reminder e-mail, retried through a mail outage but only until the link expires: a reminder after the fact
 * would only confuse. The expiry does not wait for it.
 */
function remindInBackground({ organisation, email, device }: DeviceInput, deviceName: string, expiresAt: number) {
  const { sendLinkReminder } = proxyActivities<Activities>({
    startToCloseTimeout: '30s',
    scheduleToCloseTimeout: Math.max(expiresAt - Date.now(), 1_000),
    retry: { initialInterval: '1s', maximumInterval: '1m' },
  });
  void sendLinkReminder({
    organisation,
    email,
    deviceId: device.id,
    linkNumber: device.linkNumber,
    deviceName,
    expiresAt: device.expiresAt,
  }).catch((error) => log.warn('link reminder not sent', { error: String(error) }));
}
