import { MockActivityEnvironment } from '@temporalio/testing';
import { expect } from 'chai';
import { REGISTRATION_STEP } from '../domain/search-attributes';
import {
  atDevice,
  checkInDevice,
  eventually,
  expectError,
  expectProblemPage,
  path,
  register,
  registrationHandle,
  sleep,
  uniqueEmail,
  verified,
  withDevice,
} from './support/flow';
import { reportEnrolment } from './support/mdm-events';
import { codeIn } from './support/smtp';
import { mdmWebhookSecretOf, system } from './support/system';
import { runsOf } from './support/visibility';

const profile = { firstName: 'Ada', lastName: 'Lovelace', password: 'a long passphrase' };
const LINK_EXPIRED = 'This provisioning link has expired. Ask for a new one.';

describe('registration lifecycle', () => {
  before(async () => {
    await system().createOrganisation('life', { platforms: ['ios', 'windows'] });
  });

  describe('settings changed while a registration runs', () => {
    it('refuses the profile of a now-disabled organisation, makes no account, and goes on once re-enabled', async () => {
      const { api, db } = system();
      const { organisation } = await system().createOrganisation('flip');
      const r = await verified(api, 'flip');
      await organisation.update({ enabled: false });
      expectError(
        await api.call('POST', path(r, 'profile'), { token: r.token, body: profile }),
        403,
        'organisation_disabled',
      );
      expect(await db.models.User.count({ where: { email: r.email } })).to.equal(0);
      expect((await api.call('GET', path(r), { token: r.token })).body.step).to.equal('profile');
      await organisation.update({ enabled: true });
      expect((await api.call('POST', path(r, 'profile'), { token: r.token, body: profile })).body).to.deep.equal({
        step: 'device',
      });
    });

    it('refuses an address the e-mail requirement no longer accepts', async () => {
      const { organisation } = await system().createOrganisation('strict');
      const r = await verified(system().api, 'strict');
      await organisation.update({ emailRequirement: '@corp\\.example$' });
      expectError(
        await system().api.call('POST', path(r, 'profile'), { token: r.token, body: profile }),
        403,
        'email_not_allowed',
      );
    });

    it('refuses a platform whose template was withdrawn, and makes no device', async () => {
      const { api, db } = system();
      const { organisation } = await system().createOrganisation('shrink');
      const r = await atDevice(api, 'shrink');
      await db.models.OrganisationDeviceTemplate.destroy({
        where: { organisationId: organisation.id, platform: 'windows' },
      });
      expectError(
        await api.call('POST', path(r, 'devices'), { token: r.token, body: { platform: 'windows' } }),
        409,
        'platform_not_available',
      );
      expect(await db.models.Device.count({ where: { organisationId: organisation.id } })).to.equal(0);
      expect((await api.call('GET', path(r), { token: r.token })).body.platforms).to.not.include('windows');
    });
  });

  describe('expiry', () => {
    it('expires an abandoned registration, and the same address then starts afresh', async () => {
      const api = await system().startApi({ timings: { registrationTtlMs: 1_500 } });
      const r = await register(api, 'life', uniqueEmail());
      expect(await registrationHandle(r).result()).to.deep.equal({ step: 'expired' });
      const description = await registrationHandle(r).describe();
      expect(description.typedSearchAttributes.get(REGISTRATION_STEP)).to.equal('expired');
      expect((await api.call('GET', path(r), { token: r.token })).body.step).to.equal('expired');
      expectError(await api.call('POST', path(r, 'resend'), { token: r.token }), 410, 'registration_expired');

      const again = await register(system().api, 'life', r.email);
      expect(again.id).to.equal(r.id);
      expect((await system().api.call('GET', path(again), { token: again.token })).body.step).to.equal('verify-email');
      expectError(await system().api.call('GET', path(r), { token: r.token }), 401, 'unauthorized');
      const code = codeIn(await system().mail.nth(r.email, 2));
      expect(
        (await system().api.call('POST', path(again, 'verify'), { token: again.token, body: { code } })).status,
      ).to.equal(200);
    });

    it('lets an unused provisioning link expire and sends the owner back to choose a device', async () => {
      const api = await system().startApi({ timings: { linkTtlMs: 1_500 } });
      const r = await withDevice(api, 'life', 'windows');
      await sleep(1_700);
      expectProblemPage(await api.call('GET', `/provision/${r.linkToken}`), 410, LINK_EXPIRED);
      // The PC's MDM reports its enrolment too late: the link is dead.
      expectError(await checkInDevice(api, r.linkToken), 410, 'link_expired');
      const back = await eventually(
        () => api.call('GET', path(r), { token: r.token }),
        (a) => a.body.step === 'device',
      );
      expect(back.body.step).to.equal('device');
      expect(back.body.devices).to.have.length(1);
      expect(back.body.devices[0].state).to.equal('link-expired');
      expect((await system().db.models.Device.findByPk(r.device.id))?.state).to.equal('link-expired');

      const second = await api.call('POST', path(r, 'devices'), { token: r.token, body: { platform: 'windows' } });
      expect(second.status, second.text).to.equal(201);
      const token = second.body.device.provisioningUrl.split('/').pop();
      expect((await checkInDevice(api, token)).status).to.equal(200);
      expect(await registrationHandle(r).result()).to.deep.equal({ step: 'done' });
    });

    it('answers link_not_found for a link nobody issued: its page, a DPC check-in and an MDM report', async () => {
      const { api } = system();
      const nobodys = 'A'.repeat(43);
      expectProblemPage(await api.call('GET', `/provision/${nobodys}`), 404, 'This provisioning link does not exist.');
      expectError(await checkInDevice(api, nobodys), 404, 'link_not_found');
      expectError(
        await reportEnrolment(api, {
          organisation: 'life',
          secret: mdmWebhookSecretOf('life'),
          enrolmentToken: nobodys,
        }),
        404,
        'link_not_found',
      );
    });
  });

  describe('races', () => {
    it('gives two simultaneous check-ins of one link one winner', async () => {
      const { api } = system();
      const r = await withDevice(api, 'life', 'windows');
      // The MDM reports the PC's enrolment twice at once (two events: a retry of one event id is a replay instead).
      const answers = await Promise.all([1, 2].map(() => checkInDevice(api, r.linkToken)));
      expect(answers.map((a) => a.status).sort()).to.deep.equal([200, 410]);
      expectError(answers.find((a) => a.status === 410) as (typeof answers)[0], 410, 'link_used');
    });

    it('makes one registration of the same address registered twice at once', async () => {
      const { api, temporal } = system();
      const email = uniqueEmail();
      const [a, b] = await Promise.all([register(api, 'life', email), register(api, 'life', email)]);
      expect(a.id).to.equal(b.id);
      expect(await runsOf(temporal.client, `registration/life/${email}`)).to.have.length(1);
    });

    it('refuses a second account for an address that already has one', async () => {
      const { api } = system();
      const first = await withDevice(api, 'life', 'windows');
      expect((await checkInDevice(api, first.linkToken)).status).to.equal(200);
      await registrationHandle(first).result();
      const again = await register(api, 'life', first.email);
      const code = codeIn(await system().mail.nth(first.email, 3));
      await api.call('POST', path(again, 'verify'), { token: again.token, body: { code } });
      expectError(
        await api.call('POST', path(again, 'profile'), { token: again.token, body: profile }),
        409,
        'account_exists',
      );
    });
  });

  describe('operators', () => {
    it('find a registration in Temporal by organisation, e-mail and step', async () => {
      const { api, temporal } = system();
      const r = await verified(api, 'life');
      const query = `Organisation = 'life' AND RegistrationEmail = '${r.email}' AND RegistrationStep = 'profile'`;
      const found = await eventually(
        async () => {
          const ids = [];
          for await (const run of temporal.client.workflow.list({ query })) ids.push(run.workflowId);
          return ids;
        },
        (ids) => ids.length > 0,
      );
      expect(found).to.deep.equal([`registration/life/${r.email}`]);
    });

    it('terminate a registration’s device run: the link dies and the owner chooses a device again', async () => {
      const { api, temporal } = system();
      const r = await withDevice(api, 'life', 'windows');
      await temporal.client.workflow.getHandle(`device/${r.device.id}`).terminate('operator repair');
      const status = await eventually(
        () => api.call('GET', path(r), { token: r.token }),
        (answer) => answer.body.step === 'device',
      );
      expect(status.body.step).to.equal('device');
      expect(status.body.devices).to.deep.include({
        id: r.device.id,
        platform: 'windows',
        state: 'link-expired',
        expiresAt: r.device.expiresAt,
      });
      expectError(await checkInDevice(api, r.linkToken), 410, 'link_expired');
      const again = await api.call('POST', path(r, 'devices'), { token: r.token, body: { platform: 'windows' } });
      expect(again.status, again.text).to.equal(201);
      const newToken = (again.body.device.provisioningUrl as string).split('/').pop();
      expect((await checkInDevice(api, newToken as string)).status).to.equal(200);
      expect(
        (
          await eventually(
            () => registrationHandle(r).result(),
            () => true,
          )
        ).step,
      ).to.equal('done');
    });
  });

  describe('idempotent activities (a retried activity repeats no side effect)', () => {
    const run = <F extends (...args: never[]) => Promise<unknown>>(fn: F, ...args: Parameters<F>) =>
      new MockActivityEnvironment({
        workflowExecution: { workflowId: 'registration/life/retry@example.com', runId: 'run-1' },
      }).run(fn, ...args) as ReturnType<F>;

    it('makes one account, one device, one e-mail and one SMS however often they run', async () => {
      const { activities, db, mail, twilio } = system();
      const email = 'retry@example.com';
      const account = { organisation: 'life', email, firstName: 'R', lastName: 'T', passwordHash: '$argon2id$x' };
      const [a1, a2] = [await run(activities.createAccount, account), await run(activities.createAccount, account)];
      expect(a1).to.deep.equal(a2);
      expect(await db.models.User.count({ where: { email } })).to.equal(1);

      const device = {
        id: '00000000-0000-4000-8000-000000000001',
        platform: 'windows' as const,
        linkNumber: 1,
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
      };
      await run(activities.createDevice, { organisation: 'life', userId: a1.userId, device });
      await run(activities.createDevice, { organisation: 'life', userId: a1.userId, device });
      expect(await db.models.Device.count({ where: { id: device.id } })).to.equal(1);

      const c1 = await run(activities.sendVerificationCode, { email, codeNumber: 1, codeTtlMinutes: 15 });
      const c2 = await run(activities.sendVerificationCode, { email, codeNumber: 1, codeTtlMinutes: 15 });
      expect(c1).to.deep.equal(c2);
      await mail.nth(email, 1);
      await sleep(300);
      expect(mail.to(email)).to.have.length(1);

      await run(activities.sendProvisioningSms, { deviceId: device.id, linkNumber: 1, phone: '+447700900999' });
      await run(activities.sendProvisioningSms, { deviceId: device.id, linkNumber: 1, phone: '+447700900999' });
      expect(twilio.to('+447700900999')).to.have.length(1);
      // The code that proves a number: the same code, one SMS, one proof, however often.
      const phoneCode = { deviceId: device.id, phone: '+447700900998', codeNumber: 1 };
      expect(await run(activities.sendPhoneCode, phoneCode)).to.deep.equal(
        await run(activities.sendPhoneCode, phoneCode),
      );
      expect(twilio.to('+447700900998')).to.have.length(1);
      await run(activities.provePhone, { deviceId: device.id, phone: '+447700900998' });
      await run(activities.provePhone, { deviceId: device.id, phone: '+447700900998' });
      expect(await db.models.ProvenPhone.count({ where: { userId: a1.userId } })).to.equal(1);

      await run(activities.markEnrolled, { deviceId: device.id, linkNumber: 1 });
      await run(activities.markEnrolled, { deviceId: device.id, linkNumber: 1 });
      expect((await db.models.Device.findByPk(device.id))?.state).to.equal('enrolled');
    });
  });
});
