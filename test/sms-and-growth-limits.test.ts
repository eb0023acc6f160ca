import { expect } from 'chai';
import type { AttemptRules } from '../lib/config';
import { atDevice, checkInDevice, expectError, path, sleep, withDevice } from './support/flow';
import { expectSpec } from './support/openapi';
import { codeSmsTo, linkSmsTo, phoneCodeFor, provePhone } from './support/phone';
import { type ApiUnderTest, system } from './support/system';

/**
 * What a signed-in owner's device requests may cost and leave behind: an SMS goes with a link only to a number the
 * owner has proven with a code sent to it; SMS per account, per number and per organisation a day, devices made per
 * account a day and changes per account a minute are bounded, each refusal a 429 with Retry-After before any run is
 * started or SMS sent.
 */

const ORG = 'sms-limits';
const PASSWORD = 'a long passphrase';
const DAY = 86_400_000;

/** A number no other test sends to, so the per-number counts are this test's alone. */
let numbers = 0;
const freshNumber = () => `+4479${String(Date.now() % 10_000).padStart(4, '0')}${String(++numbers).padStart(3, '0')}`;

/** An owner whose registration's device (a Windows PC) is enrolled, signed in on `api`. */
async function signedInOwner(api: ApiUnderTest, organisation = ORG) {
  const r = await withDevice(system().api, organisation, 'windows');
  expect((await checkInDevice(system().api, r.linkToken)).status).to.equal(200);
  const answer = await api.call('POST', '/api/session', { body: { organisation, email: r.email, password: PASSWORD } });
  expect(answer.status, answer.text).to.equal(200);
  return { ...r, session: answer.body.token as string };
}

const add = (api: ApiUnderTest, token: string, body: Record<string, unknown>) =>
  api.call('POST', '/api/me/devices', { token, body });
const remove = (api: ApiUnderTest, token: string, id: string) => api.call('DELETE', `/api/me/devices/${id}`, { token });
const devicesOf = async (api: ApiUnderTest, token: string) =>
  (await api.call('GET', '/api/me', { token })).body.devices as Array<{ id: string; state: string }>;

/** A refusal by a limit: 429 too_many_attempts, and how long to wait (at most `atMostSeconds`). */
function expectLimited(answer: Parameters<typeof expectError>[0] & { headers: Headers }, atMostSeconds: number) {
  expectError(answer, 429, 'too_many_attempts');
  const wait = Number(answer.headers.get('retry-after'));
  expect(wait, 'Retry-After').to.be.greaterThan(0).and.at.most(atMostSeconds);
}

const limited = (limits: Partial<AttemptRules>) => system().startApi({ limits });

describe('SMS and growth limits', () => {
  before(async () => {
    await system().createOrganisation(ORG, { platforms: ['windows', 'android'] });
    await system().setSystem({ platforms: { android: { useSmsInstallationCode: true } } });
  });
  after(() => system().setSystem({ platforms: {} }));

  it('sends a number not proven for the account a code, and the link only once the owner types it', async () => {
    const { api } = system();
    const owner = await signedInOwner(api);
    const phone = freshNumber();
    const added = await add(api, owner.session, { platform: 'android', phone });
    expect(added.status, added.text).to.equal(201);
    await expectSpec('POST', '/api/me/devices', added);
    const { device } = added.body;
    expect(device.sms).to.equal('code-sent');
    // The code SMS carries no link; the link is on screen, and no SMS with it goes to an unproven number.
    const code = await phoneCodeFor(phone);
    await sleep(500);
    expect(system().twilio.to(phone)).to.have.length(1);
    expect(system().twilio.to(phone)[0]?.body).to.not.include('/provision/');

    const route = `/api/me/devices/${device.id}/phone`;
    const wrong = await api.call('POST', route, {
      token: owner.session,
      body: { code: code === '000000' ? '111111' : '000000' },
    });
    expectError(wrong, 400, 'invalid_code');
    await expectSpec('POST', '/api/me/devices/{id}/phone', wrong);
    expectError(await api.call('POST', route, { token: owner.session, body: { code: '12' } }), 400, 'invalid_request');
    const proven = await provePhone(api, route, owner.session, phone);
    await expectSpec('POST', '/api/me/devices/{id}/phone', proven);
    expect((await linkSmsTo(phone))[0]?.body).to.include(device.provisioningUrl);
    expectError(await api.call('POST', route, { token: owner.session, body: { code } }), 409, 'wrong_step');

    // Proven once for this account: the next device's link goes to it at once, with no code.
    expect((await remove(api, owner.session, device.id)).status).to.equal(204);
    const again = await add(api, owner.session, { platform: 'android', phone });
    expect(again.status, again.text).to.equal(201);
    expect(again.body.device.sms).to.equal('link-sent');
    expect((await linkSmsTo(phone, 2))[1]?.body).to.include(again.body.device.provisioningUrl);
    expect(codeSmsTo(phone)).to.have.length(1);

    // Proven for this account only: another owner of the same number proves it again.
    const other = await signedInOwner(api);
    const theirs = await add(api, other.session, { platform: 'android', phone });
    expect(theirs.body.device.sms).to.equal('code-sent');
    await phoneCodeFor(phone, 2);
  });

  it('spends a phone code after five wrong guesses; the link on screen still works', async () => {
    const { api } = system();
    const owner = await signedInOwner(api);
    const phone = freshNumber();
    const { device } = (await add(api, owner.session, { platform: 'android', phone })).body;
    const code = await phoneCodeFor(phone);
    const route = `/api/me/devices/${device.id}/phone`;
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 4; i++) {
      expectError(await api.call('POST', route, { token: owner.session, body: { code: wrong } }), 400, 'invalid_code');
    }
    const spent = await api.call('POST', route, { token: owner.session, body: { code: wrong } });
    expectError(spent, 429, 'too_many_attempts');
    expect(spent.body.error.message).to.include('remove the device and add it again');
    expectError(await api.call('POST', route, { token: owner.session, body: { code } }), 429, 'too_many_attempts');
    await sleep(500);
    expect(system().twilio.to(phone), 'the code SMS only').to.have.length(1);
    expect((await checkInDevice(api, device.provisioningUrl.split('/').pop())).status).to.equal(200);
  });

  it('proves the number in the registration’s device step, by the registration token', async () => {
    const { api } = system();
    const phone = freshNumber();
    const r = await atDevice(api, ORG, phone);
    const chosen = await api.call('POST', path(r, 'devices'), { token: r.token, body: { platform: 'android' } });
    expect(chosen.status, chosen.text).to.equal(201);
    await expectSpec('POST', '/api/setup/registrations/{id}/devices', chosen);
    expect(chosen.body.device.sms).to.equal('code-sent');
    const code = await phoneCodeFor(phone);
    expectError(
      await api.call('POST', path(r, 'phone'), { token: 'not-the-registration-token-at-all', body: { code } }),
      401,
      'unauthorized',
    );
    const proven = await provePhone(api, path(r, 'phone'), r.token, phone);
    await expectSpec('POST', '/api/setup/registrations/{id}/phone', proven);
    expect((await linkSmsTo(phone))[0]?.body).to.include(chosen.body.device.provisioningUrl);
    const proof = await system().db.models.ProvenPhone.findAll({
      where: { phoneHash: system().secrets.keyedHash('phone', phone) },
    });
    expect(proof, 'the number is kept only as its keyed hash').to.have.length(1);
  });

  it('bounds the SMS per account a day: the add → remove loop to ever new numbers stops with 429', async () => {
    const api = await limited({ smsPerAccount: { points: 4, windowMs: DAY } });
    const owner = await signedInOwner(api);
    const sentTo: string[] = [];
    let refused: Awaited<ReturnType<typeof add>> | undefined;
    for (let i = 0; i < 10 && !refused; i++) {
      const phone = freshNumber();
      const answer = await add(api, owner.session, { platform: 'android', phone });
      if (answer.status !== 201) {
        refused = answer;
        break;
      }
      sentTo.push(phone);
      expect((await remove(api, owner.session, answer.body.device.id)).status).to.equal(204);
    }
    // A number not proven costs two (its code and the link after it): two loops, then the refusal.
    expect(sentTo).to.have.length(2);
    expectLimited(refused as NonNullable<typeof refused>, DAY / 1000);
    await expectSpec('POST', '/api/me/devices', refused as NonNullable<typeof refused>);
    for (const phone of sentTo) await phoneCodeFor(phone);
    await sleep(500);
    expect(sentTo.flatMap((phone) => system().twilio.to(phone))).to.have.length(2);
    // Refused before any run was started: no third device.
    expect(await devicesOf(api, owner.session)).to.have.length(3);
  });

  it('bounds the SMS per number and per organisation a day', async () => {
    const phone = freshNumber();
    const perNumber = await limited({ smsPerNumber: { points: 2, windowMs: DAY } });
    const holder = await signedInOwner(perNumber);
    const first = await add(perNumber, holder.session, { platform: 'android', phone });
    expect(first.status, first.text).to.equal(201);
    await provePhone(perNumber, `/api/me/devices/${first.body.device.id}/phone`, holder.session, phone);
    // Strangers' code SMS to the number: the second one of the day takes the number's last, the third is refused.
    const second = await signedInOwner(perNumber);
    expect((await add(perNumber, second.session, { platform: 'android', phone })).status).to.equal(201);
    const third = await signedInOwner(perNumber);
    expectLimited(await add(perNumber, third.session, { platform: 'android', phone }), DAY / 1000);
    // Another number of the same owner is another count.
    expect((await add(perNumber, third.session, { platform: 'android', phone: freshNumber() })).status).to.equal(201);
    // The holder proved the number: the strangers' codes do not keep the holder's links from it.
    const holders = await add(perNumber, holder.session, { platform: 'android', phone });
    expect(holders.status, holders.text).to.equal(201);
    expect(holders.body.device.sms).to.equal('link-sent');

    const org = `${ORG}-org`;
    await system().createOrganisation(org, { platforms: ['windows', 'android'] });
    const perOrganisation = await limited({ smsPerOrganisation: { points: 2, windowMs: DAY } });
    const a = await signedInOwner(perOrganisation, org);
    const b = await signedInOwner(perOrganisation, org);
    expect((await add(perOrganisation, a.session, { platform: 'android', phone: freshNumber() })).status).to.equal(201);
    expectLimited(await add(perOrganisation, b.session, { platform: 'android', phone: freshNumber() }), DAY / 1000);
    // Windows sends no SMS: still open.
    expect((await add(perOrganisation, b.session, { platform: 'windows' })).status).to.equal(201);
  });

  it('bounds the devices an owner makes in a day, removed ones too: the add → remove loop stops with 429', async () => {
    const api = await limited({ devicesPerAccount: { points: 5, windowMs: DAY } });
    const owner = await signedInOwner(api);
    let made = 0;
    let refused: Awaited<ReturnType<typeof add>> | undefined;
    for (let i = 0; i < 20; i++) {
      const answer = await add(api, owner.session, { platform: 'windows' });
      if (answer.status !== 201) {
        refused = answer;
        break;
      }
      made++;
      expect((await remove(api, owner.session, answer.body.device.id)).status).to.equal(204);
    }
    // The registration's device counts as one of the five.
    expect(made).to.equal(4);
    expectLimited(refused as NonNullable<typeof refused>, DAY / 1000);
    expect(await devicesOf(api, owner.session)).to.have.length(5);
  });

  it('bounds adds, new links and removals per account a minute', async () => {
    const api = await limited({ deviceChanges: { points: 4, windowMs: 60_000 } });
    // The registration's device step a moment ago was the first change.
    const owner = await signedInOwner(api);
    const first = await add(api, owner.session, { platform: 'windows' });
    const second = await add(api, owner.session, { platform: 'windows' });
    expect((await remove(api, owner.session, first.body.device.id)).status).to.equal(204);
    const refused = await remove(api, owner.session, second.body.device.id);
    expectLimited(refused, 60);
    await expectSpec('DELETE', '/api/me/devices/{id}', refused);
    expectLimited(await add(api, owner.session, { platform: 'windows' }), 60);
    // Refused before anything was done: the device is still there.
    const states = Object.fromEntries((await devicesOf(api, owner.session)).map(({ id, state }) => [id, state]));
    expect(states[second.body.device.id]).to.equal('link-issued');
  });
});
