import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import {
  deviceWorkflowId,
  invitationWorkflowId,
  managedDeviceWorkflowId,
  passwordResetWorkflowId,
} from '../../domain/ids';
import { hashPassword } from '../../lib/secrets';
import { newTotpSecret } from '../../lib/totp';
import { createServices } from '../../services';
import { endRegistrationUpdate, sendNewCodeUpdate } from '../../workflows/registration/messages';
import { SimulatedAppleDevice } from './apple-device';
import {
  checkInDevice,
  eventually,
  expectError,
  register,
  registrationHandle,
  path as route,
  uniqueEmail,
  withDevice,
} from './flow';
import { codeSmsTo, provePhone } from './phone';
import { codeIn } from './smtp';
import { type ApiUnderTest, startSystem, stopSystem, system } from './system';

/** The device of the link checks in as its platform does (a Windows PC through its MDM); a refusal stops the run. */
async function checkedIn(api: ApiUnderTest, linkToken: string) {
  const answer = await checkInDevice(api, linkToken);
  if (answer.status !== 200) throw new Error(`check-in refused: ${answer.status} ${answer.text}`);
  return answer;
}

/**
 * `npm run record-histories`: runs real registrations on the real system and saves their histories under
 * test/histories/, which the replay test (test/unit/replay.test.ts) runs through the current workflow code on every `npm test`.
 */
async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  await startSystem();
  const out = (name: string) => path.join(__dirname, '..', 'histories', `${name}.json`);
  const save = async (name: string, workflowId: string) => {
    writeFileSync(out(name), system().rawHistory(workflowId));
  };
  try {
    await system().createOrganisation('replay');
    await system().setSystem({ platforms: { android: { useSmsInstallationCode: true } } });
    const { api, mail } = system();

    // Completed: a wrong code, a resend, the right code, profile, Android device by SMS, check-in.
    const r = await register(api, 'replay', uniqueEmail('complete'));
    await mail.nth(r.email, 1);
    expectError(
      await api.call('POST', route(r, 'verify'), { token: r.token, body: { code: '000000' } }),
      400,
      'invalid_code',
    );
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    await api.call('POST', route(r, 'resend'), { token: r.token });
    await api.call('POST', route(r, 'verify'), { token: r.token, body: { code: codeIn(await mail.nth(r.email, 2)) } });
    await api.call('POST', route(r, 'profile'), {
      token: r.token,
      body: { firstName: 'Re', lastName: 'Play', phone: '+447700900321', password: 'a long passphrase' },
    });
    const codesBefore = codeSmsTo('+447700900321').length;
    const chosen = await api.call('POST', route(r, 'devices'), { token: r.token, body: { platform: 'android' } });
    // The number proven with the SMS code, so the device's history has the proof and the link's SMS after it.
    await provePhone(api, route(r, 'phone'), r.token, '+447700900321', codesBefore + 1);
    const token = chosen.body.device.provisioningUrl.split('/').pop();
    await checkedIn(api, token);
    await registrationHandle(r).result();
    await save('registration-completed', registrationHandle(r).workflowId);
    await save('device-enrolled', deviceWorkflowId(chosen.body.device.id));

    // Expired while waiting for the code.
    const shortLived = await system().startApi({ timings: { registrationTtlMs: 1_000 } });
    const expired = await register(shortLived, 'replay', uniqueEmail('expired'));
    await registrationHandle(expired).result();
    await save('registration-expired', registrationHandle(expired).workflowId);

    // A link that expired unused, then a second device that enrolled.
    const shortLinks = await system().startApi({ timings: { linkTtlMs: 1_000 } });
    const relinked = await withDevice(shortLinks, 'replay', 'ios');
    await system().temporal.client.workflow.getHandle(deviceWorkflowId(relinked.device.id)).result();
    while ((await shortLinks.call('GET', route(relinked), { token: relinked.token })).body.step !== 'device') {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const second = await shortLinks.call('POST', route(relinked, 'devices'), {
      token: relinked.token,
      body: { platform: 'windows' },
    });
    await checkedIn(shortLinks, second.body.device.provisioningUrl.split('/').pop());
    await registrationHandle(relinked).result();
    await save('registration-relinked', registrationHandle(relinked).workflowId);
    await save('device-link-expired', deviceWorkflowId(relinked.device.id));

    // The owner of the completed registration comes back: adds devices, gets a new link, removes one.
    // Its own address is its public URL: the simulated Mac follows the profile's URLs to it.
    const ownerApi = await system().startDeviceFacingApi({ timings: { linkTtlMs: 1_500, linkReminderMs: 700 } });
    const signedIn = await ownerApi.call('POST', '/api/session', {
      body: { organisation: 'replay', email: r.email, password: 'a long passphrase' },
    });
    const owner = { token: signedIn.body.token as string };
    const add = async (platform: string) =>
      (await ownerApi.call('POST', '/api/me/devices', { ...owner, body: { platform } })).body.device;
    const checkIn = (device: { provisioningUrl: string }) =>
      checkedIn(ownerApi, device.provisioningUrl.split('/').pop() as string);
    const ended = (id: string) => system().temporal.client.workflow.getHandle(deviceWorkflowId(id)).result();

    /**
     * An Apple device of the platform enrols through MDM and takes its settings; `before` runs ahead of its owner's
     * removal (RemoveProfile, then its check-out), and the managed run's history is saved as `name`.
     */
    const managedAndRemoved = async (
      platform: string,
      productName: string,
      name: string,
      before: (added: { id: string }) => Promise<unknown> = async () => {},
    ) => {
      const added = await add(platform);
      const device = new SimulatedAppleDevice({ productName });
      try {
        await device.enrol(added.provisioningUrl);
        await ended(added.id);
        await eventually(
          () => device.processCommands(),
          (commands) => commands.length > 0,
        );
        const managed = system().temporal.client.workflow.getHandle(managedDeviceWorkflowId(added.id));
        await eventually(
          async () => (await system().db.models.Device.findByPk(added.id))?.settingsStatus,
          (status) => status === 'applied',
        );
        await before(added);
        await ownerApi.call('DELETE', `/api/me/devices/${added.id}`, owner);
        await device.processCommands();
        await managed.result();
        await save(name, managed.workflowId);
      } finally {
        device.cleanup();
      }
    };
    // A Mac: its link's run, then its managed run to the removal.
    await managedAndRemoved('macos', 'Mac14,7', 'managed-device-removed', (mac) =>
      save('device-added-enrolled', deviceWorkflowId(mac.id)),
    );
    // An iPhone whose managed run an operator ended: the removal's new run takes it over.
    await managedAndRemoved('ios', 'iPhone15,2', 'managed-device-taken-over', (iphone) =>
      system()
        .temporal.client.workflow.getHandle(managedDeviceWorkflowId(iphone.id))
        .terminate('an operator repairing it'),
    );

    const windows = await add('windows');
    await ended(windows.id);
    await save('device-added-reminded-expired', deviceWorkflowId(windows.id));
    const renewed = (await ownerApi.call('POST', `/api/me/devices/${windows.id}/link`, owner)).body.device;
    await checkIn(renewed);
    await ended(windows.id);
    await save('device-relinked-enrolled', deviceWorkflowId(windows.id));

    const removed = await add('ios');
    await ownerApi.call('DELETE', `/api/me/devices/${removed.id}`, owner);
    await ended(removed.id);
    await save('device-removed', deviceWorkflowId(removed.id));

    // A forgotten password: a wrong code, then the right one.
    await ownerApi.call('POST', '/api/password-resets', { body: { organisation: 'replay', email: r.email } });
    const resetMail = await eventually(
      async () => mail.to(r.email).find((m) => m.subject.startsWith('Your password reset code')),
      Boolean,
    );
    const resetCode = /reset code is (\d{6})/.exec(resetMail?.text ?? '')?.[1];
    const confirm = (code: string) =>
      ownerApi.call('POST', '/api/password-resets/confirm', {
        body: { organisation: 'replay', email: r.email, code, password: 'a brand new passphrase' },
      });
    await confirm(resetCode === '000000' ? '111111' : '000000');
    await confirm(resetCode as string);
    const reset = system().temporal.client.workflow.getHandle(passwordResetWorkflowId('replay', r.email));
    await reset.result();
    await save('password-reset-changed', reset.workflowId);

    // An operator sends a registration a new code, then ends it: each update names who did it.
    const operator = { by: 'supervisor@replay.test' };
    const endedByOperator = await register(api, 'replay', uniqueEmail('operator'));
    await mail.nth(endedByOperator.email, 1);
    await registrationHandle(endedByOperator).executeUpdate(sendNewCodeUpdate, { args: [operator] });
    await mail.nth(endedByOperator.email, 2);
    // The new code's mail activity reported back first: an update that ends the run must not race its completion.
    await eventually(
      async () => (await registrationHandle(endedByOperator).describe()).raw.pendingActivities?.length ?? 0,
      (pending) => pending === 0,
    );
    await registrationHandle(endedByOperator).executeUpdate(endRegistrationUpdate, { args: [operator] });
    await registrationHandle(endedByOperator).result();
    await save('registration-ended-by-operator', registrationHandle(endedByOperator).workflowId);

    // A manager's invitation sent again, then accepted with the newest link; another one withdrawn.
    // Accepted here without the pages' authenticator step: from the services an API of the test system is built with.
    const { invitations } = createServices(system().serviceDeps()).admin;
    const invited = uniqueEmail('manager');
    await invitations.invite('replay', invited, operator.by);
    await mail.nth(invited, 1);
    const accepted = system().temporal.client.workflow.getHandle(invitationWorkflowId('replay', invited));
    // Sent again once its first mailing is recorded (while it is under way the invitation answers `busy`).
    await eventually(
      async () => (await accepted.describe()).raw.pendingActivities?.length ?? 0,
      (pending) => pending === 0,
    );
    await invitations.resend('replay', invited, operator.by);
    const [, invitationId, linkToken] =
      /\/admin\/invitations\/([^/\s]+)\/([A-Za-z0-9_-]+)/.exec((await mail.nth(invited, 2)).text) ?? [];
    if (!invitationId || !linkToken) throw new Error('no invitation link in the mail');
    await invitations.accept(decodeURIComponent(invitationId), linkToken, {
      passwordHash: await hashPassword('a manager passphrase'),
      totpSecret: newTotpSecret(),
    });
    await accepted.result();
    await save('invitation-resent-accepted', accepted.workflowId);

    const notWanted = uniqueEmail('withdrawn');
    await invitations.invite('replay', notWanted, operator.by);
    await mail.nth(notWanted, 1);
    // Withdrawn, too, once its first mailing is recorded.
    const withdrawn = system().temporal.client.workflow.getHandle(invitationWorkflowId('replay', notWanted));
    await eventually(
      async () => (await withdrawn.describe()).raw.pendingActivities?.length ?? 0,
      (pending) => pending === 0,
    );
    await invitations.withdraw('replay', notWanted, operator.by);
    await withdrawn.result();
    await save('invitation-withdrawn', withdrawn.workflowId);
  } finally {
    await stopSystem();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
