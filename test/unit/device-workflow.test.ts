import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { expect } from 'chai';
import type { Activities } from '../../activities';
import { domainError } from '../../domain/errors';
import { deviceWorkflowId, managedDeviceWorkflowId } from '../../domain/ids';
import type { IssuedDevice, Platform } from '../../domain/platform';
import { flowStart } from '../../services/flow-start';
import {
  checkInUpdate,
  type DeviceInput,
  deviceLinkUpdate,
  deviceStateQuery,
  provePhoneUpdate,
  removeDeviceUpdate,
  smsStateQuery,
} from '../../workflows/device/messages';
import type { device as deviceWorkflow } from '../../workflows/device/workflow';
import { argsOf, called, type Lane, refusalOf, uniqueAddress, withStubbedActivities } from './support/workflows';

/** workflows/device: one device's link on its own (as a signed-in owner's new device), with every activity stubbed. */

const ORG = 'unit-co';
const PHONE = '+15005550006';

const stubs = (): Partial<Activities> => ({
  createDevice: async () => ({ name: 'New phone' }),
  renewLink: async () => ({ name: 'Old phone' }),
  sendLinkReminder: async () => undefined,
  expireLink: async () => undefined,
  markEnrolled: async () => undefined,
  sendEnrolledMail: async () => undefined,
  removeDevice: async () => undefined,
  sendPhoneCode: async ({ codeNumber }) => ({ codeHash: `phone-code-${codeNumber}` }),
  provePhone: async () => undefined,
  sendProvisioningSms: async () => undefined,
  installSettings: async () => ({ commandUuid: 'settings-command' }),
});

const issued = (platform: Platform, linkTtlMs: number): IssuedDevice => ({
  id: randomUUID(),
  platform,
  linkNumber: 1,
  expiresAt: new Date(Date.now() + linkTtlMs).toISOString(),
});

interface DeviceRun extends Lane {
  email: string;
  handle: WorkflowHandle<typeof deviceWorkflow>;
  /** The run is started as the API starts an owner's device, by update-with-start of `link`: that update's answer. */
  linked: Promise<{ device: IssuedDevice; deviceName: string }>;
}

/** A device run started with this input (and an address of its own), with the given stubs. */
function withDeviceRun(
  input: Omit<DeviceInput, 'organisation' | 'email'>,
  test: (run: DeviceRun) => Promise<void>,
  overrides: Partial<Activities> = {},
) {
  return withStubbedActivities({ ...stubs(), ...overrides }, async (lane) => {
    const email = uniqueAddress('device');
    const start = flowStart<typeof deviceWorkflow>(lane.taskQueue, 'device', {
      workflowId: deviceWorkflowId(input.device.id),
      args: [{ organisation: ORG, email, ...input }],
      organisation: ORG,
      email,
      step: 'provision',
      conflict: 'FAIL',
    });
    const linked = lane.client.workflow.executeUpdateWithStart(deviceLinkUpdate, { startWorkflowOperation: start });
    // Awaited by the tests that look at it; a refusal there is the test's to see, not an unhandled rejection.
    linked.catch(() => undefined);
    await test({ ...lane, email, handle: await start.workflowHandle(), linked });
  });
}

describe('the device workflow', () => {
  it('makes its record, answers the link, reminds the owner once, and expires the link unused', () => {
    const device = issued('windows', 1_500);
    return withDeviceRun(
      { device, record: { kind: 'create', userId: 7 }, reminderBeforeMs: 1_000 },
      async ({ email, handle, calls, linked }) => {
        expect(await linked).to.deep.equal({ device, deviceName: 'New phone' });
        expect(argsOf(calls, 'createDevice')).to.deep.equal([{ organisation: ORG, userId: 7, device }]);
        expect(await handle.result()).to.deep.equal({ state: 'link-expired' });
        expect(calls.map((call) => call.name)).to.deep.equal(['createDevice', 'sendLinkReminder', 'expireLink']);
        expect(argsOf(calls, 'sendLinkReminder')).to.deep.equal([
          {
            organisation: ORG,
            email,
            deviceId: device.id,
            linkNumber: 1,
            deviceName: 'New phone',
            expiresAt: device.expiresAt,
          },
        ]);
        expect(argsOf(calls, 'expireLink')).to.deep.equal([{ deviceId: device.id, linkNumber: 1 }]);
      },
    );
  });

  it('renews the record for a new link, and is checked in once: a second check-in is refused', () => {
    const device = { ...issued('windows', 60_000), linkNumber: 2 };
    // The enrolment mail waits for the test, so the run is still open for the second check-in.
    let mailed = () => {};
    const mailing = new Promise<void>((resolve) => {
      mailed = resolve;
    });
    return withDeviceRun(
      { device, record: { kind: 'relink' } },
      async ({ email, handle, calls, linked }) => {
        expect(await linked).to.deep.equal({ device, deviceName: 'Old phone' });
        expect(argsOf(calls, 'renewLink')).to.deep.equal([{ organisation: ORG, device }]);
        expect(await handle.executeUpdate(checkInUpdate, { args: [{}] })).to.deep.equal({ state: 'enrolled' });
        expect(await refusalOf(handle.executeUpdate(checkInUpdate, { args: [{}] }))).to.include({ code: 'link_used' });
        mailed();
        expect(await handle.result()).to.deep.equal({ state: 'enrolled' });
        expect(argsOf(calls, 'markEnrolled')).to.deep.equal([{ deviceId: device.id, linkNumber: 2 }]);
        expect(argsOf(calls, 'sendEnrolledMail')).to.deep.equal([
          { email, deviceId: device.id, deviceName: 'Old phone' },
        ]);
        expect(argsOf(calls, 'installSettings'), 'no MDM for Windows here').to.deep.equal([]);
      },
      { sendEnrolledMail: () => mailing },
    );
  });

  it('refuses the link when its record cannot be made, and ends', () =>
    withDeviceRun(
      { device: issued('windows', 60_000), record: { kind: 'create', userId: 7 } },
      async ({ handle, calls, linked }) => {
        expect(await refusalOf(linked)).to.include({
          code: 'device_limit_reached',
          message: 'You have reached the device limit.',
        });
        expect(await handle.result()).to.deep.equal({ state: 'refused' });
        expect(calls.map((call) => call.name)).to.deep.equal(['createDevice']);
      },
      {
        createDevice: async () => {
          throw domainError('device_limit_reached', 'You have reached the device limit.');
        },
      },
    ));

  it('is removed by its owner: the record goes and the link dies', () => {
    const device = issued('windows', 60_000);
    return withDeviceRun({ device, deviceName: 'Work PC' }, async ({ handle, calls }) => {
      expect(await handle.executeUpdate(removeDeviceUpdate, { args: [{}] })).to.deep.equal({ state: 'removed' });
      expect(await handle.result()).to.deep.equal({ state: 'removed' });
      expect(calls.map((call) => call.name)).to.deep.equal(['removeDevice']);
      expect(argsOf(calls, 'removeDevice')).to.deep.equal([{ deviceId: device.id }]);
    });
  });

  it('sends an unproven number a code first, counts wrong ones, and sends the link by SMS once it is typed', () => {
    const device = issued('android', 60_000);
    const phoneCode = { codeTtlMs: 60_000, maxCodeAttempts: 3, maxResends: 0, resendIntervalMs: 60_000 };
    return withDeviceRun({ device, deviceName: 'Pixel', smsPhone: PHONE, phoneCode }, async ({ handle, calls }) => {
      expect(await called(calls, 'sendPhoneCode')).to.deep.equal([
        { deviceId: device.id, phone: PHONE, codeNumber: 1 },
      ]);
      expect(await handle.query(smsStateQuery)).to.equal('code-sent');
      expect(await refusalOf(handle.executeUpdate(provePhoneUpdate, { args: [{ codeHash: 'wrong' }] }))).to.include({
        code: 'invalid_code',
        message: 'That code is not right. 2 attempts left.',
      });
      expect(argsOf(calls, 'sendProvisioningSms'), 'no link before the number is proven').to.deep.equal([]);

      const proven = await handle.executeUpdate(provePhoneUpdate, { args: [{ codeHash: 'phone-code-1' }] });
      expect(proven).to.deep.equal({ sms: 'link-sent' });
      expect(argsOf(calls, 'provePhone')).to.deep.equal([{ deviceId: device.id, phone: PHONE }]);
      expect(await called(calls, 'sendProvisioningSms')).to.deep.equal([
        { deviceId: device.id, linkNumber: 1, phone: PHONE },
      ]);
      expect(await handle.query(smsStateQuery)).to.equal('link-sent');
      expect(await refusalOf(handle.executeUpdate(provePhoneUpdate, { args: [{ codeHash: 'phone-code-1' }] })))
        .to.have.property('code')
        .that.equals('wrong_step');
    });
  });

  it('sends a proven number the link by SMS at once', () => {
    const device = issued('android', 60_000);
    return withDeviceRun({ device, deviceName: 'Pixel', smsPhone: PHONE }, async ({ handle, calls }) => {
      expect(await called(calls, 'sendProvisioningSms')).to.deep.equal([
        { deviceId: device.id, linkNumber: 1, phone: PHONE },
      ]);
      expect(await handle.query(smsStateQuery)).to.equal('link-sent');
      expect(argsOf(calls, 'sendPhoneCode')).to.deep.equal([]);
    });
  });

  it('hands an Apple device, once checked in, to its managed-device run', () => {
    const device = issued('ios', 60_000);
    return withDeviceRun(
      { device, deviceName: 'iPhone', settingsTimeoutMs: 5_000 },
      async ({ email, handle, calls, client }) => {
        expect(await handle.executeUpdate(checkInUpdate, { args: [{}] })).to.deep.equal({ state: 'enrolled' });
        expect(await handle.result()).to.deep.equal({ state: 'enrolled' });
        expect(await called(calls, 'installSettings')).to.deep.equal([{ deviceId: device.id, linkNumber: 1 }]);
        const managed = client.workflow.getHandle(managedDeviceWorkflowId(device.id));
        const { type, status } = await managed.describe();
        expect([type, status.name]).to.deep.equal(['managedDevice', 'RUNNING']);
        expect(await managed.query(deviceStateQuery)).to.equal('enrolled');
        expect(argsOf(calls, 'sendEnrolledMail')).to.deep.equal([{ email, deviceId: device.id, deviceName: 'iPhone' }]);
      },
    );
  });
});
