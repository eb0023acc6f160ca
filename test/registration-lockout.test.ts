import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { expectGoodPage, launchBrowser, newVisitor } from './support/browser';
import {
  checkInDevice,
  expectError,
  path,
  type Registered,
  registrationHandle,
  sleep,
  uniqueEmail,
  withDevice,
} from './support/flow';
import { decodedHistory } from './support/history';
import { codeIn, linkIn } from './support/smtp';
import { type ApiUnderTest, system } from './support/system';
import { pathOf, press } from './support/web-flow';

const ORG = 'lockout';

/** A client at its own address: loopback is a trusted proxy, so X-Forwarded-For names the client. */
const from = (address: string) => ({ 'x-forwarded-for': address });
let addresses = 0;
const stranger = () => `198.51.100.${++addresses}`;

async function registerFrom(api: ApiUnderTest, email: string, address: string): Promise<Registered> {
  const answer = await api.call('POST', '/api/setup/registrations', {
    body: { organisation: ORG, email },
    headers: from(address),
  });
  expect(answer.status, answer.text).to.equal(201);
  return { id: answer.body.registrationId, token: answer.body.token, email: email.toLowerCase(), organisation: ORG };
}

const wrongCodeFor = (code: string) => (code === '000000' ? '111111' : '000000');

/** A stranger's session spends the current code with wrong guesses (MAX_CODE_ATTEMPTS of them). */
async function spendCode(api: ApiUnderTest, r: Registered, code: string) {
  for (let guess = 1; guess <= 5; guess++) {
    const answer = await api.call('POST', path(r, 'verify'), { token: r.token, body: { code: wrongCodeFor(code) } });
    expect(answer.status, answer.text).to.be.oneOf([400, 429]);
  }
}

/** Resends allowed this soon on the APIs strangers spend codes on: each spent code waits it out before the next. */
const QUICK_RESENDS = { resendIntervalMs: 300 };

/**
 * A stranger opens the owner's registration on an API with QUICK_RESENDS, spends every code the rules allow (wrong
 * guesses, then resends) until no more can be sent; answers how many codes were mailed, and when the last had arrived
 * (its link's lifetime began before).
 */
async function spendEverything(api: ApiUnderTest, email: string): Promise<{ mailed: number; lastMailedAt: number }> {
  const { mail } = system();
  const attacker = await registerFrom(api, email, stranger());
  let mailed = 1;
  for (;;) {
    const code = codeIn(await mail.nth(attacker.email, mailed));
    const lastMailedAt = Date.now();
    await spendCode(api, attacker, code);
    await sleep(QUICK_RESENDS.resendIntervalMs + 100);
    const resent = await api.call('POST', path(attacker, 'resend'), { token: attacker.token });
    if (resent.status === 429) return { mailed, lastMailedAt };
    expect(resent.status, resent.text).to.equal(202);
    mailed += 1;
  }
}

/** The browser on an API confirms a mailed link as a person would: opens it, presses the button. */
async function confirmLink(page: Page, api: ApiUnderTest, link: string) {
  await page.goto(link.replace(/^http:\/\/app\.test/, api.url));
  expect(pathOf(page)).to.equal('/setup/verify');
  return press(page, 'Confirm my address');
}

describe('nobody but the owner keeps an address from registering', () => {
  let browser: Browser;
  before(async () => {
    await system().createOrganisation(ORG, { platforms: ['windows'] });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  it('twenty strangers and more open the registration, in any letter case; the owner’s own still gets in', async () => {
    const { api, mail } = system();
    const email = uniqueEmail('victim');
    const first = await registerFrom(api, email, stranger());
    for (let n = 2; n <= 25; n++) {
      const spelled = n % 2 ? email.toUpperCase() : email.replace(/^v/, 'V');
      const again = await registerFrom(api, spelled, stranger());
      expect(again.id, 'one registration, whatever the letter case').to.equal(first.id);
    }
    // The owner, from their own address: a new session takes an unverified stranger's place.
    const owner = await registerFrom(api, email, '203.0.113.7');
    expect(owner.id).to.equal(first.id);
    expect((await api.call('GET', path(owner), { token: owner.token })).body.step).to.equal('verify-email');
    const code = codeIn(await mail.nth(owner.email, 1));
    const verified = await api.call('POST', path(owner, 'verify'), { token: owner.token, body: { code } });
    expect(verified.status, verified.text).to.equal(200);
    expect(verified.body).to.deep.equal({ step: 'profile' });
    // The oldest unverified session made way: the first stranger's token no longer reads the registration.
    expectError(await api.call('GET', path(first), { token: first.token }), 401, 'unauthorized');
    // Twenty-five strangers cost the owner's mailbox one mail: the code was still good for each of them.
    expect(mail.to(owner.email)).to.have.length(1);
  });

  it('strangers spend every code and resend; the link in the owner’s mail still verifies the owner’s browser', async () => {
    const api = await system().startApi({ timings: QUICK_RESENDS });
    const { mail } = system();
    const email = uniqueEmail('spent');
    const { mailed } = await spendEverything(api, email);
    // The owner registers, but every code is spent and none may be sent: code and resend are refused.
    const owner = await registerFrom(api, email, '203.0.113.8');
    expectError(await api.call('POST', path(owner, 'resend'), { token: owner.token }), 429, 'too_many_attempts');
    const newest = await mail.nth(owner.email, mailed);
    expectError(
      await api.call('POST', path(owner, 'verify'), { token: owner.token, body: { code: codeIn(newest) } }),
      429,
      'too_many_attempts',
    );
    expect(linkIn(newest)).to.not.include(codeIn(newest));

    const context = await newVisitor(browser, { baseURL: api.url });
    try {
      const page = await context.newPage();
      await confirmLink(page, api, linkIn(newest));
      expect(pathOf(page)).to.equal(`/setup/${ORG}/profile`);
      // The first mail's link, older but within its lifetime, verifies another browser too (each link once).
      const other = await (await newVisitor(browser, { baseURL: api.url })).newPage();
      await confirmLink(other, api, linkIn(await mail.nth(owner.email, 1)));
      expect(pathOf(other)).to.equal(`/setup/${ORG}/profile`);
      await other.context().close();
    } finally {
      await context.close();
    }
    expect(mail.to(owner.email), 'no code was sent for the links').to.have.length(mailed);
    // The history holds the links' keyed hashes, never a proof.
    const { updates } = await decodedHistory(registrationHandle(owner).workflowId);
    const confirmations = updates.filter((update) => update.name === 'verifyByLink');
    expect(confirmations).to.have.length(2);
    const proof = new URL(linkIn(newest)).searchParams.get('proof') as string;
    expect(JSON.stringify(updates)).to.not.include(proof);
    expect(Object.keys(confirmations[0]?.args[0] as object)).to.have.members(['tokenHash', 'linkHash']);
  });

  it('an old or used link brings a fresh code and link, past the resend limit; each link brings one', async () => {
    const codeTtlMs = 6_000;
    const api = await system().startApi({ timings: { ...QUICK_RESENDS, codeTtlMs } });
    const { mail } = system();
    const email = uniqueEmail('old-link');
    const { mailed, lastMailedAt } = await spendEverything(api, email);
    await sleep(lastMailedAt + codeTtlMs + 500 - Date.now()); // every link the strangers had mailed is now past its lifetime
    const context = await newVisitor(browser, { baseURL: api.url });
    try {
      const page = await context.newPage();
      await confirmLink(page, api, linkIn(await mail.nth(email, 1)));
      expect(pathOf(page)).to.equal(`/setup/${ORG}/verify`);
      expect(await page.locator('.notice').textContent()).to.equal(`We sent a new code to ${email}.`);
      const fresh = await mail.nth(email, mailed + 1);
      await expectGoodPage(page);

      // The fresh link verifies this browser; the same link in a second browser, used now, mails it a code instead.
      await confirmLink(page, api, linkIn(fresh));
      expect(pathOf(page)).to.equal(`/setup/${ORG}/profile`);
      const second = await (await newVisitor(browser, { baseURL: api.url })).newPage();
      await confirmLink(second, api, linkIn(fresh));
      expect(pathOf(second)).to.equal(`/setup/${ORG}/verify`);
      await confirmLink(second, api, linkIn(await mail.nth(email, mailed + 2)));
      expect(pathOf(second)).to.equal(`/setup/${ORG}/profile`);

      // The old link again, in a browser that has not verified: it has brought its code.
      const third = await (await newVisitor(browser, { baseURL: api.url })).newPage();
      const again = await confirmLink(third, api, linkIn(await mail.nth(email, 1)));
      expect(again?.status()).to.equal(410);
      expect(await third.locator('h1').textContent()).to.equal('This link no longer works');
      await expectGoodPage(third, 'link-used');
      await third.context().close();
      await second.context().close();
    } finally {
      await context.close();
    }
  });

  it('limits how often one client address opens the same registration, with Retry-After', async () => {
    const api = await system().startApi({ limits: { resumesPerAddress: { points: 3, windowMs: 60_000 } } });
    const email = uniqueEmail('resumed');
    const address = stranger();
    for (let n = 1; n <= 3; n++) await registerFrom(api, n === 2 ? email.toUpperCase() : email, address);
    const refused = await api.call('POST', '/api/setup/registrations', {
      body: { organisation: ORG, email },
      headers: from(address),
    });
    expectError(refused, 429, 'too_many_attempts');
    expect(Number(refused.headers.get('retry-after'))).to.be.within(1, 60);
    // Another client address, and another registration from the same one, are not held back.
    await registerFrom(api, email, stranger());
    await registerFrom(api, uniqueEmail('other'), address);
  });

  it('spends a registration’s token once it is done: the API, the pages and the mailed link say so', async () => {
    const { api, mail } = system();
    const r = await withDevice(api, ORG, 'windows');
    expect((await checkInDevice(api, r.linkToken)).status).to.equal(200);
    expect(await registrationHandle(r).result()).to.deep.equal({ step: 'done' });

    const status = await api.call('GET', path(r), { token: r.token });
    expectError(status, 410, 'registration_complete');
    expect(status.body.error.message).to.include('Sign in');
    expectError(await api.call('POST', path(r, 'resend'), { token: r.token }), 410, 'registration_complete');
    // A token that never was the registration's is still just not valid.
    expectError(await api.call('GET', path(r), { token: 'x'.repeat(43) }), 401, 'unauthorized');

    const context = await newVisitor(browser);
    try {
      await context.addCookies([
        {
          name: `registration-${ORG}`,
          value: `${r.id}.${r.token}`,
          domain: new URL(api.url).hostname,
          path: '/setup',
          httpOnly: true,
          sameSite: 'Lax',
        },
      ]);
      const page = await context.newPage();
      await page.goto(`/setup/${ORG}/profile`);
      expect(pathOf(page)).to.equal(`/setup/${ORG}/done`);
      expect(await page.locator('h1').textContent()).to.equal('Your device is set up');
      expect(await page.getByRole('link', { name: 'sign in', exact: true }).getAttribute('href')).to.equal(
        `/setup/${ORG}/sign-in`,
      );
      await expectGoodPage(page, 'registration-complete');
      // Shown once: the browser has forgotten the spent token, and starts afresh.
      expect((await context.cookies()).map((c) => c.name)).to.not.include(`registration-${ORG}`);
      await page.goto(`/setup/${ORG}`);
      expect(pathOf(page)).to.equal(`/setup/${ORG}`);

      const dead = await confirmLink(page, api, linkIn(await mail.nth(r.email, 1)));
      expect(dead?.status()).to.equal(410);
      expect(await page.locator('h1').textContent()).to.equal('This link no longer works');
    } finally {
      await context.close();
    }
  });
});
