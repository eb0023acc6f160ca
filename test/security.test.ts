import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createAuth } from '../api/auth';
import { loadConfig } from '../lib/config';
import { createApiTokens } from '../services/admin/api-tokens';
import { expectError, path, type Registered, register, sleep, uniqueEmail, verified } from './support/flow';
import { codeIn } from './support/smtp';
import { type ApiUnderTest, system, UI_ORIGIN } from './support/system';

/** What a client on the network could do, closed; each test fails on the code before the hardening. */

const ORG = 'hardened';
const PASSWORD = 'plum-Orbit-kettle-91-Sway';
const minute = (points: number) => ({ points, windowMs: 60_000 });

let nextHost = 0;
/** A client address of its own per use (the counters are shared by every test API): 198.18.0.0/15 is for tests. */
const newClient = () => {
  nextHost += 1;
  return `198.18.${Math.floor(nextHost / 250) % 250}.${(nextHost % 250) + 1}`;
};

async function post(api: ApiUnderTest, route: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${api.url}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined, text };
}

const signIn = (api: ApiUnderTest, email: string, password: string, from?: string) =>
  post(api, '/api/session', { organisation: ORG, email, password }, from ? { 'x-forwarded-for': from } : {});

const verify = (api: ApiUnderTest, r: Registered, code: string, from: string) =>
  post(api, path(r, 'verify'), { code }, { authorization: `Bearer ${r.token}`, 'x-forwarded-for': from });

/** An owner with an account in ORG and a known password. */
async function owner(api = system().api): Promise<Registered> {
  const r = await verified(api, ORG);
  const answer = await api.call('POST', path(r, 'profile'), {
    token: r.token,
    body: { firstName: 'Grace', lastName: 'Hopper', password: PASSWORD },
  });
  expect(answer.status, answer.text).to.equal(200);
  return r;
}

const wrongCode = (right: string) => String((Number(right) + 1) % 1_000_000).padStart(6, '0');
const statuses = (answers: Array<{ status: number }>) => {
  const count: Record<number, number> = {};
  for (const { status } of answers) count[status] = (count[status] ?? 0) + 1;
  return count;
};

describe('security hardening', () => {
  before(() => system().createOrganisation(ORG));

  describe('the local outbox', () => {
    it('answers only this machine, directly: through another address of this machine, or forwarded, it is not there', async () => {
      const outbox = await system().startApi({ devOutbox: true, host: '0.0.0.0' });
      const port = new URL(outbox.url).port;
      const external = Object.values(networkInterfaces())
        .flat()
        .find((net) => net && net.family === 'IPv4' && !net.internal)?.address;
      expect(external, 'this machine has a non-loopback IPv4 address to test with').to.be.a('string');

      expect((await fetch(`http://127.0.0.1:${port}/dev/outbox`)).status).to.equal(200);
      expectError(await system().api.call('GET', '/dev/outbox'), 404, 'not_found');
      const remote = await fetch(`http://${external}:${port}/dev/outbox`);
      expect(remote.status).to.equal(404);
      expect(await remote.text()).not.to.include('<h1');
      for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip']) {
        const forwarded = await fetch(`http://127.0.0.1:${port}/dev/outbox`, { headers: { [header]: '127.0.0.1' } });
        expect(forwarded.status, header).to.equal(404);
      }
    });

    it('a real deployment does not start without a mail transport, and says SMTP_URL', () => {
      const secrets = {
        APP_SECRET: 'x'.repeat(40),
        TEMPORAL_CODEC_KEY: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
      };
      expect(() => loadConfig({ DATABASE_URL: 'postgres://db.example/sss', DATA_DIR: tmpdir() })).to.throw(/SMTP_URL/);
      expect(() => loadConfig({ TEMPORAL_ADDRESS: 'temporal.example:7233', ...secrets })).to.throw(/SMTP_URL/);
      expect(
        loadConfig({ TEMPORAL_ADDRESS: 'temporal.example:7233', SMTP_URL: 'smtp://mail.example', ...secrets }).smtpUrl,
      ).to.equal('smtp://mail.example');
    });
  });

  it('a process with a setting to fix stops and names it in one line, with no stack', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'bad-config-'));
    // The three at once, and without blocking this process (whose worker and API serve the other tests' runs).
    const started = (entry: string) =>
      new Promise<{ status: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'main', entry)], {
          env: { PATH: process.env.PATH, DATA_DIR: dataDir, PROFILE_SIGNING_KEY: join(dataDir, 'key.pem') },
          stdio: ['ignore', 'ignore', 'pipe'],
          timeout: 60_000,
        });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
          stderr += chunk;
        });
        child.on('close', (status) => resolve({ status, stderr }));
      });
    try {
      const entries = ['api.ts', 'worker.ts', 'all-in-one.ts'];
      const answers = await Promise.all(entries.map(started));
      entries.forEach((entry, n) => {
        expect(answers[n]?.status, entry).to.equal(1);
        expect(answers[n]?.stderr, entry).to.equal(
          'invalid configuration: set both PROFILE_SIGNING_CERTIFICATE and PROFILE_SIGNING_KEY, or neither\n',
        );
      });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses at start a supervisor token the API could never accept as a bearer token', () => {
    expect(() => loadConfig({ SUPERVISOR_TOKEN: 'a passphrase with spaces', DATA_DIR: tmpdir() })).to.throw(
      /SUPERVISOR_TOKEN/,
    );
    const dataDir = mkdtempSync(join(tmpdir(), 'sss-config-'));
    try {
      expect(loadConfig({ SUPERVISOR_TOKEN: 'url-safe_token-0123456789', DATA_DIR: dataDir }).supervisorToken).to.equal(
        'url-safe_token-0123456789',
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('two API processes starting at once with the same SUPERVISOR_TOKEN both start', async () => {
    const token = `supervisor-${Date.now().toString(36)}-race-0123456789`;
    // Each as its own process builds it.
    const { models } = system().db;
    const authOfAnApi = () => createAuth(models, createApiTokens({ models, secrets: system().secrets }));
    const starts = [1, 2].map(() => authOfAnApi().bootstrapSupervisor(token));
    expect(await Promise.all(starts)).to.deep.equal([undefined, undefined]);
    expect((await authOfAnApi().principalOf(token))?.role).to.equal('supervisor');
  });

  describe('sign-in limits', () => {
    it('50 wrong passwords at once: 5 are checked (401), the other 45 refused (429)', async () => {
      const { api } = system();
      const email = uniqueEmail('parallel');
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => signIn(api, email, `wrong guess ${i}`)));
      expect(statuses(answers)).to.deep.equal({ 401: 5, 429: 45 });
      for (const answer of answers.filter((a) => a.status === 429)) {
        expectError(answer, 429, 'too_many_attempts');
        expect(Number(answer.headers.get('retry-after'))).to.be.within(1, 60);
      }
    });

    it('an attacker locked out at one address does not lock the owner out at another', async () => {
      const { api } = system();
      const r = await owner();
      const [attacker, home] = [newClient(), newClient()];
      for (let i = 0; i < 5; i++)
        expectError(await signIn(api, r.email, `guess ${i}`, attacker), 401, 'invalid_credentials');
      expectError(await signIn(api, r.email, PASSWORD, attacker), 429, 'too_many_attempts');
      const answer = await signIn(api, r.email, PASSWORD, home);
      expect(answer.status, answer.text).to.equal(200);
    });

    it('per account, failures from many addresses only throttle, for the account window', async () => {
      const api = await system().startApi({ limits: { signInPerAccount: minute(6) } });
      const r = await owner();
      for (let i = 0; i < 6; i++) {
        expectError(await signIn(api, r.email, `guess ${i}`, newClient()), 401, 'invalid_credentials');
      }
      const throttled = await signIn(api, r.email, PASSWORD, newClient());
      expectError(throttled, 429, 'too_many_attempts');
      expect(Number(throttled.headers.get('retry-after'))).to.be.within(1, 60);
    });

    it('IPv6 clients count per /64; TRUST_PROXY names the load balancer whose X-Forwarded-For is believed', async () => {
      const { api } = system();
      const email = uniqueEmail('v6');
      const net = `2001:db8:${(Date.now() % 65_000).toString(16)}`;
      for (const host of ['::1', '::2', ':ffff::1', ':abcd:1::', ':9:9:9:9']) {
        expectError(await signIn(api, email, 'guess', `${net}:7${host}`), 401, 'invalid_credentials');
      }
      expectError(await signIn(api, email, 'guess', `${net}:7::42`), 429, 'too_many_attempts');
      expectError(await signIn(api, email, 'guess', `${net}:8::1`), 401, 'invalid_credentials');

      // Behind a load balancer at 10.0.0.5: with it trusted, each client is itself, not the balancer.
      const balanced = await system().startApi({
        trustProxy: ['loopback', '10.0.0.0/8'],
        limits: { signInPerAddress: minute(3) },
      });
      const [first, second] = [newClient(), newClient()];
      // Each one a new account: only the per-address limit can refuse.
      const viaBalancer = (client: string) =>
        post(
          balanced,
          '/api/session',
          { organisation: ORG, email: uniqueEmail(), password: 'x' },
          {
            'x-forwarded-for': `${client}, 10.0.0.5`,
          },
        );
      for (let i = 0; i < 3; i++) expectError(await viaBalancer(first), 401, 'invalid_credentials');
      expectError(await viaBalancer(first), 429, 'too_many_attempts');
      expectError(await viaBalancer(second), 401, 'invalid_credentials');
    });
  });

  describe('codes', () => {
    it('guesses sent while the code is still on its way are checked one by one: none past the limit is accepted', async () => {
      const { api, mail } = system();
      mail.hold();
      const r = await register(api, ORG, uniqueEmail('held'));
      let answers: Array<Awaited<ReturnType<typeof verify>>>;
      try {
        const right = codeIn(await mail.nth(r.email, 1));
        const guesses = [...Array.from({ length: 5 }, () => wrongCode(right)), right];
        const pending: Array<ReturnType<typeof verify>> = [];
        for (const code of guesses) {
          pending.push(verify(api, r, code, newClient()));
          // In this order: the right code arrives after five wrong ones.
          await sleep(150);
        }
        await sleep(300);
        mail.release();
        answers = await Promise.all(pending);
      } finally {
        mail.release();
      }
      expect(answers.slice(0, 4).map((a) => a.status)).to.deep.equal([400, 400, 400, 400]);
      expect(answers[4]?.status).to.equal(429);
      expectError(answers[5] as (typeof answers)[number], 429, 'too_many_attempts');
      const status = await api.call('GET', path(r), { token: r.token });
      expect(status.body.step).to.equal('verify-email');
    });

    it('wrong verification codes are limited per client address, and per organisation, across registrations', async () => {
      const org = `codes-${Date.now().toString(36)}`;
      await system().createOrganisation(org);
      const api = await system().startApi({ limits: { codesPerAddress: minute(3), verifyPerOrganisation: minute(5) } });
      const { mail } = system();
      const codeOf = async (r: Registered) => codeIn(await mail.nth(r.email, 1));

      const guesser = newClient();
      for (let i = 0; i < 3; i++) {
        const r = await register(api, org, uniqueEmail('made-up'));
        expectError(await verify(api, r, wrongCode(await codeOf(r)), guesser), 400, 'invalid_code');
      }
      // Past the per-address limit even a right code is refused from there; from elsewhere it is taken.
      const honest = await register(api, org, uniqueEmail('honest'));
      expectError(await verify(api, honest, await codeOf(honest), guesser), 429, 'too_many_attempts');
      expect((await verify(api, honest, await codeOf(honest), newClient())).status).to.equal(200);

      // Two more wrong codes from two more addresses spend the organisation's allowance.
      for (let i = 0; i < 2; i++) {
        const r = await register(api, org, uniqueEmail('made-up'));
        expectError(await verify(api, r, wrongCode(await codeOf(r)), newClient()), 400, 'invalid_code');
      }
      const late = await register(api, org, uniqueEmail('late'));
      expectError(await verify(api, late, await codeOf(late), newClient()), 429, 'too_many_attempts');
    });

    it('wrong reset codes from an attacker do not block the owner’s own reset from another address', async () => {
      const { api, mail } = system();
      const r = await owner();
      const reset = async (from: string) => {
        expect(
          (await post(api, '/api/password-resets', { organisation: ORG, email: r.email }, { 'x-forwarded-for': from }))
            .status,
        ).to.equal(202);
      };
      const attacker = newClient();
      await reset(attacker);
      await mail.nth(r.email, 2);
      const confirm = (code: string, from: string) =>
        post(
          api,
          '/api/password-resets/confirm',
          { organisation: ORG, email: r.email, code, password: 'Brand-new-Lantern-77-pace' },
          { 'x-forwarded-for': from },
        );
      const guesses = await Promise.all(Array.from({ length: 30 }, (_, i) => confirm(String(100_000 + i), attacker)));
      expect(guesses.filter((a) => a.status === 400).length).to.be.at.most(5);
      // 409 busy: another guess at the same reset was being checked at that moment; it was not checked itself.
      expect(
        guesses.every((a) => [400, 409, 429].includes(a.status)),
        JSON.stringify(statuses(guesses)),
      ).to.equal(true);

      // The owner asks for a new code (the old one is spent by the guesses) and uses it from home.
      await sleep(1_600);
      const home = newClient();
      await reset(home);
      const code = /reset code is (\d{6})/.exec((await mail.nth(r.email, 3)).text)?.[1] as string;
      const answer = await confirm(code, home);
      expect(answer.status, answer.text).to.equal(204);
    });
  });

  describe('password hashing', () => {
    it('checks the caller before hashing, and answers 503 with Retry-After when the hashing queue is full', async () => {
      const api = await system().startApi({ limits: { hashingQueue: 1 } });
      const ready = await Promise.all(Array.from({ length: 12 }, () => verified(api, ORG)));
      const profile = (r: Registered, token: string) =>
        api.call('POST', path(r, 'profile'), { token, body: { firstName: 'F', lastName: 'L', password: PASSWORD } });

      // A flood of bogus callers costs no hashing: none of them is queued, so none hears 503.
      const bogus = await Promise.all(ready.flatMap((r) => [1, 2, 3].map(() => profile(r, 'x'.repeat(43)))));
      expect(statuses(bogus)).to.deep.equal({ 401: 36 });

      const real = await Promise.all(ready.map((r) => profile(r, r.token)));
      const counts = statuses(real);
      expect(counts[503], JSON.stringify(counts)).to.be.greaterThan(0);
      expect((counts[200] ?? 0) + (counts[503] ?? 0)).to.equal(12);
      const busy = real.find((a) => a.status === 503) as (typeof real)[number];
      expectError(busy, 503, 'unavailable');
      expect(busy.headers.get('retry-after')).to.equal('1');
      // A refused owner tries again and goes on: nothing was half-done.
      const again = ready.filter((_, i) => real[i]?.status === 503);
      for (const r of again) expect((await profile(r, r.token)).status).to.equal(200);
    });
  });

  describe('headers and cookies', () => {
    const routes = [
      '/healthz',
      '/api/openapi.json',
      '/api/nothing-here',
      `/setup/${ORG}`,
      '/provision/unknown-link-token-000',
    ];

    it('every response has the security headers; HSTS only when the public address is https', async () => {
      for (const route of routes) {
        const answer = await system().api.call('GET', route);
        expect(answer.headers.get('x-content-type-options'), route).to.equal('nosniff');
        expect(answer.headers.get('x-frame-options'), route).to.equal('DENY');
        expect(answer.headers.get('content-security-policy'), route).to.include("frame-ancestors 'none'");
        expect(answer.headers.get('referrer-policy'), route).to.equal('no-referrer');
        expect(answer.headers.get('strict-transport-security'), route).to.equal(null);
      }
      const https = await system().startApi({ publicUrl: 'https://setup.example' });
      for (const route of routes) {
        expect((await https.call('GET', route)).headers.get('strict-transport-security'), route).to.match(
          /max-age=\d{7,}; includeSubDomains/,
        );
      }
    });

    it('over https the pages’ cookies are __Host- cookies, and the flow works with them', async () => {
      const https = await system().startApi({ publicUrl: 'https://setup.example' });
      const page = await fetch(`${https.url}/setup/${ORG}`);
      const csrfCookie = page.headers.getSetCookie().find((c) => c.startsWith('__Host-csrf-id='));
      expect(csrfCookie).to.match(/; Path=\/;.*HttpOnly; Secure; SameSite=Lax/);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] as string;
      const cookies = [(csrfCookie as string).split(';')[0]];

      const email = uniqueEmail('host-cookie');
      const started = await fetch(`${https.url}/setup/${ORG}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies.join('; ') },
        body: new URLSearchParams({ _csrf: csrf, email }),
      });
      expect(started.status).to.equal(303);
      const registration = started.headers.getSetCookie().find((c) => c.startsWith(`__Host-registration-${ORG}=`));
      expect(registration).to.match(/; Path=\/;.*HttpOnly; Secure; SameSite=Lax/);
      cookies.push((registration as string).split(';')[0]);
      const verifyPage = await fetch(`${https.url}${started.headers.get('location')}`, {
        headers: { cookie: cookies.join('; ') },
      });
      expect(verifyPage.status).to.equal(200);
      expect(await verifyPage.text()).to.include(email);
    });
  });

  describe('the codec endpoint', () => {
    const decode = (headers: Record<string, string>) =>
      fetch(`${system().api.url}/codec/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: UI_ORIGIN, ...headers },
        body: JSON.stringify({ payloads: [] }),
      });

    it('lets the local Web UI in only directly from this machine: a forwarded request without a token is 401', async () => {
      expect((await decode({})).status).to.equal(200);
      for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip', 'via']) {
        const answer = await decode({ [header]: '127.0.0.1' });
        expect(answer.status, header).to.equal(401);
      }
    });
  });
});
