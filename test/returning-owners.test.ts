import { expect } from 'chai';
import {
  checkInDevice,
  eventually,
  expectError,
  expectProblemPage,
  sleep,
  uniqueEmail,
  withDevice,
} from './support/flow';
import { expectSpec } from './support/openapi';
import { codeSmsTo, provePhone } from './support/phone';
import { type ApiUnderTest, SUPERVISOR_TOKEN, system } from './support/system';

const ORG = 'returning';
const PASSWORD = 'a long passphrase';

const tokenOf = (provisioningUrl: string) => provisioningUrl.split('/').pop() as string;
/** The device of the link checks in as its platform does: a Windows PC through its MDM's webhook, Android itself. */
const checkIn = (api: ApiUnderTest, provisioningUrl: string) => checkInDevice(api, tokenOf(provisioningUrl));

/** An owner whose first device, from the registration, is enrolled. */
async function enrolledOwner(api = system().api) {
  const r = await withDevice(api, ORG, 'windows');
  expect((await checkIn(api, r.device.provisioningUrl)).status).to.equal(200);
  return r;
}

async function signIn(api: ApiUnderTest, email: string, password = PASSWORD, headers: Record<string, string> = {}) {
  const response = await fetch(`${api.url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ organisation: ORG, email, password }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined, text };
}

async function session(api: ApiUnderTest, email: string, password = PASSWORD): Promise<string> {
  const answer = await signIn(api, email, password);
  expect(answer.status, answer.text).to.equal(200);
  return answer.body.token;
}

const me = (api: ApiUnderTest, token: string) => api.call('GET', '/api/me', { token });

async function addDevice(api: ApiUnderTest, token: string, body: Record<string, unknown>) {
  const answer = await api.call('POST', '/api/me/devices', { token, body });
  expect(answer.status, answer.text).to.equal(201);
  await expectSpec('POST', '/api/me/devices', answer);
  return answer.body.device as {
    id: string;
    platform: string;
    provisioningUrl: string;
    expiresAt: string;
    sms?: string;
  };
}

const deviceState = async (api: ApiUnderTest, token: string, id: string) =>
  ((await me(api, token)).body.devices as Array<{ id: string; state: string }>).find((d) => d.id === id)?.state;

describe('returning device owners', () => {
  before(async () => {
    await system().createOrganisation(ORG);
    await system().setSystem({ platforms: { android: { useSmsInstallationCode: true } } });
  });
  after(() => system().setSystem({ platforms: {} }));

  it('sign out, sign in, add a second device on another platform, check it in: both enrolled', async () => {
    const { api, mail, temporal } = system();
    const r = await enrolledOwner();

    const first = await session(api, r.email);
    expect((await api.call('DELETE', '/api/session', { token: first })).status).to.equal(204);
    expectError(await me(api, first), 401, 'unauthorized');

    const signedIn = await signIn(api, r.email);
    expect(signedIn.status, signedIn.text).to.equal(200);
    await expectSpec('POST', '/api/session', { ...signedIn, body: signedIn.body });
    expect(Date.parse(signedIn.body.expiresAt)).to.be.greaterThan(Date.now());
    const token = signedIn.body.token as string;

    // Android, whose device policy app checks in itself: the first device is a Windows PC its MDM reported.
    const phone = await addDevice(api, token, { platform: 'android', phone: '+447700900322' });
    expect(phone).to.include({ platform: 'android' });
    expect(phone.provisioningUrl).to.match(/^http:\/\/app\.test\/provision\/[A-Za-z0-9_-]+$/);
    const run = temporal.client.workflow.getHandle(`device/${phone.id}`);
    const { searchAttributes } = await run.describe();
    expect(searchAttributes).to.deep.include({ Organisation: [ORG], RegistrationEmail: [r.email] });

    expect((await api.call('GET', `/provision/${tokenOf(phone.provisioningUrl)}`)).status).to.equal(200);
    const checkedIn = await checkIn(api, phone.provisioningUrl);
    expect(checkedIn.status, checkedIn.text).to.equal(200);
    expect(await run.result()).to.deep.equal({ state: 'enrolled' });
    expect((await mail.nth(r.email, 3)).subject).to.equal(`Your device is enrolled: ${ORG} android`);

    const mine = await me(api, token);
    expect(mine.status).to.equal(200);
    await expectSpec('GET', '/api/me', mine);
    expect(mine.body).to.deep.include({ email: r.email, organisation: ORG, firstName: 'Ada', lastName: 'Lovelace' });
    expect(mine.body.devices.map((d: { platform: string; state: string }) => [d.platform, d.state])).to.deep.equal([
      ['windows', 'enrolled'],
      ['android', 'enrolled'],
    ]);
    for (const device of mine.body.devices) expect(Date.parse(device.enrolledAt)).to.be.closeTo(Date.now(), 60_000);
  });

  it('gives the same answer for a wrong password and an unknown address', async () => {
    const { api } = system();
    const r = await enrolledOwner();
    const wrong = await signIn(api, r.email, 'not the passphrase');
    const unknown = await signIn(api, uniqueEmail('nobody'), PASSWORD);
    expectError(wrong, 401, 'invalid_credentials');
    expect(unknown.status).to.equal(wrong.status);
    expect(unknown.body).to.deep.equal(wrong.body);
    await expectSpec('POST', '/api/session', wrong);
    expectError(await api.call('GET', '/api/me', { token: 'x'.repeat(43) }), 401, 'unauthorized');
    expectError(await api.call('GET', '/api/me'), 401, 'unauthorized');
    expectError(
      await api.call('POST', '/api/session', { body: { email: r.email, password: PASSWORD, extra: 1 } }),
      400,
      'invalid_request',
    );
  });

  it('limits failed sign-ins per account and per client address, with Retry-After', async () => {
    const { api } = system();
    const r = await enrolledOwner();
    for (let i = 0; i < 5; i++) expectError(await signIn(api, r.email, `wrong ${i}`), 401, 'invalid_credentials');
    // Past the limit even the right password is refused until the window passes: guessing stops here.
    const limited = await signIn(api, r.email);
    expectError(limited, 429, 'too_many_attempts');
    expect(Number(limited.headers.get('retry-after'))).to.be.within(1, 60);

    const strict = await system().startApi({ limits: { signInPerAddress: { points: 3, windowMs: 60_000 } } });
    const from = { 'x-forwarded-for': '203.0.113.7' };
    const other = await enrolledOwner();
    for (const email of [uniqueEmail('a'), uniqueEmail('b'), uniqueEmail('c')]) {
      expectError(await signIn(strict, email, 'guess', from), 401, 'invalid_credentials');
    }
    expectError(await signIn(strict, other.email, PASSWORD, from), 429, 'too_many_attempts');
    // Another client address is not held back by this one.
    expect((await signIn(strict, other.email, PASSWORD, { 'x-forwarded-for': '203.0.113.8' })).status).to.equal(200);
  });

  it('refuses a device past maxDevicesPerOwner with device_limit_reached; a removed one frees its place', async () => {
    const { api } = system();
    const settings = await api.call('GET', `/api/organisations/${ORG}/device-setup`, { token: SUPERVISOR_TOKEN });
    expect(settings.body.maxDevicesPerOwner).to.equal(5);
    await expectSpec('GET', '/api/organisations/{slug}/device-setup', settings);
    const { maxDevicesPerOwner: _, ...config } = settings.body;
    const put = (body: unknown) =>
      api.call('PUT', `/api/organisations/${ORG}/device-setup`, { token: SUPERVISOR_TOKEN, body });
    expectError(await put({ ...config, maxDevicesPerOwner: 0 }), 400, 'invalid_request');
    expect((await put({ ...config, maxDevicesPerOwner: 2 })).body.maxDevicesPerOwner).to.equal(2);
    try {
      const r = await enrolledOwner();
      const token = await session(api, r.email);
      const second = await addDevice(api, token, { platform: 'windows' });
      const refused = await api.call('POST', '/api/me/devices', { token, body: { platform: 'macos' } });
      expectError(refused, 409, 'device_limit_reached');
      await expectSpec('POST', '/api/me/devices', refused);
      expect((await me(api, token)).body.devices).to.have.length(2);

      expect((await api.call('DELETE', `/api/me/devices/${second.id}`, { token })).status).to.equal(204);
      // Four at once for the one free place: the runs' record transactions let exactly one through.
      const racing = await Promise.all(
        ['macos', 'windows', 'macos', 'windows'].map((platform) =>
          api.call('POST', '/api/me/devices', { token, body: { platform } }),
        ),
      );
      expect(racing.map((answer) => answer.status).sort()).to.deep.equal([201, 409, 409, 409]);
      for (const answer of racing.filter((a) => a.status === 409)) expectError(answer, 409, 'device_limit_reached');
      expect(
        (await me(api, token)).body.devices.filter((d: { state: string }) => d.state !== 'removed'),
      ).to.have.length(2);
      // Leaving it out of a later PUT keeps the limit.
      expect((await put(config)).body.maxDevicesPerOwner).to.equal(2);
    } finally {
      await put({ ...config, maxDevicesPerOwner: 5 });
    }
  });

  it('asks for a phone for Android when the account has none, sends the SMS, and keeps the number', async () => {
    const { api, twilio } = system();
    const r = await enrolledOwner();
    const token = await session(api, r.email);
    expectError(
      await api.call('POST', '/api/me/devices', { token, body: { platform: 'android' } }),
      400,
      'phone_required',
    );
    const codesBefore = codeSmsTo('+447700900321').length;
    const device = await addDevice(api, token, { platform: 'android', phone: '+447700900321' });
    // Not proven for this account yet: a code first, and the link once the owner has typed it.
    expect(device.sms).to.equal('code-sent');
    await provePhone(api, `/api/me/devices/${device.id}/phone`, token, '+447700900321', codesBefore + 1);
    const sms = await eventually(
      async () => twilio.sent.filter((m) => m.to === '+447700900321' && m.body.includes(device.provisioningUrl)),
      (found) => found.length > 0,
    );
    expect(sms[0]?.body).to.include(device.provisioningUrl);
    // The account's number, proven: the next link goes to it at once.
    expect((await addDevice(api, token, { platform: 'android' })).sms).to.equal('link-sent');
  });

  it('gives a new link only for a device whose link expired; the old link stays dead', async () => {
    const { api, mail } = system();
    const shortLinks = await system().startApi({ timings: { linkTtlMs: 2_500, linkReminderMs: 1_000 } });
    const r = await enrolledOwner();
    const token = await session(shortLinks, r.email);
    const device = await addDevice(shortLinks, token, { platform: 'windows' });
    expectError(await shortLinks.call('POST', `/api/me/devices/${device.id}/link`, { token }), 409, 'wrong_step');

    // One reminder before the link expires, then the link dies.
    const reminder = await mail.nth(r.email, 3, 5_000);
    expect(reminder.subject).to.equal(`Your setup link expires soon: ${ORG} windows`);
    expect(reminder.text).to.include(`http://app.test/setup/${ORG}/devices`);
    expect(reminder.text).to.not.include(tokenOf(device.provisioningUrl));
    expect(
      await eventually(
        () => deviceState(api, token, device.id),
        (s) => s === 'link-expired',
      ),
    ).to.equal('link-expired');
    await system().temporal.client.workflow.getHandle(`device/${device.id}`).result();
    expect(mail.to(r.email).filter((m) => m.subject.startsWith('Your setup link expires soon'))).to.have.length(1);
    expectError(await checkIn(api, device.provisioningUrl), 410, 'link_expired');

    const renewed = await api.call('POST', `/api/me/devices/${device.id}/link`, { token });
    expect(renewed.status, renewed.text).to.equal(201);
    await expectSpec('POST', '/api/me/devices/{id}/link', renewed);
    expect(renewed.body.device.id).to.equal(device.id);
    expect(renewed.body.device.provisioningUrl).to.not.equal(device.provisioningUrl);
    expect(await deviceState(api, token, device.id)).to.equal('link-issued');
    expectError(await checkIn(api, device.provisioningUrl), 410, 'link_expired');
    expect((await checkIn(api, renewed.body.device.provisioningUrl)).status).to.equal(200);
    expect(await deviceState(api, token, device.id)).to.equal('enrolled');
    expectError(await api.call('POST', `/api/me/devices/${device.id}/link`, { token }), 409, 'wrong_step');
  });

  it('gives a new link for a device whose run an operator terminated, once its link has expired', async () => {
    const { api, temporal } = system();
    const shortLinks = await system().startApi({ timings: { linkTtlMs: 1_500 } });
    const r = await enrolledOwner();
    const token = await session(shortLinks, r.email);
    const device = await addDevice(shortLinks, token, { platform: 'windows' });
    await temporal.client.workflow.getHandle(`device/${device.id}`).terminate('operator test');
    await sleep(1_600);
    expect(await deviceState(api, token, device.id)).to.equal('link-expired');
    const renewed = await api.call('POST', `/api/me/devices/${device.id}/link`, { token });
    expect(renewed.status, renewed.text).to.equal(201);
    expectError(await checkIn(api, device.provisioningUrl), 410, 'link_expired');
    expect((await checkIn(api, renewed.body.device.provisioningUrl)).status).to.equal(200);
  });

  it('removes a device: its link refuses at once, its workflow ends, it shows as removed', async () => {
    const { api, temporal } = system();
    const r = await enrolledOwner();
    const token = await session(api, r.email);
    const device = await addDevice(api, token, { platform: 'windows' });

    const removed = await api.call('DELETE', `/api/me/devices/${device.id}`, { token });
    expect(removed.status, removed.text).to.equal(204);
    await expectSpec('DELETE', '/api/me/devices/{id}', removed);
    expect(await temporal.client.workflow.getHandle(`device/${device.id}`).result()).to.deep.equal({
      state: 'removed',
    });
    expectError(await checkIn(api, device.provisioningUrl), 410, 'link_expired');
    expectProblemPage(
      await api.call('GET', `/provision/${tokenOf(device.provisioningUrl)}`),
      410,
      'This provisioning link has expired. Ask for a new one.',
    );
    const listed = (await me(api, token)).body.devices.find((d: { id: string }) => d.id === device.id);
    expect(listed.state).to.equal('removed');
    expect(Date.parse(listed.removedAt)).to.be.closeTo(Date.now(), 60_000);
    expectError(await api.call('DELETE', `/api/me/devices/${device.id}`, { token }), 404, 'device_not_found');
    expectError(await api.call('POST', `/api/me/devices/${device.id}/link`, { token }), 404, 'device_not_found');

    // An enrolled device no run holds any more is removed as well.
    const enrolled = (await me(api, token)).body.devices.find((d: { state: string }) => d.state === 'enrolled');
    expect((await api.call('DELETE', `/api/me/devices/${enrolled.id}`, { token })).status).to.equal(204);
    expect(await deviceState(api, token, enrolled.id)).to.equal('removed');
  });

  it('sends back to the device step a registration whose first device was removed before it enrolled', async () => {
    const { api } = system();
    const r = await withDevice(api, ORG, 'windows');
    const token = await session(api, r.email);
    expect((await api.call('DELETE', `/api/me/devices/${r.device.id}`, { token })).status).to.equal(204);
    const status = await eventually(
      () => api.call('GET', `/api/setup/registrations/${r.id}`, { token: r.token }),
      (answer) => answer.body.step === 'device',
    );
    expect(status.body.step).to.equal('device');
    expectError(await checkIn(api, r.device.provisioningUrl), 410, 'link_expired');
  });

  it("answers 404 device_not_found for another owner's device, and touches nothing", async () => {
    const { api } = system();
    const alice = await enrolledOwner();
    const bob = await enrolledOwner();
    const aliceToken = await session(api, alice.email);
    const bobToken = await session(api, bob.email);
    const hers = await addDevice(api, aliceToken, { platform: 'windows' });
    expectError(await api.call('DELETE', `/api/me/devices/${hers.id}`, { token: bobToken }), 404, 'device_not_found');
    expectError(
      await api.call('POST', `/api/me/devices/${hers.id}/link`, { token: bobToken }),
      404,
      'device_not_found',
    );
    expectError(await api.call('DELETE', '/api/me/devices/not-a-uuid', { token: bobToken }), 404, 'device_not_found');
    expect((await me(api, bobToken)).body.devices.map((d: { id: string }) => d.id)).to.not.include(hers.id);
    expect(await deviceState(api, aliceToken, hers.id)).to.equal('link-issued');
  });

  it('resets a forgotten password with a code from the e-mail, ending every open session', async () => {
    const { api, mail, temporal } = system();
    const r = await enrolledOwner();
    const [phone, laptop] = [await session(api, r.email), await session(api, r.email)];

    const asked = await api.call('POST', '/api/password-resets', { body: { organisation: ORG, email: r.email } });
    expect(asked.status, asked.text).to.equal(202);
    await expectSpec('POST', '/api/password-resets', asked);
    const resetMail = await mail.nth(r.email, 3);
    expect(resetMail.subject).to.match(/^Your password reset code: \d{6}$/);
    const code = /reset code is (\d{6})/.exec(resetMail.text)?.[1] as string;
    expect(resetMail.text).to.include(`http://app.test/setup/${ORG}/reset-password`);

    const confirm = (body: Record<string, unknown>) =>
      api.call('POST', '/api/password-resets/confirm', {
        body: { organisation: ORG, email: r.email, password: 'a brand new passphrase', ...body },
      });
    const wrongCode = code === '000000' ? '111111' : '000000';
    expectError(await confirm({ code: wrongCode }), 400, 'invalid_code');
    expectError(await confirm({ code, password: 'short' }), 400, 'invalid_request');
    const confirmed = await confirm({ code });
    expect(confirmed.status, confirmed.text).to.equal(204);
    await expectSpec('POST', '/api/password-resets/confirm', confirmed);

    for (const token of [phone, laptop]) expectError(await me(api, token), 401, 'unauthorized');
    expectError(await signIn(api, r.email), 401, 'invalid_credentials');
    expect((await me(api, await session(api, r.email, 'a brand new passphrase'))).status).to.equal(200);
    expectError(await confirm({ code }), 410, 'code_expired');
    const run = temporal.client.workflow.getHandle(`password-reset/${ORG}/${r.email}`);
    expect(await run.result()).to.deep.equal({ changed: true });
  });

  it('stops reset-code guessing per account and address across codes: 10 wrong a day, then 429 even for the right one', async () => {
    const { mail } = system();
    // Codes may be asked for 300 ms apart: the test waits that out before each of its three.
    const resendIntervalMs = 300;
    // The production default; docs/security.md: the limit per account alone only throttles (test/security.test.ts).
    const api = await system().startApi({
      limits: { resetPerAccountAndAddress: { points: 10, windowMs: 86_400_000 } },
      timings: { resendIntervalMs },
    });
    const r = await enrolledOwner();
    const ask = () => api.call('POST', '/api/password-resets', { body: { organisation: ORG, email: r.email } });
    const confirm = (code: string) =>
      api.call('POST', '/api/password-resets/confirm', {
        body: { organisation: ORG, email: r.email, code, password: 'a brand new passphrase' },
      });
    const resetCodes = () => mail.to(r.email).filter((m) => m.subject.startsWith('Your password reset code'));
    const newCode = async () => {
      const before = resetCodes().length;
      await sleep(resendIntervalMs + 100);
      expect((await ask()).status).to.equal(202);
      const mails = await eventually(
        async () => resetCodes(),
        (found) => found.length > before,
      );
      return /reset code is (\d{6})/.exec(mails.at(-1)?.text ?? '')?.[1] as string;
    };
    for (let round = 0; round < 2; round++) {
      const code = await newCode();
      const wrong = code === '000000' ? '111111' : '000000';
      for (let i = 0; i < 4; i++) expectError(await confirm(wrong), 400, 'invalid_code');
      expectError(await confirm(wrong), 429, 'too_many_attempts');
    }
    const right = await newCode();
    const refused = await confirm(right);
    expectError(refused, 429, 'too_many_attempts');
    expect(Number(refused.headers.get('retry-after'))).to.be.greaterThan(3_600);
    expect((await signIn(api, r.email)).status).to.equal(200);
  });

  it('answers a reset for an unknown address the same way, and mails nothing', async () => {
    const { api, mail } = system();
    const nobody = uniqueEmail('nobody');
    const asked = await api.call('POST', '/api/password-resets', { body: { organisation: ORG, email: nobody } });
    expect(asked.status).to.equal(202);
    expect(asked.text).to.equal('');
    await sleep(1_000);
    expect(mail.to(nobody)).to.have.length(0);
    expectError(
      await api.call('POST', '/api/password-resets/confirm', {
        body: { organisation: ORG, email: nobody, code: '123456', password: 'a brand new passphrase' },
      }),
      400,
      'invalid_code',
    );
  });

  it('ends sessions that idle or age past their limits', async () => {
    const { api } = system();
    const r = await enrolledOwner();
    const idle = await system().startApi({ owners: { sessionIdleMs: 1_200 } });
    const idleToken = await session(idle, r.email);
    expect((await me(idle, idleToken)).status).to.equal(200);
    await sleep(1_500);
    expectError(await me(idle, idleToken), 401, 'unauthorized');

    const aging = await system().startApi({ owners: { sessionAbsoluteMs: 2_000, sessionIdleMs: 60_000 } });
    const agingToken = await session(aging, r.email);
    const signedInAt = Date.now();
    const lastOk = await eventually(
      () => me(aging, agingToken),
      (answer) => answer.status === 401,
      5_000,
    );
    expectError(lastOk, 401, 'unauthorized');
    expect(Date.now() - signedInAt).to.be.within(1_900, 4_000);
    expect((await me(api, await session(api, r.email))).status).to.equal(200);
    // Signing in again cleared the session that had aged out (the idle one idled only by the other API's rules).
    const { OwnerSession } = system().db.models;
    const row = (token: string) =>
      OwnerSession.findOne({ where: { tokenHash: system().secrets.keyedHash('owner-session', token) } });
    expect(await row(agingToken)).to.equal(null);
    expect(await row(idleToken)).to.not.equal(null);
  });
});
