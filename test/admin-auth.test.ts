import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { URI } from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { newTotpSecret, totpStep } from '../lib/totp';
import {
  ADMIN_PASSWORD,
  codeAt,
  currentStep,
  enterCode,
  enterPassword,
  makeAdmin,
  newSetupLink,
  nextCode,
  signInAdmin,
  type TestAdmin,
} from './support/admin';
import { errorOf, expectGoodPage, launchBrowser, newVisitor, onTestApi, visiting } from './support/browser';
import { decodeQrPng } from './support/qr';
import { SITE_NAME, system } from './support/system';
import { pathOf, press } from './support/web-flow';

const SUPERVISOR_SECTIONS = ['/admin/configuration/platforms', '/admin/organisations', '/admin/tokens'];
const ORG_A = 'admin-auth-a';
const ORG_B = 'admin-auth-b';

const sectionsOn = (page: Page) =>
  page.locator('nav[aria-label="Sections"] a').evaluateAll((links) => links.map((a) => a.getAttribute('href')));

/** A code no app shows now: of a step far outside the window the server takes. */
const wrongCodeFor = (secret: string) => codeAt(secret, currentStep() + 10);

/** The first supervisor's set-up through the pages, from the link to the admin home; the secret the page showed. */
async function setUpSupervisor(page: Page, link: string, email: string): Promise<string> {
  await page.goto(onTestApi(link));
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await press(page, 'Continue');
  expect(pathOf(page)).to.equal(`${new URL(link).pathname}/code`);
  const secret = ((await page.locator('#totp-secret').textContent()) as string).replace(/\s/g, '');
  await page.getByLabel('Code', { exact: true }).fill(codeAt(secret, currentStep()));
  await press(page, 'Finish set-up');
  expect(pathOf(page)).to.equal('/admin');
  return secret;
}

async function cookieNamed(page: Page, name: string) {
  return (await page.context().cookies()).find((cookie) => cookie.name === name);
}

/** A form posted as another site (or a script) would: without the page's CSRF token. */
async function postWithoutToken(route: string, body: string, cookie?: string) {
  const { api } = system();
  return fetch(`${api.url}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body,
    redirect: 'manual',
  });
}

/**
 * What API processes starting at once on a database print (`firstSupervisorSetupLink`), run in a process of its own:
 * the models are bound to one database per process. With `setUp`, the link is used and a supervisor made first.
 */
function firstStart(databaseUrl: string, processes: number, options: { setUp?: boolean } = {}): Array<string | null> {
  const script = `
    const { openDatabase } = require('./db');
    const { createSecrets } = require('./lib/secrets');
    const { firstSupervisorSetupLink } = require('./services/admin/setup');
    (async () => {
      const db = await openDatabase(process.env.DATABASE_URL);
      const store = { models: db.models, secrets: createSecrets(Buffer.from('a test secret of the first start')) };
      if (process.env.SET_UP) {
        await db.models.AdminSetupToken.update({ usedAt: new Date() }, { where: {} });
        await db.models.AdminUser.create({ email: 'first@example.com', passwordHash: 'x', totpSecret: 'x', role: 'supervisor', organisationId: null });
      }
      const links = await Promise.all(Array.from({ length: ${processes} }, () => firstSupervisorSetupLink(store, 'https://admin.example', 86_400_000)));
      await db.close();
      console.log(JSON.stringify(links.map((link) => link ?? null)));
    })();`;
  const env = { ...process.env, DATABASE_URL: databaseUrl, SET_UP: options.setUp ? '1' : '' };
  return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { env }).toString());
}

describe('the admin console’s sign-in, in Chromium', function () {
  this.timeout(90_000);
  let browser: Browser;

  before(async () => {
    browser = await launchBrowser();
    await system().createOrganisation(ORG_A);
    await system().createOrganisation(ORG_B);
  });
  after(async () => {
    await browser?.close();
  });

  it('TOTP: takes a code of the step before, at or after the current one, and tells which step it was', () => {
    const secret = newTotpSecret();
    const now = currentStep();
    for (const step of [now - 1, now, now + 1]) expect(totpStep(secret, codeAt(secret, step))).to.equal(step);
    for (const step of [now - 2, now + 2]) expect(totpStep(secret, codeAt(secret, step))).to.equal(undefined);
  });

  it('at the first start: one set-up link while there is no admin and no unused link', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sss-admin-'));
    try {
      const databaseUrl = `sqlite:${path.join(dir, 'fresh.sqlite')}`;
      // API processes starting together on an empty database: only one of them makes (and prints) a link.
      const made = firstStart(databaseUrl, 3).filter((link) => link !== null);
      expect(made).to.have.length(1);
      expect(made[0]).to.match(/^https:\/\/admin\.example\/admin\/setup\/[A-Za-z0-9_-]{43}$/);
      expect(firstStart(databaseUrl, 1), 'an unused one exists').to.deep.equal([null]);
      expect(firstStart(databaseUrl, 1, { setUp: true }), 'there is an admin').to.deep.equal([null]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sets the first supervisor up through the link, once: address, password, authenticator app, code', async () => {
    const link = await newSetupLink();
    const { models } = system().db;
    await visiting(browser, async (page) => {
      await page.goto(onTestApi(link));
      expect(await page.locator('h1').textContent()).to.equal('Set up the first supervisor');
      await expectGoodPage(page, 'admin-setup');

      await page.getByLabel('E-mail address').fill('not an address');
      await page.getByLabel('Password').fill('password1234');
      const refused = await press(page, 'Continue');
      expect(refused?.status()).to.equal(400);
      expect(await errorOf(page, '#field-email')).to.include('A valid e-mail address');
      expect(await errorOf(page, '#field-password')).to.include('Too easy to guess');
      expect(await page.getByLabel('Password').inputValue(), 'a password is never sent back').to.equal('');
      await expectGoodPage(page, 'admin-setup-refused');

      await page.getByLabel('E-mail address').fill('First.Supervisor@Example.com');
      await page.getByLabel('Password').fill(ADMIN_PASSWORD);
      await press(page, 'Continue');
      const codePath = `${new URL(link).pathname}/code`;
      expect(pathOf(page)).to.equal(codePath);
      expect(await page.locator('h1').textContent()).to.equal('Add your authenticator app');
      await expectGoodPage(page, 'admin-setup-code');

      // What the app scans is what the page spells out: the site as issuer, the address as the account.
      const secret = ((await page.locator('#totp-secret').textContent()) as string).replace(/\s/g, '');
      const scanned = URI.parse(decodeQrPng(await page.locator('.qr-code').screenshot()));
      expect(scanned).to.include({ issuer: SITE_NAME, label: 'first.supervisor@example.com', digits: 6, period: 30 });
      expect(scanned.algorithm).to.equal('SHA1');
      expect(scanned.secret.base32).to.equal(secret);

      await page.getByLabel('Code', { exact: true }).fill(wrongCodeFor(secret));
      const wrong = await press(page, 'Finish set-up');
      expect(wrong?.status()).to.equal(400);
      expect(await errorOf(page, '#field-code')).to.include('That code is not right');
      expect(await page.locator('#totp-secret').textContent(), 'the same secret again').to.equal(
        secret.replace(/(.{4})(?=.)/g, '$1 '),
      );
      await expectGoodPage(page, 'admin-setup-wrong-code');

      const step = currentStep();
      await page
        .getByLabel('Code', { exact: true })
        .fill(`${codeAt(secret, step).slice(0, 3)} ${codeAt(secret, step).slice(3)}`);
      await press(page, 'Finish set-up');
      expect(pathOf(page)).to.equal('/admin');
      expect(await page.locator('.notice').textContent()).to.equal('Your account is set up and you are signed in.');
      expect(await page.locator('.account .address').textContent()).to.equal('first.supervisor@example.com');
      expect(await page.locator('.account .role').textContent()).to.equal('(Supervisor)');
      expect(await sectionsOn(page)).to.deep.equal(SUPERVISOR_SECTIONS);
      await expectGoodPage(page, 'admin-home-supervisor');

      expect(await cookieNamed(page, 'admin')).to.include({
        httpOnly: true,
        sameSite: 'Strict',
        path: '/admin',
        secure: false,
      });
      expect(await cookieNamed(page, 'admin-setup'), 'the choice is forgotten').to.equal(undefined);

      const row = await models.AdminUser.findOne({ where: { email: 'first.supervisor@example.com' } });
      expect(row?.get({ plain: true })).to.include({
        role: 'supervisor',
        organisationId: null,
        totpLastStep: step,
        disabledAt: null,
      });
      expect(row?.totpSecret).to.not.include(secret);
      expect(system().secrets.unseal(row?.totpSecret as string)).to.equal(secret);

      // Used: the link, and its code page, say so; a link never made is unknown.
      for (const address of [link, `${link}/code`]) {
        const used = await page.goto(onTestApi(address));
        expect(used?.status(), address).to.equal(410);
        expect(await page.locator('h1').textContent()).to.equal('This set-up link has been used');
      }
      await expectGoodPage(page, 'admin-setup-used');
      for (const address of ['/admin/setup/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '/admin/setup/short']) {
        const unknown = await page.goto(address);
        expect(unknown?.status(), address).to.equal(404);
        expect(await page.locator('h1').textContent()).to.equal('This set-up link does not work');
      }
      await expectGoodPage(page, 'admin-setup-unknown');

      await page.goto('/admin');
      await press(page, 'Sign out');
      expect(pathOf(page)).to.equal('/admin/sign-in');
      expect(await page.locator('.notice').textContent()).to.equal('You have signed out.');
      expect(await cookieNamed(page, 'admin')).to.equal(undefined);
      await expectGoodPage(page, 'admin-signed-out');
      await page.goto('/admin');
      expect(pathOf(page)).to.equal('/admin/sign-in');
    });
  });

  it('signs in with the password, then a code; a wrong code and a code used before are refused', async () => {
    const admin = await makeAdmin();
    const disabled = await makeAdmin();
    await system().db.models.AdminUser.update({ disabledAt: new Date() }, { where: { id: disabled.id } });
    await visiting(browser, async (page) => {
      await page.goto('/admin');
      expect(pathOf(page)).to.equal('/admin/sign-in');
      await expectGoodPage(page, 'admin-sign-in');

      // An unknown address, a wrong password and a disabled admin get the same answer.
      for (const [email, password] of [
        [admin.email, 'not the password at all'],
        [`nobody.${admin.email}`, ADMIN_PASSWORD],
        [disabled.email, ADMIN_PASSWORD],
      ] as const) {
        const refused = await enterPassword(page, email, password);
        expect(refused?.status(), email).to.equal(401);
        expect(pathOf(page)).to.equal('/admin/sign-in');
        expect(await page.locator('.error-summary').textContent()).to.include(
          'The e-mail address or the password is not right.',
        );
        expect(await page.getByLabel('E-mail address').inputValue()).to.equal(email);
        expect(await page.getByLabel('Password').inputValue()).to.equal('');
      }
      await expectGoodPage(page, 'admin-sign-in-wrong');

      await enterPassword(page, admin.email.toUpperCase(), admin.password);
      expect(pathOf(page)).to.equal('/admin/sign-in/code');
      expect(await cookieNamed(page, 'admin'), 'not signed in yet').to.equal(undefined);
      await expectGoodPage(page, 'admin-sign-in-code');
      expect(await page.goto('/admin').then(() => pathOf(page)), 'the password alone opens nothing').to.equal(
        '/admin/sign-in',
      );

      await page.goto('/admin/sign-in/code');
      const wrong = await enterCode(page, wrongCodeFor(admin.secret));
      expect(wrong?.status()).to.equal(400);
      expect(await errorOf(page, '#field-code')).to.include('That code is not right');
      await expectGoodPage(page, 'admin-sign-in-wrong-code');
      const malformed = await enterCode(page, '12345');
      expect(malformed?.status()).to.equal(400);
      expect(await errorOf(page, '#field-code')).to.include('The 6 digits your authenticator app shows');

      const code = await nextCode(admin);
      await enterCode(page, code);
      expect(pathOf(page)).to.equal('/admin');
      expect(await cookieNamed(page, 'admin')).to.include({
        httpOnly: true,
        sameSite: 'Strict',
        path: '/admin',
        secure: false,
      });
      expect(await cookieNamed(page, 'admin-first-factor'), 'the proven password is forgotten').to.equal(undefined);
      await page.goto('/admin/sign-in');
      expect(pathOf(page), 'signed in already').to.equal('/admin');

      // The same code, seen over a shoulder, in a new sign-in with the password: refused.
      await visiting(browser, async (other) => {
        await enterPassword(other, admin.email, admin.password);
        const replayed = await enterCode(other, code);
        expect(replayed?.status()).to.equal(400);
        expect(await errorOf(other, '#field-code')).to.include('it has been used already');
        expect(await cookieNamed(other, 'admin')).to.equal(undefined);
      });
    });
  });

  it('the code page without a password just proven goes back to sign-in', async () => {
    await visiting(browser, async (page) => {
      await page.goto('/admin/sign-in/code');
      expect(pathOf(page)).to.equal('/admin/sign-in');
      expect(await page.locator('.notice').textContent()).to.equal('Your sign-in took too long. Start again.');
      await expectGoodPage(page, 'admin-sign-in-timed-out');
    });
  });

  it('too many failures, wrong codes among them, lock the account out from this address and say how long', async () => {
    const admin = await makeAdmin();
    await visiting(browser, async (page) => {
      // TEST_LIMITS: 5 failures per account and address. Three wrong passwords and two wrong codes are five.
      for (let i = 0; i < 3; i++) {
        expect((await enterPassword(page, admin.email, `wrong guess number ${i}`))?.status()).to.equal(401);
      }
      await enterPassword(page, admin.email, admin.password);
      expect(pathOf(page)).to.equal('/admin/sign-in/code');
      for (let i = 0; i < 2; i++) expect((await enterCode(page, wrongCodeFor(admin.secret)))?.status()).to.equal(400);

      const limitedCode = await enterCode(page, await nextCode(admin));
      expect(limitedCode?.status(), 'even the right code').to.equal(429);
      expect(await errorOf(page, '#field-code')).to.match(/You can try again in \d+ seconds?\./);

      const limited = await enterPassword(page, admin.email, admin.password);
      expect(limited?.status(), 'even the right password').to.equal(429);
      expect(Number(await limited?.headerValue('retry-after'))).to.be.within(1, 60);
      expect(await page.locator('.error-summary').textContent()).to.match(/You can try again in \d+ seconds?\./);
      await expectGoodPage(page, 'admin-sign-in-too-many');
    });
  });

  it('a disabled admin’s session ends at once', async () => {
    const admin = await makeAdmin();
    await visiting(browser, async (page) => {
      await signInAdmin(page, admin);
      await system().db.models.AdminUser.update({ disabledAt: new Date() }, { where: { id: admin.id } });
      await page.goto('/admin');
      expect(pathOf(page)).to.equal('/admin/sign-in');
      expect(await page.locator('.notice').textContent()).to.equal(
        'Your session has ended. Sign in again to continue.',
      );
      expect(await cookieNamed(page, 'admin')).to.equal(undefined);
      await expectGoodPage(page, 'admin-session-ended');
    });
  });

  it('keeps each admin to the sections of their role, and a manager to their own organisation', async () => {
    const manager = await makeAdmin({ manages: ORG_A });
    const supervisor = await makeAdmin();
    const visit = async (page: Page, address: string) => {
      const response = await page.goto(address);
      return { status: response?.status(), path: pathOf(page) };
    };
    const forbidden = { status: 403, path: '' };

    await visiting(browser, async (page) => {
      for (const address of ['/admin', '/admin/configuration/platforms', `/admin/organisations/${ORG_A}/templates`]) {
        expect(await visit(page, address), address).to.deep.equal({ status: 200, path: '/admin/sign-in' });
      }
    });

    await visiting(browser, async (page) => {
      await signInAdmin(page, manager);
      expect(await page.locator('.account .role').textContent()).to.equal(`(Manager of Org ${ORG_A})`);
      expect(await sectionsOn(page)).to.deep.equal(
        ['device-setup', 'templates', 'registrations', 'devices'].map(
          (section) => `/admin/organisations/${ORG_A}/${section}`,
        ),
      );
      await expectGoodPage(page, 'admin-home-manager');
      for (const address of [
        '/admin/configuration/platforms',
        '/admin/tokens',
        '/admin/organisations',
        `/admin/organisations/${ORG_B}/templates`,
        '/admin/organisations/no-such-organisation/device-setup',
      ]) {
        expect(await visit(page, address), address).to.deep.equal({ ...forbidden, path: address });
      }
      expect(await page.locator('h1').textContent()).to.equal('You cannot do that');
      await expectGoodPage(page, 'admin-forbidden');
      // Their own organisation's sections get past the guard (the pages themselves come later).
      const own = await visit(page, `/admin/organisations/${ORG_A}/templates`);
      expect(own.status).to.not.equal(403);
      expect(own.path).to.equal(`/admin/organisations/${ORG_A}/templates`);
    });

    await visiting(browser, async (page) => {
      await signInAdmin(page, supervisor);
      for (const address of ['/admin/configuration/platforms', `/admin/organisations/${ORG_B}/device-setup`]) {
        const passed = await visit(page, address);
        expect(passed.status, address).to.not.equal(403);
        expect(passed.path, address).to.equal(address);
      }
      const unknown = await visit(page, '/admin/organisations/no-such-organisation/device-setup');
      expect(unknown.status).to.equal(404);
      expect(await page.locator('h1').textContent()).to.equal('Organisation not found');
    });
  });

  it('works with JavaScript off: set-up, sign-out, sign-in', async () => {
    const link = await newSetupLink();
    const email = `no-script-${Date.now()}@example.com`;
    await visiting(
      browser,
      async (page) => {
        const secret = await setUpSupervisor(page, link, email);
        await press(page, 'Sign out');
        expect(pathOf(page)).to.equal('/admin/sign-in');
        const row = await system().db.models.AdminUser.findOne({ where: { email } });
        const admin: TestAdmin = { id: row?.id as number, email, password: ADMIN_PASSWORD, secret };
        await signInAdmin(page, admin);
        expect(await sectionsOn(page)).to.deep.equal(SUPERVISOR_SECTIONS);
      },
      { javaScriptEnabled: false },
    );
  });

  it('refuses every form posted without its CSRF token, and does nothing', async () => {
    const { models } = system().db;
    const link = new URL(await newSetupLink()).pathname;
    const admin = await makeAdmin();
    const email = encodeURIComponent(admin.email);
    for (const [route, body] of [
      [link, `email=someone%40example.com&password=${encodeURIComponent(ADMIN_PASSWORD)}`],
      [`${link}/code`, 'code=123456'],
      ['/admin/sign-in', `email=${email}&password=${encodeURIComponent(admin.password)}`],
      ['/admin/sign-in/code', `code=${await nextCode(admin)}`],
      ['/admin/sign-out', ''],
    ]) {
      for (const withWrongToken of [false, true]) {
        const answer = await postWithoutToken(route as string, withWrongToken ? `${body}&_csrf=forged` : body);
        expect(answer.status, route).to.equal(403);
        expect(
          answer.headers.getSetCookie().filter((cookie) => cookie.startsWith('admin')),
          route,
        ).to.deep.equal([]);
        expect(await answer.text()).to.include('This form has expired');
      }
    }
    expect(await models.AdminSetupToken.count({ where: { usedAt: null } }), 'the link still works').to.equal(1);
    expect((await models.AdminUser.findByPk(admin.id))?.totpLastStep, 'no code taken').to.equal(null);

    // Signed in: a sign-out posted by another site leaves the session as it is.
    const context = await newVisitor(browser);
    try {
      const page = await context.newPage();
      await signInAdmin(page, admin);
      const session = (await cookieNamed(page, 'admin'))?.value;
      const answer = await postWithoutToken('/admin/sign-out', '', `admin=${session}`);
      expect(answer.status).to.equal(403);
      await page.goto('/admin');
      expect(pathOf(page)).to.equal('/admin');
      await expectGoodPage(page, 'admin-home-again');
    } finally {
      await context.close();
    }
  });

  it('over https the cookies are Secure, for the whole host, and named __Host-', async () => {
    const admin = await makeAdmin();
    const api = await system().startApi({ publicUrl: 'https://app.test' });
    const cookies = new Map<string, string>();
    const request = async (route: string, body?: Record<string, string>) => {
      const answer = await fetch(`${api.url}${route}`, {
        method: body ? 'POST' : 'GET',
        headers: {
          cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; '),
          ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        body: body && new URLSearchParams(body).toString(),
        redirect: 'manual',
      });
      const set = answer.headers.getSetCookie();
      for (const cookie of set) {
        const [pair = ''] = cookie.split(';');
        const [name = '', value = ''] = pair.split('=');
        cookies.set(name, value);
      }
      return { answer, set, text: await answer.text() };
    };
    const page = await request('/admin/sign-in');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] as string;
    expect(page.set.join()).to.match(/^__Host-csrf-id=[^;]+; .*Path=\/; .*HttpOnly; Secure/);

    const password = await request('/admin/sign-in', { _csrf: csrf, email: admin.email, password: admin.password });
    expect(password.answer.status).to.equal(303);
    expect(password.set).to.have.length(1);
    expect(password.set[0]).to.match(/^__Host-admin-first-factor=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Strict$/);

    const code = await request('/admin/sign-in/code', { _csrf: csrf, code: await nextCode(admin) });
    expect(code.answer.status).to.equal(303);
    expect(code.answer.headers.get('location')).to.equal('/admin');
    const session = code.set.find((cookie) => cookie.startsWith('__Host-admin='));
    expect(session).to.match(/; Max-Age=\d+; Path=\/; Expires=[^;]+; HttpOnly; Secure; SameSite=Strict$/);
    expect((await request('/admin')).text).to.include(admin.email);
  });
});
