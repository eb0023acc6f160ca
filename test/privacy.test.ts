import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { deviceWorkflowId } from '../domain/ids';
import { checkInDevice, expectError, path, register, registrationHandle, uniqueEmail } from './support/flow';
import { codeIn } from './support/smtp';
import { SUPERVISOR_TOKEN, system, UI_ORIGIN } from './support/system';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const rawHistory = (workflowId: string) =>
  JSON.parse(system().rawHistory(workflowId)) as { events: Array<Record<string, unknown>> };

/**
 * Everything readable in a raw history: every string, and every payload's bytes base64-decoded, with the places where
 * the e-mail address is allowed (workflow ids, search attributes) taken out.
 */
function readable(history: unknown, workflowIds: string[]): string {
  const out: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'searchAttributes') continue;
        if (key === 'data' && typeof value === 'string') out.push(Buffer.from(value, 'base64').toString('latin1'));
        else walk(value);
      }
    } else if (typeof node === 'string') out.push(node);
  };
  walk(history);
  return workflowIds.reduce((text, id) => text.split(id).join('<workflow id>'), out.join('\n'));
}

describe('no secret and no personal data in clear in Temporal', () => {
  before(async () => {
    await system().createOrganisation('private', { platforms: ['android', 'ios'] });
    await system().setSystem({ platforms: { android: { useSmsInstallationCode: true } } });
  });
  after(() => system().setSystem({ platforms: {} }));

  it('keeps password, codes, tokens, link and phone out of a completed registration and its device', async () => {
    // A second code may be asked for 300 ms after the first: the test waits that out.
    const resendIntervalMs = 300;
    const api = await system().startApi({ timings: { resendIntervalMs } });
    const { mail } = system();
    const email = uniqueEmail('private');
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const phone = '+447700900555';
    const r = await register(api, 'private', email);
    const first = codeIn(await mail.nth(email, 1));
    expectError(
      await api.call('POST', path(r, 'verify'), {
        token: r.token,
        body: { code: first === '999999' ? '999998' : '999999' },
      }),
      400,
      'invalid_code',
    );
    await sleep(resendIntervalMs + 100);
    await api.call('POST', path(r, 'resend'), { token: r.token });
    const second = codeIn(await mail.nth(email, 2));
    await api.call('POST', path(r, 'verify'), { token: r.token, body: { code: second } });
    await api.call('POST', path(r, 'profile'), {
      token: r.token,
      body: { firstName: 'Pri', lastName: 'Vate', phone, password },
    });
    const chosen = await api.call('POST', path(r, 'devices'), { token: r.token, body: { platform: 'android' } });
    const link = chosen.body.device.provisioningUrl.split('/').pop();
    expect((await checkInDevice(api, link)).status).to.equal(200);
    await registrationHandle(r).result();

    const registrationId = registrationHandle(r).workflowId;
    const deviceId = deviceWorkflowId(chosen.body.device.id);
    for (const workflowId of [registrationId, deviceId]) {
      const history = rawHistory(workflowId);
      const text = readable(history, [registrationId]);
      for (const [what, secret] of Object.entries({ password, first, second, token: r.token, link, phone, email })) {
        expect(text, `${what} in the raw history of ${workflowId}`).to.not.include(secret);
      }
      expect(JSON.stringify(history), 'the e-mail address only in clear where operators search').to.include(email);
    }
  });

  it("keeps passwords, session token, reset code, links and phone out of an owner's device runs and password reset", async () => {
    const { api, mail } = system();
    const email = uniqueEmail('private.owner');
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const newPassword = `new-${randomBytes(8).toString('hex')}`;
    const phone = '+447700900556';
    const r = await register(api, 'private', email);
    await api.call('POST', path(r, 'verify'), { token: r.token, body: { code: codeIn(await mail.nth(email, 1)) } });
    await api.call('POST', path(r, 'profile'), {
      token: r.token,
      body: { firstName: 'Pri', lastName: 'Vate', password },
    });
    const session = (await api.call('POST', '/api/session', { body: { organisation: 'private', email, password } }))
      .body.token as string;
    const added = await api.call('POST', '/api/me/devices', { token: session, body: { platform: 'android', phone } });
    expect(added.status, added.text).to.equal(201);
    const link = added.body.device.provisioningUrl.split('/').pop();
    expect((await api.call('DELETE', `/api/me/devices/${added.body.device.id}`, { token: session })).status).to.equal(
      204,
    );

    await api.call('POST', '/api/password-resets', { body: { organisation: 'private', email } });
    const resetCode = /reset code is (\d{6})/.exec((await mail.nth(email, 2)).text)?.[1] as string;
    const confirmed = await api.call('POST', '/api/password-resets/confirm', {
      body: { organisation: 'private', email, code: resetCode, password: newPassword },
    });
    expect(confirmed.status, confirmed.text).to.equal(204);

    const runs = [deviceWorkflowId(added.body.device.id), `password-reset/private/${email}`];
    await Promise.all(runs.map((id) => system().temporal.client.workflow.getHandle(id).result()));
    for (const workflowId of runs) {
      const history = rawHistory(workflowId);
      const text = readable(history, [workflowId]);
      const secrets = { password, newPassword, session, resetCode, link, phone, email };
      for (const [what, secret] of Object.entries(secrets)) {
        expect(text, `${what} in the raw history of ${workflowId}`).to.not.include(secret);
      }
    }
  });

  it('keeps them out of a registration that expired after a wrong code and a resend', async () => {
    const api = await system().startApi({ timings: { registrationTtlMs: 3_000, resendIntervalMs: 100 } });
    const email = uniqueEmail('expiring');
    const r = await register(api, 'private', email);
    const first = codeIn(await system().mail.nth(email, 1));
    await api.call('POST', path(r, 'verify'), {
      token: r.token,
      body: { code: first === '999999' ? '999998' : '999999' },
    });
    await sleep(200);
    await api.call('POST', path(r, 'resend'), { token: r.token });
    const second = codeIn(await system().mail.nth(email, 2));
    expect(await registrationHandle(r).result()).to.deep.equal({ step: 'expired' });
    const text = readable(rawHistory(registrationHandle(r).workflowId), [registrationHandle(r).workflowId]);
    for (const secret of [first, second, r.token, email]) expect(text).to.not.include(secret);
  });

  describe('the codec endpoint', () => {
    let payload: { metadata: Record<string, string>; data: string };
    let email: string;

    before(async () => {
      email = uniqueEmail('codec');
      const r = await register(system().api, 'private', email);
      const [started] = rawHistory(registrationHandle(r).workflowId).events as Array<{
        workflowExecutionStartedEventAttributes: { input: { payloads: Array<typeof payload> } };
      }>;
      payload = started?.workflowExecutionStartedEventAttributes.input.payloads[0] as typeof payload;
    });

    const decode = (headers: Record<string, string>) =>
      fetch(`${system().api.url}/codec/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
        body: JSON.stringify({ payloads: [payload] }),
      });

    it('stores the registration input encrypted, with the key id in the metadata', () => {
      expect(Buffer.from(payload.metadata.encoding as string, 'base64').toString()).to.equal('binary/encrypted');
      expect(Buffer.from(payload.metadata['encryption-key-id'] as string, 'base64').toString()).to.equal('test1');
      expect(Buffer.from(payload.data, 'base64').toString('latin1')).to.not.include(email);
    });

    it('decodes for the local Web UI and for a supervisor token', async () => {
      for (const headers of [{ origin: UI_ORIGIN }, { authorization: `Bearer ${SUPERVISOR_TOKEN}` }] as Array<
        Record<string, string>
      >) {
        const answer = await decode(headers);
        expect(answer.status).to.equal(200);
        const body = (await answer.json()) as { payloads: Array<{ data: string }> };
        const decoded = JSON.parse(Buffer.from(body.payloads[0]?.data as string, 'base64').toString());
        expect(decoded).to.deep.include({ organisation: 'private', email });
      }
      const local = await decode({ origin: UI_ORIGIN });
      expect(local.headers.get('access-control-allow-origin')).to.equal(UI_ORIGIN);
      const preflight = await fetch(`${system().api.url}/codec/decode`, {
        method: 'OPTIONS',
        headers: { origin: UI_ORIGIN },
      });
      expect(preflight.status).to.equal(204);
      expect(preflight.headers.get('access-control-allow-headers')).to.include('X-Namespace');
    });

    it('refuses another origin, no token and a wrong token', async () => {
      for (const headers of [
        { origin: 'http://evil.example' },
        { origin: 'http://evil.example', authorization: `Bearer ${SUPERVISOR_TOKEN}` },
        {},
        { authorization: 'Bearer not-the-supervisor-token' },
      ] as Array<Record<string, string>>) {
        const answer = await decode(headers);
        expect(answer.status, JSON.stringify(headers)).to.equal(401);
        expect(((await answer.json()) as { error: { code: string } }).error.code).to.equal('unauthorized');
        expect(answer.headers.get('access-control-allow-origin')).to.equal(null);
      }
    });

    it('refuses malformed bodies and payloads it cannot decode with 400', async () => {
      const bad = await fetch(`${system().api.url}/codec/decode`, {
        method: 'POST',
        headers: { authorization: `Bearer ${SUPERVISOR_TOKEN}` },
        body: JSON.stringify({ payloads: [{ ...payload, data: Buffer.from('tampered').toString('base64') }] }),
      });
      expect(bad.status).to.equal(400);
      const malformed = await fetch(`${system().api.url}/codec/decode`, {
        method: 'POST',
        headers: { authorization: `Bearer ${SUPERVISOR_TOKEN}` },
        body: JSON.stringify({ nope: true }),
      });
      expect(malformed.status).to.equal(400);
    });
  });
});
