import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { expect } from 'chai';
import type { Activities } from '../../activities';
import { deviceWorkflowId, registrationWorkflowId } from '../../domain/ids';
import { REGISTRATION_REACHED, REGISTRATION_STEP } from '../../domain/search-attributes';
import type { FlowTimings } from '../../domain/timings';
import { checkInUpdate, deviceStateQuery } from '../../workflows/device/messages';
import {
  chooseDeviceUpdate,
  endRegistrationUpdate,
  profileUpdate,
  registerUpdate,
  resendUpdate,
  sendNewCodeUpdate,
  statusQuery,
  verifyByLinkUpdate,
  verifyUpdate,
} from '../../workflows/registration/messages';
import type { registration } from '../../workflows/registration/workflow';
import { eventually, sleep } from '../support/eventually';
import {
  argsOf,
  called,
  type Lane,
  refusalOf,
  TIMINGS,
  uniqueAddress,
  withStubbedActivities,
} from './support/workflows';

/** workflows/registration: its steps, timers and refusals, on its own, with every activity stubbed. */

const ORG = 'unit-co';
const BROWSER = { tokenHash: 'browser-token-hash' };
const PROFILE = { firstName: 'Ada', lastName: 'Lovelace', passwordHash: 'argon2-hash' };

/** The activities a registration and its first device's run call: the n-th code's hash is `code-<n>`. */
const stubs = (): Partial<Activities> => ({
  sendVerificationCode: async ({ codeNumber }) => ({ codeHash: `code-${codeNumber}`, linkHash: `link-${codeNumber}` }),
  createAccount: async () => ({ userId: 41 }),
  createDevice: async () => ({ name: 'Windows PC' }),
  expireLink: async () => undefined,
  markEnrolled: async () => undefined,
  sendEnrolledMail: async () => undefined,
  sendLinkReminder: async () => undefined,
});

/** A registration of a new address, started with these timings over the stubs above. */
function withRegistration(
  timings: Partial<FlowTimings>,
  test: (
    run: Lane & { email: string; handle: WorkflowHandleWithFirstExecutionRunId<typeof registration> },
  ) => Promise<void>,
) {
  return withStubbedActivities(stubs(), async (lane) => {
    const email = uniqueAddress('registration');
    const handle = await lane.client.workflow.start<typeof registration>('registration', {
      taskQueue: lane.taskQueue,
      workflowId: registrationWorkflowId(ORG, email),
      args: [{ organisation: ORG, email, timings: { ...TIMINGS, ...timings } }],
    });
    await test({ ...lane, email, handle });
  });
}

describe('the registration workflow', () => {
  it('goes register → verify → profile → device, runs the device as its child, and is done when it checks in', () =>
    withRegistration({}, async ({ email, handle, calls, client }) => {
      expect(await handle.executeUpdate(registerUpdate, { args: [BROWSER] })).to.deep.equal({ step: 'verify-email' });
      expect(await called(calls, 'sendVerificationCode')).to.deep.equal([{ email, codeNumber: 1, codeTtlMinutes: 1 }]);

      const verified = await handle.executeUpdate(verifyUpdate, { args: [{ ...BROWSER, codeHash: 'code-1' }] });
      expect(verified).to.deep.equal({ step: 'profile' });
      expect(await handle.executeUpdate(profileUpdate, { args: [{ ...BROWSER, ...PROFILE }] })).to.deep.equal({
        step: 'device',
      });
      expect(argsOf(calls, 'createAccount')).to.deep.equal([{ organisation: ORG, email, ...PROFILE }]);

      const { device } = await handle.executeUpdate(chooseDeviceUpdate, {
        args: [{ ...BROWSER, platform: 'windows' }],
      });
      expect(device).to.include({ platform: 'windows', linkNumber: 1 });
      expect(Date.parse(device.expiresAt) - Date.now()).to.be.within(50_000, 60_000);
      expect(argsOf(calls, 'createDevice')).to.deep.equal([{ organisation: ORG, userId: 41, device }]);
      const status = await handle.query(statusQuery, BROWSER);
      expect(status).to.deep.equal({
        ok: true,
        registration: { step: 'provision', organisation: ORG, email, devices: [{ ...device, state: 'link-issued' }] },
      });

      // The device's run is the registration's child, under the device's id.
      const child = client.workflow.getHandle(deviceWorkflowId(device.id));
      expect((await child.describe()).parentExecution?.workflowId).to.equal(handle.workflowId);
      expect(await child.query(deviceStateQuery)).to.equal('link-issued');
      const deviceInfo = { model: 'Surface Laptop' };
      expect(await child.executeUpdate(checkInUpdate, { args: [{ deviceInfo }] })).to.deep.equal({ state: 'enrolled' });

      expect(await handle.result()).to.deep.equal({ step: 'done' });
      expect(await child.result()).to.deep.equal({ state: 'enrolled' });
      expect(argsOf(calls, 'markEnrolled')).to.deep.equal([{ deviceId: device.id, linkNumber: 1, deviceInfo }]);
      expect(argsOf(calls, 'sendEnrolledMail')).to.deep.equal([
        { email, deviceId: device.id, deviceName: 'Windows PC' },
      ]);
      expect(calls.map((call) => call.name)).to.deep.equal([
        'sendVerificationCode',
        'createAccount',
        'createDevice',
        'markEnrolled',
        'sendEnrolledMail',
      ]);
      const { typedSearchAttributes } = await handle.describe();
      expect([
        typedSearchAttributes.get(REGISTRATION_STEP),
        typedSearchAttributes.get(REGISTRATION_REACHED),
      ]).to.deep.equal(['done', 'done']);
    }));

  it('refuses steps out of order and unknown browsers, and a spent link does not verify twice', () =>
    withRegistration({}, async ({ handle, calls }) => {
      expect(await refusalOf(handle.executeUpdate(verifyUpdate, { args: [{ ...BROWSER, codeHash: 'code-1' }] })))
        .to.have.property('code')
        .that.equals('unauthorized');
      await handle.executeUpdate(registerUpdate, { args: [BROWSER] });
      expect(await refusalOf(handle.executeUpdate(profileUpdate, { args: [{ ...BROWSER, ...PROFILE }] }))).to.include({
        code: 'wrong_step',
        message: 'Verify your e-mail address first.',
      });
      expect(await handle.query(statusQuery, { tokenHash: 'a stranger' })).to.deep.equal({
        ok: false,
        code: 'unauthorized',
      });
      await called(calls, 'sendVerificationCode');

      // The mailed link verifies another browser once; the first browser still has to verify itself.
      const other = { tokenHash: 'the mailbox owner’s phone' };
      expect(
        await handle.executeUpdate(verifyByLinkUpdate, { args: [{ ...other, linkHash: 'link-1' }] }),
      ).to.deep.equal({
        step: 'profile',
        codeSent: false,
      });
      expect(await handle.query(statusQuery, BROWSER)).to.have.nested.property('registration.step', 'verify-email');
      expect(await refusalOf(handle.executeUpdate(verifyByLinkUpdate, { args: [{ ...BROWSER, linkHash: 'nope' }] })))
        .to.have.property('code')
        .that.equals('unauthorized');
      // Spent, the link brings the first browser a fresh code instead of verifying it.
      expect(
        await handle.executeUpdate(verifyByLinkUpdate, { args: [{ ...BROWSER, linkHash: 'link-1' }] }),
      ).to.deep.equal({
        step: 'verify-email',
        codeSent: true,
      });
      expect(await called(calls, 'sendVerificationCode', 2)).to.have.nested.property('[1].codeNumber', 2);
    }));

  it('counts wrong codes and refuses every code, the right one too, once they are used up', () =>
    withRegistration({}, async ({ handle, calls }) => {
      await handle.executeUpdate(registerUpdate, { args: [BROWSER] });
      const verify = (codeHash: string) => handle.executeUpdate(verifyUpdate, { args: [{ ...BROWSER, codeHash }] });
      expect(await refusalOf(verify('wrong'))).to.include({
        code: 'invalid_code',
        message: 'That code is not right. 2 attempts left.',
      });
      expect(await refusalOf(verify('wrong'))).to.include({ message: 'That code is not right. 1 attempt left.' });
      expect(await refusalOf(verify('wrong'))).to.include({ code: 'too_many_attempts' });
      expect(await refusalOf(verify('code-1'))).to.include({
        code: 'too_many_attempts',
        message: 'Too many wrong codes. Ask for a new code.',
      });
      expect(await handle.query(statusQuery, BROWSER)).to.have.nested.property('registration.step', 'verify-email');
      expect(argsOf(calls, 'sendVerificationCode')).to.have.length(1);
    }));

  it('sends a new code only after the resend interval and up to the limit; the new code replaces the old', () =>
    withRegistration({ resendIntervalMs: 800, maxResends: 1 }, async ({ handle, calls }) => {
      await handle.executeUpdate(registerUpdate, { args: [BROWSER] });
      const resend = () => handle.executeUpdate(resendUpdate, { args: [BROWSER] });
      expect(await refusalOf(resend())).to.deep.include({
        code: 'too_many_attempts',
        message: 'A code was sent a moment ago. Wait before asking for another.',
        details: [{ retryAfterSeconds: 1 }],
      });
      await sleep(900);
      expect(await resend()).to.deep.equal({ step: 'verify-email' });
      expect(
        (await called(calls, 'sendVerificationCode', 2)).map((args) => (args as { codeNumber: number }).codeNumber),
      ).to.deep.equal([1, 2]);
      await sleep(900);
      expect(await refusalOf(resend())).to.include({
        code: 'too_many_attempts',
        message: 'No more codes can be sent for this address. Start again later.',
      });

      expect(await refusalOf(handle.executeUpdate(verifyUpdate, { args: [{ ...BROWSER, codeHash: 'code-1' }] })))
        .to.have.property('code')
        .that.equals('invalid_code');
      expect(await handle.executeUpdate(verifyUpdate, { args: [{ ...BROWSER, codeHash: 'code-2' }] })).to.deep.equal({
        step: 'profile',
      });
    }));

  it("takes an operator's new code without the wait, and an operator's end while a link is out kills the link", () =>
    withRegistration({}, async ({ handle, calls, client }) => {
      const operator = { by: 'supervisor@example.com' };
      await handle.executeUpdate(registerUpdate, { args: [BROWSER] });
      expect(await handle.executeUpdate(sendNewCodeUpdate, { args: [operator] })).to.deep.equal({
        step: 'verify-email',
      });
      await called(calls, 'sendVerificationCode', 2);
      await handle.executeUpdate(verifyUpdate, { args: [{ ...BROWSER, codeHash: 'code-2' }] });
      expect(await refusalOf(handle.executeUpdate(sendNewCodeUpdate, { args: [operator] }))).to.include({
        code: 'wrong_step',
      });
      await handle.executeUpdate(profileUpdate, { args: [{ ...BROWSER, ...PROFILE }] });
      const { device } = await handle.executeUpdate(chooseDeviceUpdate, {
        args: [{ ...BROWSER, platform: 'windows' }],
      });

      expect(await handle.executeUpdate(endRegistrationUpdate, { args: [operator] })).to.deep.equal({
        step: 'expired',
      });
      expect(argsOf(calls, 'expireLink')).to.deep.equal([{ deviceId: device.id, linkNumber: 1 }]);
      expect(await handle.result()).to.deep.equal({ step: 'expired' });
      // The device's run, a child, ends with the registration.
      const child = await eventually(
        () => client.workflow.getHandle(deviceWorkflowId(device.id)).describe(),
        ({ status }) => status.name !== 'RUNNING',
      );
      expect(child.status.name).to.equal('TERMINATED');
    }));

  it('expires when left alone, its step searchable as expired', () =>
    withRegistration({ registrationTtlMs: 1_200 }, async ({ handle }) => {
      const started = Date.now();
      await handle.executeUpdate(registerUpdate, { args: [BROWSER] });
      expect(await handle.result()).to.deep.equal({ step: 'expired' });
      expect(Date.now() - started).to.be.at.least(1_000);
      expect((await handle.describe()).typedSearchAttributes.get(REGISTRATION_STEP)).to.equal('expired');
      expect(await handle.query(statusQuery, BROWSER)).to.have.nested.property('registration.step', 'expired');
    }));

  it('sends the owner back to choose a device when the link expires unused', () =>
    withRegistration({ linkTtlMs: 1_000 }, async ({ email, handle, calls }) => {
      await handle.executeUpdate(registerUpdate, { args: [BROWSER] });
      await handle.executeUpdate(verifyUpdate, { args: [{ ...BROWSER, codeHash: 'code-1' }] });
      await handle.executeUpdate(profileUpdate, { args: [{ ...BROWSER, ...PROFILE }] });
      const { device } = await handle.executeUpdate(chooseDeviceUpdate, {
        args: [{ ...BROWSER, platform: 'windows' }],
      });

      const [expired] = await called(calls, 'expireLink');
      expect(expired).to.deep.equal({ deviceId: device.id, linkNumber: 1 });
      // The child's end reaches the registration a moment later.
      const back = await eventually(
        () => handle.query(statusQuery, BROWSER),
        (status) => status.ok && status.registration.step === 'device',
      );
      expect(back).to.deep.equal({
        ok: true,
        registration: { step: 'device', organisation: ORG, email, devices: [{ ...device, state: 'link-expired' }] },
      });
      expect(argsOf(calls, 'markEnrolled')).to.deep.equal([]);
    }));
});
