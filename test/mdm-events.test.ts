import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import nodePath from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { deviceWorkflowId } from '../domain/ids';
import { eventually, expectError, path, registrationHandle, sleep, withDevice } from './support/flow';
import {
  makeMdmWebhookSecret,
  mdmSignature,
  postMdmEvent,
  reportEnrolment,
  reportUnenrolment,
  type Signing,
  unixNow,
} from './support/mdm-events';
import { expectSpec } from './support/openapi';
import { type ApiUnderTest, type HttpAnswer, SUPERVISOR_TOKEN, system } from './support/system';

const A = 'mdm-events-a';
const B = 'mdm-events-b';
/** An organisation that never made a secret. */
const C = 'mdm-events-c';
const EVENTS = '/api/mdm/events';
const SECRET_PATH = '/api/organisations/{slug}/mdm-webhook-secret';
const secretPath = (slug: string) => `/api/organisations/${slug}/mdm-webhook-secret`;

/** An event posted to the main API, its answer checked against the OpenAPI document. */
async function post(event: unknown, signing: Signing): Promise<HttpAnswer> {
  const answer = await postMdmEvent(system().api, event, signing);
  await expectSpec('POST', EVENTS, answer);
  return answer;
}

async function settingsCall(method: string, route: string, template: string, token: string): Promise<HttpAnswer> {
  const answer = await system().api.call(method, route, { token });
  await expectSpec(method, template, answer);
  return answer;
}

const newEvent = (fields: Record<string, unknown>) => ({ id: `evt-${randomUUID()}`, ...fields });

/** The device as the settings API lists it. */
async function listed(slug: string, deviceId: string) {
  const answer = await settingsCall(
    'GET',
    `/api/organisations/${slug}/devices`,
    '/api/organisations/{slug}/devices',
    SUPERVISOR_TOKEN,
  );
  expect(answer.status, answer.text).to.equal(200);
  return (answer.body.devices as Array<Record<string, unknown>>).find((device) => device.id === deviceId);
}

/** Everything readable in a raw history: every string, and every payload's bytes base64-decoded. */
function readableHistory(workflowId: string): string {
  const out: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'data' && typeof value === 'string') out.push(Buffer.from(value, 'base64').toString('latin1'));
        else walk(value);
      }
    } else if (typeof node === 'string') out.push(node);
  };
  walk(JSON.parse(system().rawHistory(workflowId)));
  return out.join('\n');
}

describe('external MDMs report back (POST /api/mdm/events)', () => {
  let api: ApiUnderTest;
  let secretA: string;
  let secretB: string;
  let managerA: string;
  let managerB: string;
  /** Every secret organisation A had, and every workflow that ran for it here: none may hold a secret in clear. */
  const secretsOfA: string[] = [];
  const workflowIds: string[] = [];
  const linkTokens: string[] = [];

  const windowsLink = async (slug = A, on = api) => {
    const r = await withDevice(on, slug, 'windows');
    workflowIds.push(registrationHandle(r).workflowId, deviceWorkflowId(r.device.id));
    linkTokens.push(r.linkToken);
    return r;
  };

  before(async () => {
    api = system().api;
    const made = [
      await system().createOrganisation(A, { platforms: ['windows', 'android', 'ios'] }),
      await system().createOrganisation(B, { platforms: ['windows', 'android'] }),
      await system().createOrganisation(C, { platforms: ['windows'] }),
    ];
    // The test system gives its organisations a secret; these start without one, as a new organisation does.
    for (const { organisation } of made) {
      await organisation.update({ mdmWebhookSecret: null, mdmWebhookSecretCreatedAt: null });
    }
    const manager = async (slug: string) => {
      const answer = await api.call('POST', `/api/organisations/${slug}/managers`, {
        token: SUPERVISOR_TOKEN,
        body: {},
      });
      expect(answer.status, answer.text).to.equal(201);
      return answer.body.token as string;
    };
    managerA = await manager(A);
    managerB = await manager(B);
  });

  describe('the secret', () => {
    it('is not configured at first; made by the supervisor it is shown once and stored sealed', async () => {
      const before = await settingsCall('GET', secretPath(A), SECRET_PATH, managerA);
      expect(before.status, before.text).to.equal(200);
      expect(before.body).to.deep.equal({ configured: false, createdAt: null });

      const made = await settingsCall('POST', secretPath(A), SECRET_PATH, SUPERVISOR_TOKEN);
      expect(made.status, made.text).to.equal(201);
      expect(made.body.secret).to.match(/^whsec_[A-Za-z0-9_-]{43}$/);
      expect(made.headers.get('cache-control')).to.equal('no-store');
      secretA = made.body.secret;
      secretsOfA.push(secretA);

      const after = await settingsCall('GET', secretPath(A), SECRET_PATH, managerA);
      expect(after.body).to.deep.equal({ configured: true, createdAt: made.body.createdAt });
      expect(after.text).to.not.include(secretA);

      // The column as stored: sealed, and only this server's key opens it.
      const row = await system().db.models.Organisation.findOne({ where: { slug: A }, raw: true });
      const sealed = row?.mdmWebhookSecret as string;
      expect(sealed).to.be.a('string').and.not.include(secretA.slice(6));
      expect(system().secrets.unseal(sealed)).to.equal(secretA);
    });

    it("is made by the organisation's manager, never by another organisation's (403) nor without a token (401)", async () => {
      const other = await settingsCall('POST', secretPath(A), SECRET_PATH, managerB);
      expectError(other, 403, 'forbidden');
      expectError(await settingsCall('GET', secretPath(A), SECRET_PATH, managerB), 403, 'forbidden');
      const anonymous = await api.call('POST', secretPath(A));
      expectError(anonymous, 401, 'unauthorized');
      // Organisation B's own manager makes B's.
      secretB = await makeMdmWebhookSecret(api, B, managerB);
      expect(secretB).to.not.equal(secretA);
      expectError(
        await api.call('POST', secretPath(A), { token: SUPERVISOR_TOKEN, body: { secret: 'mine' } }),
        400,
        'invalid_request',
      );
    });
  });

  describe('an enrolled event', () => {
    it('enrols the Windows device: 200, the device enrolled with what the MDM said, the registration done', async () => {
      const r = await windowsLink();
      const answer = await post(
        newEvent({
          organisation: A,
          type: 'enrolled',
          enrolmentToken: r.linkToken,
          deviceId: r.device.id,
          device: { serialNumber: 'PF3X1234', model: 'Surface Laptop 5', osVersion: '10.0.22631' },
        }),
        { secret: secretA },
      );
      expect(answer.status, answer.text).to.equal(200);
      expect(answer.body).to.deep.equal({ deviceId: r.device.id, state: 'enrolled' });
      const device = await listed(A, r.device.id);
      expect(device?.state).to.equal('enrolled');
      expect(device?.deviceInfo).to.deep.equal({
        serialNumber: 'PF3X1234',
        model: 'Surface Laptop 5',
        osVersion: '10.0.22631',
        reportedBy: 'mdm',
      });
      // Done: the registration's token is spent, and says so.
      const code = await eventually(
        async () => (await api.call('GET', path(r), { token: r.token })).body?.error?.code,
        (value) => value === 'registration_complete',
      );
      expect(code).to.equal('registration_complete');
      expect(await registrationHandle(r).result()).to.deep.include({ step: 'done' });
    });

    it('checks the signature over the raw bytes: any spacing and order signed is taken, a re-serialised body is not', async () => {
      const r = await windowsLink();
      const raw = `{ "type" : "enrolled",\n  "enrolmentToken": "${r.linkToken}", "organisation": "${A}", "id": "evt-${randomUUID()}" }`;
      const reserialised = JSON.stringify(JSON.parse(raw));
      const ts = unixNow();
      expectError(
        await post(reserialised, { timestamp: ts, signature: mdmSignature(secretA, ts, raw) }),
        401,
        'invalid_signature',
      );
      const answer = await post(raw, { timestamp: ts, signature: mdmSignature(secretA, ts, raw) });
      expect(answer.status, answer.text).to.equal(200);
    });

    it('refuses a second enrolment of one link (410 link_used), an unknown link (404) and an expired one (410)', async () => {
      const r = await windowsLink();
      expect(
        (await reportEnrolment(api, { organisation: A, secret: secretA, enrolmentToken: r.linkToken })).status,
      ).to.equal(200);
      const again = await post(newEvent({ organisation: A, type: 'enrolled', enrolmentToken: r.linkToken }), {
        secret: secretA,
      });
      expectError(again, 410, 'link_used');
      const unknown = await post(
        newEvent({ organisation: A, type: 'enrolled', enrolmentToken: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }),
        { secret: secretA },
      );
      expectError(unknown, 404, 'link_not_found');

      const shortLinks = await system().startApi({ timings: { linkTtlMs: 1_500 } });
      const expiring = await windowsLink(A, shortLinks);
      await sleep(2_000);
      const late = await post(newEvent({ organisation: A, type: 'enrolled', enrolmentToken: expiring.linkToken }), {
        secret: secretA,
      });
      expectError(late, 410, 'link_expired');
    });

    it("never reveals another organisation's devices: B's event for A's link is 404, live or used", async () => {
      const r = await windowsLink();
      const asB = () =>
        post(newEvent({ organisation: B, type: 'enrolled', enrolmentToken: r.linkToken }), { secret: secretB });
      expectError(await asB(), 404, 'link_not_found');
      expect((await listed(A, r.device.id))?.state).to.equal('link-issued');
      expect(
        (await reportEnrolment(api, { organisation: A, secret: secretA, enrolmentToken: r.linkToken })).status,
      ).to.equal(200);
      expectError(await asB(), 404, 'link_not_found');
      const unenrolAsB = await post(newEvent({ organisation: B, type: 'unenrolled', deviceId: r.device.id }), {
        secret: secretB,
      });
      expectError(unenrolAsB, 404, 'device_not_found');
      expect((await listed(A, r.device.id))?.state).to.equal('enrolled');
    });

    it('refuses iPhones, iPads and Macs: they report through NanoMDM', async () => {
      const r = await withDevice(api, A, 'ios');
      const answer = await post(newEvent({ organisation: A, type: 'enrolled', enrolmentToken: r.linkToken }), {
        secret: secretA,
      });
      expectError(answer, 409, 'wrong_step');
      const unenrol = await post(newEvent({ organisation: A, type: 'unenrolled', deviceId: r.device.id }), {
        secret: secretA,
      });
      expectError(unenrol, 409, 'wrong_step');
    });
  });

  describe('signature, freshness and replay', () => {
    let link: string;
    const enrolledEvent = () => newEvent({ organisation: A, type: 'enrolled', enrolmentToken: link });

    beforeEach(async () => {
      link = (await windowsLink()).linkToken;
    });

    it("refuses unsigned and forged events, another organisation's secret, no secret and no such organisation alike", async () => {
      const refusals: HttpAnswer[] = [];
      const event = enrolledEvent();
      const body = JSON.stringify(event);
      const ts = unixNow();
      refusals.push(await post(event, {})); // neither header
      refusals.push(await post(event, { secret: secretA, timestamp: null })); // no timestamp
      refusals.push(await post(event, { timestamp: ts, signature: null })); // no signature
      refusals.push(await post(event, { timestamp: ts, signature: mdmSignature(secretA, ts, body).slice(7) })); // no sha256=
      refusals.push(await post(event, { timestamp: ts, signature: mdmSignature(secretA, ts, `${body} `) })); // other body
      refusals.push(await post(event, { timestamp: ts, signature: mdmSignature(secretA, ts + 1, body) })); // other time
      refusals.push(await post(event, { timestamp: 'soon', signature: mdmSignature(secretA, 'soon', body) }));
      refusals.push(await post(event, { secret: secretB })); // B's secret for A's event
      refusals.push(await post(event, { secret: 'whsec_guessed' }));
      refusals.push(await post({ ...event, organisation: C }, { secret: secretA })); // C has no secret
      refusals.push(await post({ ...event, organisation: 'no-such-organisation' }, { secret: secretA }));
      for (const refusal of refusals) expectError(refusal, 401, 'invalid_signature');
      // One answer, word for word: nothing tells which it was.
      expect(new Set(refusals.map((refusal) => refusal.text)).size).to.equal(1);
      // None of them spent the event id: the same event, signed, is taken.
      expect((await post(event, { secret: secretA })).status).to.equal(200);
    });

    it('refuses timestamps more than 5 minutes off, either way (400 stale_event)', async () => {
      for (const offset of [-301, 301, -3600 * 24]) {
        const answer = await post(enrolledEvent(), { secret: secretA, timestamp: unixNow() + offset });
        expectError(answer, 400, 'stale_event');
      }
      const withinWindow = await post(enrolledEvent(), { secret: secretA, timestamp: unixNow() - 240 });
      expect(withinWindow.status, withinWindow.text).to.equal(200);
    });

    it('takes an event id once per organisation (409 replayed_event); a refused event may be sent again', async () => {
      const event = enrolledEvent();
      const ts = unixNow();
      expect((await post(event, { secret: secretA, timestamp: ts })).status).to.equal(200);
      // The very same call again (same signature), and the same id signed anew.
      expectError(await post(event, { secret: secretA, timestamp: ts }), 409, 'replayed_event');
      expectError(await post({ ...event, type: 'unenrolled' }, { secret: secretA }), 409, 'replayed_event');
      // Another organisation's events have ids of their own.
      const sameIdInB = await post(
        { id: event.id, organisation: B, type: 'unenrolled', deviceId: randomUUID() },
        {
          secret: secretB,
        },
      );
      expectError(sameIdInB, 404, 'device_not_found');
      // A refused event is given back: its retry is judged again, not taken for a replay (ids up to 200 characters).
      const refused = { id: 'x'.repeat(200), organisation: A, type: 'unenrolled', deviceId: randomUUID() };
      expectError(await post(refused, { secret: secretA }), 404, 'device_not_found');
      expectError(await post(refused, { secret: secretA }), 404, 'device_not_found');
    });

    it('refuses malformed events with 400 invalid_request, oversize ones with 413', async () => {
      expectError(await post('{"organisation":', { secret: secretA }), 400, 'invalid_request');
      expectError(await post({ id: 'e', type: 'enrolled' }, { secret: secretA }), 400, 'invalid_request');
      const malformed: Array<Record<string, unknown>> = [
        { ...enrolledEvent(), colour: 'blue' },
        { ...enrolledEvent(), enrolmentToken: undefined },
        { ...enrolledEvent(), type: 'wiped' },
        { ...enrolledEvent(), id: '' },
        { ...enrolledEvent(), id: 'x'.repeat(201) },
        { ...enrolledEvent(), deviceId: 'not-a-uuid' },
        { ...enrolledEvent(), device: { serialNumber: 'S1', favouriteColour: 'blue' } },
        { ...enrolledEvent(), device: { serialNumber: 'S'.repeat(201) } },
        { id: 'e', organisation: A, type: 'unenrolled' },
      ];
      for (const event of malformed) expectError(await post(event, { secret: secretA }), 400, 'invalid_request');
      const huge = { ...enrolledEvent(), padding: 'x'.repeat(70_000) };
      expectError(await post(huge, { secret: secretA }), 413, 'payload_too_large');
      // None of it touched the link.
      expect((await post(enrolledEvent(), { secret: secretA })).status).to.equal(200);
    });
  });

  describe('a caller that probes', () => {
    it('waits a minute after MACHINE_REFUSALS_PER_MINUTE refusals over every machine route; accepted calls and other callers count nothing', async () => {
      const limited = await system().startApi({ machineRefusalsPerMinute: 3 });
      const [prober, mdm] = ['198.51.100.23', '198.51.100.24'];
      const report = (enrolmentToken: string, from: string) =>
        reportEnrolment(limited, { organisation: A, secret: secretA, enrolmentToken, from });
      const enrol = async (from: string) => report((await windowsLink()).linkToken, from);
      const forged = (from: string) =>
        postMdmEvent(limited, newEvent({ organisation: A, type: 'enrolled', enrolmentToken: 'guess' }), {
          secret: 'whsec_guessed',
          from,
        });
      const machineCall = (method: string, route: string, from: string, raw: string) =>
        limited.call(method, route, { raw, headers: { 'x-forwarded-for': from } });

      // An MDM that speaks correctly is never slowed: more accepted events than the limit, all at once.
      const links = await Promise.all(Array.from({ length: 5 }, async () => (await windowsLink()).linkToken));
      const accepted = await Promise.all(links.map((link) => report(link, mdm)));
      expect(accepted.map((answer) => answer.status)).to.deep.equal([200, 200, 200, 200, 200]);
      // Three refusals, one per kind of machine route: an MDM's event, a DPC's check-in, an Apple device's check-in.
      expectError(await forged(prober), 401, 'invalid_signature');
      expectError(await machineCall('POST', '/api/provision/guess/checkin', prober, '{}'), 404, 'link_not_found');
      const apple = await machineCall('PUT', '/mdm/checkin?enrolment=guess', prober, '<plist/>');
      expect(apple.status, apple.text).to.be.within(400, 499);
      expect(apple.body, apple.text).to.have.nested.property('error.code');
      // The next call waits, even a correct one, and says so in the contract's shape.
      const slowed = await enrol(prober);
      expectError(slowed, 429, 'too_many_attempts');
      expect(Number(slowed.headers.get('retry-after'))).to.be.within(1, 60);
      // Another caller's count is its own: its first refusal is a refusal, and its next event is taken.
      expectError(await forged(mdm), 401, 'invalid_signature');
      expect((await enrol(mdm)).status).to.equal(200);
    });
  });

  describe('an unenrolled event', () => {
    it("shows on the owner's My devices and in the settings API; a second one is 409 wrong_step", async () => {
      const r = await windowsLink();
      expect(
        (await reportEnrolment(api, { organisation: A, secret: secretA, enrolmentToken: r.linkToken })).status,
      ).to.equal(200);
      const answer = await post(newEvent({ organisation: A, type: 'unenrolled', deviceId: r.device.id }), {
        secret: secretA,
      });
      expect(answer.status, answer.text).to.equal(200);
      expect(answer.body).to.deep.equal({ deviceId: r.device.id, state: 'unenrolled' });

      const session = await api.call('POST', '/api/session', {
        body: { organisation: A, email: r.email, password: 'a long passphrase' },
      });
      expect(session.status, session.text).to.equal(200);
      const me = await api.call('GET', '/api/me', { token: session.body.token });
      await expectSpec('GET', '/api/me', me);
      const mine = (me.body.devices as Array<Record<string, unknown>>).find((device) => device.id === r.device.id);
      expect(mine?.state).to.equal('unenrolled');
      expect(mine?.unenrolledAt).to.be.a('string');
      const device = await listed(A, r.device.id);
      expect(device?.state).to.equal('unenrolled');
      expect(device?.unenrolledAt).to.be.a('string');

      const again = await post(newEvent({ organisation: A, type: 'unenrolled', enrolmentToken: r.linkToken }), {
        secret: secretA,
      });
      expectError(again, 409, 'wrong_step');
    });

    it('names the device by its link too; a device not enrolled is 409, an unknown one 404', async () => {
      const r = await windowsLink();
      const notYet = await post(newEvent({ organisation: A, type: 'unenrolled', enrolmentToken: r.linkToken }), {
        secret: secretA,
      });
      expectError(notYet, 409, 'wrong_step');
      expect(
        (await reportEnrolment(api, { organisation: A, secret: secretA, enrolmentToken: r.linkToken })).status,
      ).to.equal(200);
      const mismatch = await post(
        newEvent({ organisation: A, type: 'unenrolled', enrolmentToken: r.linkToken, deviceId: randomUUID() }),
        { secret: secretA },
      );
      expectError(mismatch, 400, 'invalid_request');
      const byLink = await reportUnenrolment(api, { organisation: A, secret: secretA, enrolmentToken: r.linkToken });
      expect(byLink.status, byLink.text).to.equal(200);
      expect(byLink.body.state).to.equal('unenrolled');
      const unknown = await post(newEvent({ organisation: A, type: 'unenrolled', deviceId: randomUUID() }), {
        secret: secretA,
      });
      expectError(unknown, 404, 'device_not_found');
    });
  });

  describe('rotation', () => {
    it('a new secret replaces the old one at once: the old one is refused, the new one taken', async () => {
      const r = await windowsLink();
      const old = secretA;
      const made = await settingsCall('POST', secretPath(A), SECRET_PATH, managerA);
      expect(made.status, made.text).to.equal(201);
      secretA = made.body.secret;
      secretsOfA.push(secretA);
      expect(secretA).to.not.equal(old);
      const status = await settingsCall('GET', secretPath(A), SECRET_PATH, SUPERVISOR_TOKEN);
      expect(status.body).to.deep.equal({ configured: true, createdAt: made.body.createdAt });
      const event = newEvent({ organisation: A, type: 'enrolled', enrolmentToken: r.linkToken });
      expectError(await post(event, { secret: old }), 401, 'invalid_signature');
      expect((await post(event, { secret: secretA })).status).to.equal(200);
    });
  });

  describe('the documented recipe (docs/api.md)', () => {
    it('signs with openssl and posts with curl, exactly as written', async () => {
      const docs = readFileSync(nodePath.join(__dirname, '..', 'docs', 'api.md'), 'utf8');
      const section = docs.slice(docs.indexOf('## External MDMs report back'));
      const recipe = [...section.matchAll(/```sh\n([\s\S]*?)```/g)]
        .map((block) => block[1])
        .find((block) => block?.includes('openssl dgst'));
      expect(recipe, 'the curl recipe in the section').to.be.a('string').and.include('openssl dgst');
      const r = await windowsLink();
      const body = JSON.stringify({
        id: `evt-${randomUUID()}`,
        organisation: A,
        type: 'enrolled',
        enrolmentToken: r.linkToken,
        device: { serialNumber: 'PF3X1234', model: 'Surface Laptop 5' },
      });
      // The example's values are the reader's to fill in; every other line runs as written.
      const values: Record<string, string> = { API: `${api.url}/api`, SECRET: secretA, BODY: body };
      const filled = new Set<string>();
      const script = (recipe as string)
        .split('\n')
        .map((line) => {
          const name = /^([A-Z]+)=/.exec(line)?.[1];
          if (!name || !(name in values)) return line;
          filled.add(name);
          return `${name}='${values[name]}'`;
        })
        .join('\n');
      expect([...filled]).to.have.members(Object.keys(values));
      const { stdout } = await promisify(execFile)('sh', ['-c', script], { timeout: 20_000 });
      expect(JSON.parse(stdout)).to.deep.equal({ deviceId: r.device.id, state: 'enrolled' });
      expect((await listed(A, r.device.id))?.deviceInfo).to.deep.include({
        serialNumber: 'PF3X1234',
        reportedBy: 'mdm',
      });
    });
  });

  describe('privacy', () => {
    it('the secret is never in clear in the database nor in any Temporal history; neither is the link', async () => {
      expect(secretsOfA.length).to.be.greaterThan(1);
      const sqlite = ['app.sqlite', 'app.sqlite-wal']
        .map((file) => {
          try {
            return readFileSync(nodePath.join(system().dataDir, file)).toString('latin1');
          } catch {
            return '';
          }
        })
        .join('\n');
      expect(sqlite).to.include(A); // the right file
      for (const secret of [...secretsOfA, secretB]) {
        expect(sqlite, 'a webhook secret in the database').to.not.include(secret);
        expect(sqlite, 'a webhook secret in the database').to.not.include(secret.slice(6));
      }
      expect(workflowIds.length).to.be.greaterThan(4);
      for (const workflowId of workflowIds) {
        const text = readableHistory(workflowId);
        for (const secret of [...secretsOfA, secretB]) {
          expect(text, `a webhook secret in the history of ${workflowId}`).to.not.include(secret.slice(6));
        }
        for (const link of linkTokens)
          expect(text, `a link token in the history of ${workflowId}`).to.not.include(link);
      }
    });
  });
});
