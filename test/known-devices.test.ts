import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  codeAt,
  csrfOn,
  currentStep,
  enterCode,
  enterPassword,
  makeAdmin,
  nextCode,
  postAs,
  signInAdmin,
  type TestAdmin,
} from './support/admin';
import { launchBrowser, newVisitor } from './support/browser';
import { atDevice, expectError, type Registered } from './support/flow';
import { expectSpec } from './support/openapi';
import { type ApiUnderTest, system, TEST_LIMITS } from './support/system';
import { pathOf, press } from './support/web-flow';

/**
 * Sign-in from known devices: a stranger's flood of wrong passwords from many addresses fills the limits strangers
 * share, but the supervisor and owners keep signing in from where they signed in before, because a device token they
 * were given counts their attempts on its own. And the console's proven password is spent by its code, once.
 */

const ORG = 'known-devices';
const PASSWORD = 'a long passphrase';
const NEW_PASSWORD = 'a brand new passphrase';
/** The per-account throttle of the reproduction: ten wrong passwords from ten addresses fill it. */
const FLOOD = 10;
const floodLimits = { limits: { signInPerAccount: { points: FLOOD, windowMs: 60_000 } } };

let nextHost = 0;
/** A client address of its own per use (the counters are shared by every test API): 198.18.0.0/15 is for tests. */
const newClient = () => {
  nextHost += 1;
  return `198.18.${200 + (Math.floor(nextHost / 250) % 50)}.${(nextHost % 250) + 1}`;
};

const signIn = (api: ApiUnderTest, email: string, password: string, from: string, deviceToken?: string) =>
  api.call('POST', '/api/session', {
    body: { organisation: ORG, email, password, ...(deviceToken ? { deviceToken } : {}) },
    headers: { 'x-forwarded-for': from },
  });

/** A stranger's ten wrong passwords for the account, each from an address of its own: all checked, all wrong. */
async function flood(api: ApiUnderTest, email: string) {
  for (let i = 0; i < FLOOD; i++) {
    expectError(await signIn(api, email, `stranger's guess ${i}`, newClient()), 401, 'invalid_credentials');
  }
}

/** Signs in from `from` and returns the device token the answer gave (checked against the OpenAPI document). */
async function deviceTokenOf(api: ApiUnderTest, email: string, from: string, deviceToken?: string) {
  const answer = await signIn(api, email, PASSWORD, from, deviceToken);
  expect(answer.status, answer.text).to.equal(200);
  await expectSpec('POST', '/api/session', answer);
  expect(answer.body.deviceToken).to.match(/^[A-Za-z0-9_-]{43}$/);
  expect(Date.parse(answer.body.deviceTokenExpiresAt) - Date.now()).to.be.greaterThan(29 * 86_400_000);
  return answer.body.deviceToken as string;
}

const sessionsOf = (admin: TestAdmin) => system().db.models.AdminSession.count({ where: { adminUserId: admin.id } });

const cookieOf = async (context: BrowserContext, name: string) =>
  (await context.cookies()).find((cookie) => cookie.name === name);

describe('sign-in from known devices', function () {
  this.timeout(180_000);
  let browser: Browser;
  let owner: Registered;

  before(async () => {
    await system().createOrganisation(ORG);
    browser = await launchBrowser();
  });
  beforeEach(async () => {
    owner = await atDevice(system().api, ORG);
  });
  after(async () => {
    await browser?.close();
  });

  describe('owners, through the API', () => {
    it('sign in from their known device through a stranger’s flood; the stranger, and anyone new, stay throttled', async () => {
      const api = await system().startApi(floodLimits);
      const home = newClient();
      const first = await deviceTokenOf(api, owner.email, home);

      await flood(api, owner.email);
      // The account's throttle is full: the stranger is slowed, even with the right password from a new address…
      const stranger = await signIn(api, owner.email, PASSWORD, newClient());
      expectError(stranger, 429, 'too_many_attempts');
      expect(Number(stranger.headers.get('retry-after'))).to.be.within(1, 60);
      // …and so is the owner at home without the token: it is the token, not the address, that is known.
      expectError(await signIn(api, owner.email, PASSWORD, home), 429, 'too_many_attempts');

      // With it, the owner signs in, and gets a new token in its place.
      const second = await deviceTokenOf(api, owner.email, home, first);
      expect(second).to.not.equal(first);
      expectError(await signIn(api, owner.email, PASSWORD, home, first), 429, 'too_many_attempts');
      await deviceTokenOf(api, owner.email, newClient(), second);
      expectError(await signIn(api, owner.email, PASSWORD, newClient()), 429, 'too_many_attempts');
    });

    it('a device token’s wrong passwords count against it alone: past its limit it is locked out, nothing else', async () => {
      const { api } = system();
      const home = newClient();
      const token = await deviceTokenOf(api, owner.email, home);
      for (let i = 0; i < TEST_LIMITS.signInPerDevice.points; i++) {
        expectError(await signIn(api, owner.email, `mistyped ${i}`, home, token), 401, 'invalid_credentials');
      }
      const locked = await signIn(api, owner.email, PASSWORD, home, token);
      expectError(locked, 429, 'too_many_attempts');
      expect(Number(locked.headers.get('retry-after'))).to.be.within(1, 60);
      expectError(await signIn(api, owner.email, PASSWORD, newClient(), token), 429, 'too_many_attempts');
      // The account's own counters (5 per account and address) saw none of them.
      await deviceTokenOf(api, owner.email, home);
    });

    it('a device token vouches only for the account it was given to, and only until it expires', async () => {
      const api = await system().startApi(floodLimits);
      const other = await atDevice(system().api, ORG);
      const othersToken = await deviceTokenOf(api, other.email, newClient());
      const ownToken = await deviceTokenOf(api, owner.email, newClient());
      await flood(api, owner.email);

      expectError(await signIn(api, owner.email, PASSWORD, newClient(), othersToken), 429, 'too_many_attempts');
      const { models } = system().db;
      const hash = system().secrets.keyedHash('known-device', ownToken);
      const [expired] = await models.KnownDevice.update(
        { expiresAt: new Date(Date.now() - 1_000) },
        { where: { tokenHash: hash } },
      );
      expect(expired).to.equal(1);
      expectError(await signIn(api, owner.email, PASSWORD, newClient(), ownToken), 429, 'too_many_attempts');

      const malformed = await signIn(api, owner.email, PASSWORD, newClient(), 'not a token!');
      expectError(malformed, 400, 'invalid_request');
      await expectSpec('POST', '/api/session', malformed);
    });

    it('an account keeps its ten newest device tokens: an eleventh sign-in forgets the oldest', async () => {
      const api = await system().startApi(floodLimits);
      const tokens: string[] = [];
      for (let i = 0; i < 11; i++) tokens.push(await deviceTokenOf(api, owner.email, newClient()));
      const { models } = system().db;
      const user = await models.User.findOne({ where: { email: owner.email } });
      expect(await models.KnownDevice.count({ where: { accountKind: 'owner', accountId: user?.id } })).to.equal(10);
      await flood(api, owner.email);
      expectError(await signIn(api, owner.email, PASSWORD, newClient(), tokens[0]), 429, 'too_many_attempts');
      await deviceTokenOf(api, owner.email, newClient(), tokens[1]);
    });

    it('a password reset forgets the account’s device tokens: whoever kept one from the old password is a stranger', async () => {
      const api = await system().startApi(floodLimits);
      const token = await deviceTokenOf(api, owner.email, newClient());
      const asked = await api.call('POST', '/api/password-resets', { body: { organisation: ORG, email: owner.email } });
      expect(asked.status, asked.text).to.equal(202);
      const code = /reset code is (\d{6})/.exec((await system().mail.nth(owner.email, 2)).text)?.[1];
      const confirmed = await api.call('POST', '/api/password-resets/confirm', {
        body: { organisation: ORG, email: owner.email, code, password: NEW_PASSWORD },
      });
      expect(confirmed.status, confirmed.text).to.equal(204);

      await flood(api, owner.email);
      expectError(await signIn(api, owner.email, NEW_PASSWORD, newClient(), token), 429, 'too_many_attempts');
      const { models } = system().db;
      const user = await models.User.findOne({ where: { email: owner.email } });
      expect(await models.KnownDevice.count({ where: { accountKind: 'owner', accountId: user?.id } })).to.equal(0);
    });
  });

  it('owners, on the pages: the browser they signed in with signs in again through a flood; a new one does not', async () => {
    const api = await system().startApi(floodLimits);
    const visitor = () => newVisitor(browser, { baseURL: api.url });
    const signInPage = async (page: Page) => {
      await page.goto(`/setup/${ORG}/sign-in`);
      await page.getByLabel('E-mail address').fill(owner.email);
      await page.getByLabel('Password').fill(PASSWORD);
      return press(page, 'Sign in');
    };
    const known = await visitor();
    const fresh = await visitor();
    try {
      const page = await known.newPage();
      await signInPage(page);
      expect(pathOf(page)).to.equal(`/setup/${ORG}/devices`);
      const before = await cookieOf(known, `known-device-${ORG}`);
      await press(page, 'Sign out');

      await flood(api, owner.email);
      const refused = await signInPage(await fresh.newPage());
      expect(refused?.status()).to.equal(429);

      await signInPage(page);
      expect(pathOf(page), 'signed in through the flood').to.equal(`/setup/${ORG}/devices`);
      // The device cookie: HttpOnly, kept after sign-out (that is how the browser was known), replaced at sign-in.
      const cookie = await cookieOf(known, `known-device-${ORG}`);
      expect(cookie).to.include({ httpOnly: true, sameSite: 'Lax', path: '/setup', secure: false });
      expect(cookie?.expires).to.be.greaterThan(Date.now() / 1000 + 29 * 86_400);
      expect(before?.value).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(cookie?.value, 'replaced').to.not.equal(before?.value);
    } finally {
      await known.close();
      await fresh.close();
    }
  });

  describe('the admin console', () => {
    /** A stranger's ten wrong passwords for the admin on the sign-in form, each from an address of its own. */
    async function floodConsole(context: BrowserContext, email: string) {
      const page = await context.newPage();
      await page.goto('/admin/sign-in');
      const csrf = await csrfOn(page);
      for (let i = 0; i < FLOOD; i++) {
        const answer = await page.request.post('/admin/sign-in', {
          form: { _csrf: csrf, email, password: `stranger's guess ${i}` },
          headers: { 'x-forwarded-for': newClient() },
          maxRedirects: 0,
        });
        expect(answer.status()).to.equal(401);
      }
      const throttled = await enterPassword(page, email, `one more guess`);
      expect(throttled?.status()).to.equal(429);
    }

    it('the supervisor signs in from their known browser through a stranger’s flood; a new browser waits', async () => {
      const api = await system().startApi(floodLimits);
      const supervisor = await makeAdmin();
      const known = await newVisitor(browser, { baseURL: api.url });
      const stranger = await newVisitor(browser, { baseURL: api.url });
      const fresh = await newVisitor(browser, { baseURL: api.url });
      try {
        const page = await known.newPage();
        await signInAdmin(page, supervisor);
        const before = await cookieOf(known, 'admin-device');
        await press(page, 'Sign out');

        await floodConsole(stranger, supervisor.email);
        const refused = await enterPassword(await fresh.newPage(), supervisor.email, supervisor.password);
        expect(refused?.status(), 'a browser the supervisor never used').to.equal(429);

        await signInAdmin(page, supervisor);
        const cookie = await cookieOf(known, 'admin-device');
        expect(cookie).to.include({ httpOnly: true, sameSite: 'Strict', path: '/admin', secure: false });
        expect(before?.value).to.match(/^[A-Za-z0-9_-]{43}$/);
        expect(cookie?.value, 'replaced').to.not.equal(before?.value);
      } finally {
        await Promise.all([known.close(), stranger.close(), fresh.close()]);
      }
    });

    it('a proven password is spent by its code: replayed in a fresh browser with the next code, it opens nothing', async () => {
      const admin = await makeAdmin();
      const first = await newVisitor(browser);
      const replaying = await newVisitor(browser);
      try {
        const page = await first.newPage();
        await enterPassword(page, admin.email, admin.password);
        const proof = (await cookieOf(first, 'admin-first-factor')) as NonNullable<
          Awaited<ReturnType<typeof cookieOf>>
        >;
        await enterCode(page, await nextCode(admin));
        expect(pathOf(page)).to.equal('/admin');
        const sessions = await sessionsOf(admin);

        await replaying.addCookies([proof]);
        const other = await replaying.newPage();
        await other.goto('/admin/sign-in/code');
        expect(pathOf(other), 'like a timed-out sign-in').to.equal('/admin/sign-in');
        expect(await other.locator('.notice').textContent()).to.equal('Your sign-in took too long. Start again.');
        const posted = await postAs(other, '/admin/sign-in/code', {
          _csrf: await csrfOn(other),
          code: await nextCode(admin),
        });
        expect(posted.status()).to.equal(303);
        expect(posted.headers().location).to.equal('/admin/sign-in?notice=timed-out');
        expect(await cookieOf(replaying, 'admin'), 'no session').to.equal(undefined);
        expect(await sessionsOf(admin)).to.equal(sessions);
      } finally {
        await Promise.all([first.close(), replaying.close()]);
      }
    });

    it('two codes sent at once with one proven password: one session, whichever code wins', async () => {
      const admin = await makeAdmin();
      const context = await newVisitor(browser);
      try {
        const page = await context.newPage();
        await enterPassword(page, admin.email, admin.password);
        const csrf = await csrfOn(page);
        const step = currentStep();
        const answers = await Promise.all(
          [step, step + 1].map((s) =>
            postAs(page, '/admin/sign-in/code', { _csrf: csrf, code: codeAt(admin.secret, s) }),
          ),
        );
        expect(answers.filter((answer) => answer.headers().location === '/admin')).to.have.length(1);
        expect(await sessionsOf(admin)).to.equal(1);
      } finally {
        await context.close();
      }
    });
  });
});
