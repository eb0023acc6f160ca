import { allHandlersFinished, condition, log, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { Actor } from '../../domain/actor';
import { domainError, unwrapDomainError } from '../../domain/errors';
import { type DeviceOutcome, deviceStateQuery, removeDeviceUpdate } from '../device/messages';
import { checkOutUpdate, type ManagedDeviceInput, type SettingsResult, settingsResultSignal } from './messages';

/** NanoMDM's API and the records: retried until they take it, however long NanoMDM is down. */
const mdm = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

/**
 * An Apple device's life under management, from its enrolment (started by the device's link run, which then ends) to
 * its end: the device template's settings go to the device (InstallProfile through NanoMDM) and its answer is
 * recorded whenever it comes; then the run waits for the device to leave — removed by its owner or an operator (which
 * sends RemoveProfile), or its management profile removed on the device (CheckOut). A run an operator ended is taken
 * over by a new one when the device is removed (`takeOver`), so RemoveProfile is still sent.
 */
export async function managedDevice(input: ManagedDeviceInput): Promise<DeviceOutcome> {
  const enrolment = { deviceId: input.deviceId, linkNumber: input.linkNumber };
  const timeoutMs = input.settingsTimeoutMs;
  let state = 'enrolled' as 'enrolled' | 'removed' | 'unenrolled';
  let writing = false;
  let checkedOut = false;
  let settingsResult: SettingsResult | undefined;
  /** Removed while enrolled: the device is told to let go after the owner has had the answer, however long NanoMDM takes. */
  let unenrol = false;

  /** One record change at a time, in the order asked. */
  const oneAtATime = async <T>(work: () => Promise<T>): Promise<T> => {
    await condition(() => !writing);
    writing = true;
    try {
      return await work();
    } catch (error) {
      throw unwrapDomainError(error);
    } finally {
      writing = false;
    }
  };

  setHandler(deviceStateQuery, () => state);
  setHandler(settingsResultSignal, (result) => {
    settingsResult ??= result;
  });
  setHandler(
    removeDeviceUpdate,
    // Who removed it is the update's argument, in the history; an owner's removal names no one.
    (request?: Partial<Actor>) =>
      oneAtATime(async () => {
        if (state === 'removed') return { state };
        log.info('device removed', { by: request?.by ?? 'its owner' });
        unenrol = state === 'enrolled';
        await mdm.removeDevice({ deviceId: input.deviceId });
        state = 'removed';
        return { state };
      }),
    {
      validator: (_request?: Partial<Actor>) => {
        if (state === 'removed') throw domainError('device_not_found', 'There is no such device.');
      },
    },
  );
  setHandler(
    checkOutUpdate,
    () =>
      oneAtATime(async () => {
        await mdm.markUnenrolled(enrolment);
        checkedOut = true;
        if (state === 'enrolled') state = 'unenrolled';
        return { state };
      }),
    {
      validator: () => {
        if (checkedOut) throw domainError('wrong_step', 'This device has already checked out.');
      },
    },
  );

  const { commandUuid } = input.takeOver ? {} : await mdm.installSettings(enrolment);
  if (commandUuid) {
    const answered = () => settingsResult?.commandUuid === commandUuid;
    if (!(await condition(() => answered() || state !== 'enrolled', timeoutMs))) {
      log.info('the device has not answered the settings command yet: they stay pending', { timeoutMs });
    }
    await condition(() => answered() || state !== 'enrolled');
    if (answered()) {
      const { status, errorChain } = settingsResult as SettingsResult;
      await mdm.recordSettingsOutcome({
        ...enrolment,
        status: status === 'Acknowledged' ? 'applied' : 'failed',
        errorChain,
      });
    }
  }
  await condition(() => state !== 'enrolled');
  if (unenrol) {
    await mdm.removeEnrolment(enrolment);
    // The device's check-out, once RemoveProfile reaches it, is recorded if it comes in time.
    await condition(() => checkedOut, timeoutMs);
  }
  await condition(allHandlersFinished);
  return { state };
}
