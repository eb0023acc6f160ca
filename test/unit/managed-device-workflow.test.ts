import { randomUUID } from 'node:crypto';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { expect } from 'chai';
import type { Activities } from '../../activities';
import { managedDeviceWorkflowId } from '../../domain/ids';
import { deviceStateQuery, removeDeviceUpdate } from '../../workflows/device/messages';
import { checkOutUpdate, settingsResultSignal } from '../../workflows/managed-device/messages';
import type { managedDevice } from '../../workflows/managed-device/workflow';
import { sleep } from '../support/eventually';
import { argsOf, called, type Lane, refusalOf, uniqueAddress, withStubbedActivities } from './support/workflows';

/** workflows/managed-device: an Apple device's life under management on its own, with every activity stubbed. */

const COMMAND = 'install-settings-command-uuid';

const stubs = (): Partial<Activities> => ({
  installSettings: async () => ({ commandUuid: COMMAND }),
  recordSettingsOutcome: async () => undefined,
  removeDevice: async () => undefined,
  removeEnrolment: async () => undefined,
  markUnenrolled: async () => undefined,
});

function withManagedDevice(
  settingsTimeoutMs: number,
  test: (
    run: Lane & { enrolment: { deviceId: string; linkNumber: number } } & {
      handle: WorkflowHandleWithFirstExecutionRunId<typeof managedDevice>;
    },
  ) => Promise<void>,
) {
  return withStubbedActivities(stubs(), async (lane) => {
    const enrolment = { deviceId: randomUUID(), linkNumber: 1 };
    const handle = await lane.client.workflow.start<typeof managedDevice>('managedDevice', {
      taskQueue: lane.taskQueue,
      workflowId: managedDeviceWorkflowId(enrolment.deviceId),
      args: [{ organisation: 'unit-co', email: uniqueAddress('managed'), ...enrolment, settingsTimeoutMs }],
    });
    await test({ ...lane, enrolment, handle });
  });
}

describe('the managed-device workflow', () => {
  it('queues the settings, records the answer, and on removal sends RemoveProfile and takes the check-out', () =>
    withManagedDevice(5_000, async ({ enrolment, handle, calls }) => {
      expect(await called(calls, 'installSettings')).to.deep.equal([enrolment]);
      const errorChain = [{ ErrorCode: 4001, ErrorDomain: 'MCProfileErrorDomain' }];
      await handle.signal(settingsResultSignal, { commandUuid: COMMAND, status: 'Error', errorChain });
      expect(await called(calls, 'recordSettingsOutcome')).to.deep.equal([
        { ...enrolment, status: 'failed', errorChain },
      ]);
      expect(await handle.query(deviceStateQuery)).to.equal('enrolled');

      expect(await handle.executeUpdate(removeDeviceUpdate, { args: [{ by: 'operator@example.com' }] })).to.deep.equal({
        state: 'removed',
      });
      expect(argsOf(calls, 'removeDevice')).to.deep.equal([{ deviceId: enrolment.deviceId }]);
      // RemoveProfile goes to the device once the owner has had the answer.
      expect(await called(calls, 'removeEnrolment')).to.deep.equal([enrolment]);
      expect(await refusalOf(handle.executeUpdate(removeDeviceUpdate, { args: [{}] }))).to.include({
        code: 'device_not_found',
      });

      expect(await handle.executeUpdate(checkOutUpdate)).to.deep.equal({ state: 'removed' });
      expect(await handle.result()).to.deep.equal({ state: 'removed' });
      expect(calls.map((call) => call.name)).to.deep.equal([
        'installSettings',
        'recordSettingsOutcome',
        'removeDevice',
        'removeEnrolment',
        'markUnenrolled',
      ]);
      expect(argsOf(calls, 'markUnenrolled')).to.deep.equal([enrolment]);
    }));

  it('keeps waiting for an answer past its timeout, and ends unenrolled when the device checks out by itself', () =>
    withManagedDevice(300, async ({ enrolment, handle, calls }) => {
      await called(calls, 'installSettings');
      await sleep(600);
      expect(argsOf(calls, 'recordSettingsOutcome'), 'nothing recorded without an answer').to.deep.equal([]);
      await handle.signal(settingsResultSignal, { commandUuid: COMMAND, status: 'Acknowledged' });
      expect(await called(calls, 'recordSettingsOutcome')).to.deep.equal([{ ...enrolment, status: 'applied' }]);

      expect(await handle.executeUpdate(checkOutUpdate)).to.deep.equal({ state: 'unenrolled' });
      expect(await handle.result()).to.deep.equal({ state: 'unenrolled' });
      expect(argsOf(calls, 'removeEnrolment'), 'no RemoveProfile for a device that left').to.deep.equal([]);
      expect(argsOf(calls, 'removeDevice')).to.deep.equal([]);
    }));

  it('ends after RemoveProfile when the device does not check out in time', () =>
    withManagedDevice(500, async ({ handle, calls }) => {
      await called(calls, 'installSettings');
      expect(await handle.executeUpdate(removeDeviceUpdate, { args: [{}] })).to.deep.equal({ state: 'removed' });
      expect(await handle.result()).to.deep.equal({ state: 'removed' });
      expect(calls.map((call) => call.name)).to.deep.equal(['installSettings', 'removeDevice', 'removeEnrolment']);
    }));
});
