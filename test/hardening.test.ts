import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import sqlite3 from 'sqlite3';
import { newCodecKey } from '../lib/codec';
import { freeLoopbackPort } from '../lib/loopback';
import { makeAdmin, newSetupLink, signInAdmin } from './support/admin';
import { launchBrowser, visiting } from './support/browser';
import { checkInDevice, eventually, expectError, sleep, uniqueEmail, verified, withDevice } from './support/flow';
import { expectSpec } from './support/openapi';
import { healthy, stop } from './support/processes';
import { APP_SECRET_TEXT, type ApiUnderTest, SUPERVISOR_TOKEN, system } from './support/system';

const ORG = 'hardening-small';
const NEW_PASSWORD = 'a brand new passphrase';

/** An owner whose device checked in: their account exists and can reset its password. */
async function enrolledOwner(api: ApiUnderTest) {
  const r = await withDevice(api, ORG);
  expect((await checkInDevice(api, r.linkToken)).status).to.equal(200);
  return r;
}

/** A form of the pages posted as a browser without JavaScript does: the CSRF cookie and token of the form's page. */
async function postForm(api: ApiUnderTest, route: string, fields: Record<string, string>) {
  const page = await fetch(`${api.url}${route}`);
  const cookie = page.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] as string;
  const answer = await fetch(`${api.url}${route}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams({ _csrf: csrf, ...fields }),
  });
  return { status: answer.status, location: answer.headers.get('location'), text: await answer.text() };
}

const resetMails = (email: string) =>
  system()
    .mail.to(email)
    .filter((m) => m.subject.startsWith('Your password reset code'));

/** The newest reset code once more than `before` reset codes reached the address. */
const resetCodeOf = async (email: string, before: number) => {
  const codes = await eventually(
    async () => resetMails(email),
    (found) => found.length > before,
  );
  return /reset code is (\d{6})/.exec(codes.at(-1)?.text ?? '')?.[1] as string;
};

describe('hardening', () => {
  before(() => system().createOrganisation(ORG));

  describe('a reset confirmation that cannot succeed', () => {
    /**
     * An API whose hashing queue takes nothing: any Argon2 hash it is asked for answers 503 at once (the real
     * PasswordWork's refusal), so an answer other than 503 shows that no hash was asked for.
     */
    let noHashing: ApiUnderTest;
    before(async () => {
      noHashing = await system().startApi({ limits: { hashingQueue: 0 } });
    });

    const confirm = (api: ApiUnderTest, email: string, password = NEW_PASSWORD) =>
      api.call('POST', '/api/password-resets/confirm', {
        body: { organisation: ORG, email, code: '123456', password },
      });

    it('costs no hash and no strength estimate for an address that never asked, through the API and the page', async () => {
      const r = await enrolledOwner(system().api);
      const bogus = await confirm(noHashing, r.email);
      expectError(bogus, 410, 'code_expired');
      await expectSpec('POST', '/api/password-resets/confirm', bogus);
      // A password zxcvbn would refuse: the answer is about the code, so the estimate was never made.
      expectError(await confirm(noHashing, r.email, 'qwertyuiop12'), 410, 'code_expired');
      expectError(await confirm(noHashing, uniqueEmail('nobody')), 410, 'code_expired');

      const page = await postForm(noHashing, `/setup/${ORG}/reset-password`, {
        email: r.email,
        code: '123456',
        password: NEW_PASSWORD,
      });
      expect(page.status, page.text).to.equal(410);
      expect(page.text).to.include('That code has expired or was never sent.');
    });

    it('hashes only a reset that can succeed, which works through the API and the page', async () => {
      const { api } = system();
      const r = await enrolledOwner(api);
      const signIn = (password: string) =>
        api.call('POST', '/api/session', { body: { organisation: ORG, email: r.email, password } });

      const asked = await api.call('POST', '/api/password-resets', { body: { organisation: ORG, email: r.email } });
      expect(asked.status).to.equal(202);
      const code = await resetCodeOf(r.email, 0);
      // A code is waiting: now a confirmation is worth a hash, which the queue that takes none refuses.
      expectError(await confirm(noHashing, r.email), 503, 'unavailable');
      // ... and the new password is judged, its refusal beside the field as before.
      const weak = await api.call('POST', '/api/password-resets/confirm', {
        body: { organisation: ORG, email: r.email, code, password: 'qwertyuiop12' },
      });
      expectError(weak, 400, 'invalid_request');
      expect(weak.body.error.message).to.match(/^password: too easy to guess\./);
      const changed = await api.call('POST', '/api/password-resets/confirm', {
        body: { organisation: ORG, email: r.email, code, password: NEW_PASSWORD },
      });
      expect(changed.status, changed.text).to.equal(204);
      expect((await signIn(NEW_PASSWORD)).status).to.equal(200);
      // The spent reset refuses its code again without a hash.
      const again = await noHashing.call('POST', '/api/password-resets/confirm', {
        body: { organisation: ORG, email: r.email, code, password: NEW_PASSWORD },
      });
      expectError(again, 410, 'code_expired');

      // Through the pages, with a new code.
      const before = resetMails(r.email).length;
      const forgot = await postForm(api, `/setup/${ORG}/forgot-password`, { email: r.email });
      expect(forgot.status, forgot.text).to.equal(303);
      const pageCode = await resetCodeOf(r.email, before);
      const form = { email: r.email, code: pageCode };
      const weakPage = await postForm(api, `/setup/${ORG}/reset-password`, { ...form, password: 'qwertyuiop12' });
      expect(weakPage.status).to.equal(400);
      expect(weakPage.text).to.include('Too easy to guess.');
      const reset = await postForm(api, `/setup/${ORG}/reset-password`, {
        ...form,
        password: 'another fresh passphrase',
      });
      expect(reset.status, reset.text).to.equal(303);
      expect(reset.location).to.include('password-changed');
      expect((await signIn('another fresh passphrase')).status).to.equal(200);
    });
  });

  describe('the JSON API takes JSON only with a JSON content type', () => {
    const ROUTE = '/api/setup/registrations';
    const send = (headers: Record<string, string>, body: BodyInit) =>
      fetch(`${system().api.url}${ROUTE}`, { method: 'POST', headers, body }).then(async (response) => {
        const text = await response.text();
        return { status: response.status, headers: response.headers, text, body: text ? JSON.parse(text) : undefined };
      });
    const json = () => JSON.stringify({ organisation: ORG, email: uniqueEmail('typed') });

    it('refuses a JSON body sent without a content type, as text/plain or as a form, with 415', async () => {
      // A byte body: fetch names no content type for it, as `curl --data-binary` with the header removed.
      const untyped = await send({}, new TextEncoder().encode(json()));
      expectError(untyped, 415, 'unsupported_media_type');
      await expectSpec('POST', ROUTE, untyped);
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
        expectError(await send({ 'content-type': type }, json()), 415, 'unsupported_media_type');
      }
      const typed = await send({ 'content-type': 'application/json; charset=utf-8' }, json());
      expect(typed.status, typed.text).to.equal(201);
    });

    it('leaves requests without a body, the MDMs’ events and the pages’ forms as they were', async () => {
      const { api } = system();
      const r = await withDevice(api, ORG);
      // No body at all, and an empty one, whatever their content type.
      const status = await fetch(`${api.url}/api/setup/registrations/${r.id}`, {
        headers: { authorization: `Bearer ${r.token}`, 'content-type': 'text/plain' },
      });
      expect(status.status).to.equal(200);
      const signOut = await fetch(`${api.url}/api/session`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${'x'.repeat(43)}` },
      });
      expect(signOut.status).to.equal(204);
      // An MDM's signed event keeps reading its raw body, whatever its content type: here refused for its signature.
      const event = await fetch(`${api.url}/api/mdm/events`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: '{}',
      });
      expect(event.status).to.not.equal(415);
      // A page's form (urlencoded) still works.
      const form = await postForm(api, `/setup/${ORG}`, { email: uniqueEmail('form') });
      expect(form.status, form.text).to.equal(303);
    });
  });

  describe('a NUL character', () => {
    it("in the registrations filter of the settings API and of the console is a 400, not Temporal's fault", async () => {
      const { api } = system();
      const list = await api.call('GET', `/api/organisations/${ORG}/registrations?email=a%00b@example.com`, {
        token: SUPERVISOR_TOKEN,
      });
      expectError(list, 400, 'invalid_request');
      expect(list.body.error.message).to.include('NUL');
      // In a path parameter too (an organisation's slug, which PostgreSQL's text cannot hold).
      const inPath = await api.call('GET', '/api/organisations/a%00b/registrations', { token: SUPERVISOR_TOKEN });
      expectError(inPath, 400, 'invalid_request');
      const browser = await launchBrowser();
      try {
        const admin = await makeAdmin();
        await visiting(browser, async (page) => {
          await signInAdmin(page, admin);
          for (const address of [
            `/admin/organisations/${ORG}/registrations?email=a%00b%40example.com`,
            `/admin/organisations/${ORG}/devices?owner=a%00b`,
            '/admin/organisations/a%00b/devices',
          ]) {
            const answer = await page.goto(address);
            expect(answer?.status(), address).to.equal(400);
            expect(await page.locator('main').textContent()).to.include('NUL');
          }
          const ok = await page.goto(`/admin/organisations/${ORG}/registrations?email=a%40example.com`);
          expect(ok?.status()).to.equal(200);
        });
      } finally {
        await browser.close();
      }
    });

    it('anywhere in a JSON body or a form is a 400', async () => {
      const { api } = system();
      const r = await verified(api, ORG);
      const profile = await api.call('POST', `/api/setup/registrations/${r.id}/profile`, {
        token: r.token,
        body: { firstName: 'Ada\u0000', lastName: 'Lovelace', password: NEW_PASSWORD },
      });
      expectError(profile, 400, 'invalid_request');
      await expectSpec('POST', '/api/setup/registrations/{id}/profile', profile);
      // Text at any depth is looked at, without recursion: a body nested past the call stack is still a plain 400.
      const deep = 20_000;
      const nested = await api.call('POST', '/api/setup/registrations', {
        raw: `${'['.repeat(deep)}${']'.repeat(deep)}`,
      });
      expectError(nested, 400, 'invalid_request');
      const form = await postForm(api, `/setup/${ORG}`, { email: 'a\u0000b@example.com' });
      expect(form.status).to.equal(400);
    });
  });

  describe("the first supervisor's set-up link and a generated supervisor token", () => {
    const dirs: string[] = [];
    const tempDir = () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'sss-handover-'));
      dirs.push(dir);
      return dir;
    };
    after(() => {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });

    /** What the product's own processes need of the environment, for a database and a data folder of the test's. */
    const environment = (databaseUrl: string, dataDir: string, extra: Record<string, string> = {}) => {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        DATABASE_URL: databaseUrl,
        DATA_DIR: dataDir,
        // Never dialled by these processes: the API sends no mail here, the command none at all.
        SMTP_URL: 'smtp://127.0.0.1:9',
        APP_SECRET: APP_SECRET_TEXT,
        TEMPORAL_ADDRESS: system().temporal.address,
        TEMPORAL_CODEC_KEY: newCodecKey(),
        PUBLIC_URL: 'http://app.test',
        SEED_DEMO: 'false',
        LOG_LEVEL: 'info',
        ...extra,
      };
      delete env.SUPERVISOR_TOKEN;
      return env;
    };

    /** `npm run admin:setup-link`, its output collected as a service manager would (not a terminal). */
    const setupLinkCommand = (env: NodeJS.ProcessEnv, args: string[] = []) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'main/admin-setup-link.ts', ...args], { env, encoding: 'utf8' });

    const fileOf = (dataDir: string, name: string) => {
      const file = path.join(dataDir, name);
      expect(statSync(file).mode & 0o777, `${name} is readable by its owner only`).to.equal(0o600);
      return readFileSync(file, 'utf8').trim();
    };

    it('expires, answering so clearly, and the command makes a new one that works, given outside the output', async () => {
      const { api, db, dataDir: testData } = system();
      const expired = new URL(await newSetupLink(1)).pathname;
      await sleep(5);
      const page = await fetch(`${api.url}${expired}`);
      expect(page.status).to.equal(410);
      const text = await page.text();
      expect(text).to.include('This set-up link has expired');
      expect(text).to.include('npm run admin:setup-link');

      await makeAdmin();
      const dataDir = tempDir();
      const env = environment(`sqlite:${path.join(testData, 'app.sqlite')}`, dataDir);
      const refused = setupLinkCommand(env);
      expect(refused.status, 'the console has admins: only for recovery').to.equal(1);
      expect(refused.stderr).to.include('--recovery');
      const made = setupLinkCommand(env, ['--recovery']);
      expect(made.status, made.stderr).to.equal(0);
      const link = fileOf(dataDir, 'admin-setup-link');
      expect(link).to.match(/^http:\/\/app\.test\/admin\/setup\/[A-Za-z0-9_-]{43}$/);
      const output = made.stdout + made.stderr;
      expect(output).to.not.include(new URL(link).pathname.split('/').pop() as string);
      expect(output).to.include(path.join(dataDir, 'admin-setup-link'));

      const fresh = await fetch(`${api.url}${new URL(link).pathname}`);
      expect(fresh.status).to.equal(200);
      expect(await fresh.text()).to.include('Set up the first supervisor');
      expect((await fetch(`${api.url}${expired}`)).status, 'the replaced link').to.equal(404);
      const row = await db.models.AdminSetupToken.findOne({ where: { usedAt: null } });
      const lifetime = (row?.expiresAt.getTime() ?? 0) - (row?.createdAt.getTime() ?? 0);
      expect(lifetime, 'ADMIN_SETUP_LINK_TTL: a day by default').to.be.closeTo(86_400_000, 5_000);

      // On a terminal (util-linux's `script` gives the command one), the link is shown there, and no file is left.
      const onTerminal = tempDir();
      const command = `${process.execPath} --import tsx main/admin-setup-link.ts --recovery`;
      const shown = spawnSync('script', ['-qec', command, '/dev/null'], {
        env: environment(`sqlite:${path.join(testData, 'app.sqlite')}`, onTerminal),
        encoding: 'utf8',
      });
      expect(shown.status, shown.stdout).to.equal(0);
      expect(shown.stdout).to.match(/http:\/\/app\.test\/admin\/setup\/[A-Za-z0-9_-]{43}/);
      expect(readdirSync(onTerminal)).to.deep.equal([]);
    });

    it('a started API writes neither its generated supervisor token nor the set-up link to its output', async () => {
      const dataDir = tempDir();
      const port = await freeLoopbackPort();
      const env = environment(`sqlite:${path.join(dataDir, 'app.sqlite')}`, dataDir, {
        PORT: String(port),
        ADMIN_SETUP_LINK_TTL: '2h',
      });
      const child = spawn(process.execPath, ['--import', 'tsx', 'main/api.ts'], { env });
      let output = '';
      child.stdout.on('data', (chunk) => {
        output += chunk;
      });
      child.stderr.on('data', (chunk) => {
        output += chunk;
      });
      const url = `http://127.0.0.1:${port}`;
      try {
        await healthy(url);
        const token = fileOf(dataDir, 'supervisor-token');
        const link = fileOf(dataDir, 'admin-setup-link');
        const settings = await fetch(`${url}/api/settings/system`, { headers: { authorization: `Bearer ${token}` } });
        expect(settings.status, 'the token in the file is the supervisor’s').to.equal(200);
        expect((await fetch(`${url}${new URL(link).pathname}`)).status).to.equal(200);
        await sleep(200);
        expect(output).to.not.include(token);
        expect(output).to.not.include(new URL(link).pathname.split('/').pop() as string);
        expect(output).to.include(path.join(dataDir, 'supervisor-token'));
        expect(output).to.include(path.join(dataDir, 'admin-setup-link'));
      } finally {
        await stop([child]);
      }
      // Read with sqlite3 itself: opening the database through db/ would rebind the models the suite's system uses.
      const [row] = await sqliteRows(
        path.join(dataDir, 'app.sqlite'),
        'SELECT created_at AS createdAt, expires_at AS expiresAt FROM admin_setup_tokens',
      );
      const lifetime = sqliteTime(row?.expiresAt) - sqliteTime(row?.createdAt);
      expect(lifetime, 'ADMIN_SETUP_LINK_TTL=2h').to.be.closeTo(7_200_000, 5_000);
    });
  });
});

/** Rows of a query on a SQLite file, read by the driver alone. */
function sqliteRows(file: string, sql: string): Promise<Array<Record<string, string>>> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (opening) => {
      if (opening) return reject(opening);
      db.all(sql, (error, rows) =>
        db.close(() => (error ? reject(error) : resolve(rows as Array<Record<string, string>>))),
      );
    });
  });
}

/** Sequelize's SQLite time text (`2026-01-01 10:00:00.000 +00:00`) in milliseconds. */
const sqliteTime = (text = '') => Date.parse(text.replace(' ', 'T').replace(' +00:00', 'Z'));
