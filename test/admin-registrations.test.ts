import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { csrfOn, makeAdmin, postAs, signInAdmin, type TestAdmin } from './support/admin';
import { expectGoodPage, launchBrowser, visiting } from './support/browser';
import {
  atDevice,
  checkInDevice,
  eventually,
  expectError,
  path,
  type Registered,
  register,
  registrationHandle,
  uniqueEmail,
  verified,
} from './support/flow';
import { codeIn } from './support/smtp';
import { system } from './support/system';
import { pathOf, press } from './support/web-flow';

const ORG = 'admin-registrations-a';
const OTHER = 'admin-registrations-b';
const LIST = `/admin/organisations/${ORG}/registrations`;

/** The funnel's table: each stage's counts for the last 7 and 30 days. */
async function funnelOn(page: Page): Promise<Record<string, number[]>> {
  const rows = await page
    .locator('table.funnel tbody tr')
    .evaluateAll((trs) =>
      trs.map((tr) => [
        tr.querySelector('th')?.textContent ?? '',
        [...tr.querySelectorAll('td')].map((td) => Number(td.textContent)),
      ]),
    );
  return Object.fromEntries(rows);
}

/** The funnel once visibility has caught up with `ok` (it is eventually consistent), read from a fresh page. */
const funnelWhen = (page: Page, ok: (funnel: Record<string, number[]>) => boolean) =>
  eventually(
    async () => {
      await page.goto(LIST);
      return funnelOn(page);
    },
    ok,
    15_000,
  );

/** The list page's addresses once visibility shows what `ok` wants. */
const listedWhen = (page: Page, query: string, ok: (addresses: string[]) => boolean) =>
  eventually(
    async () => {
      await page.goto(`${LIST}${query}`);
      return page.locator('.records .record-title a').allTextContents();
    },
    ok,
    15_000,
  );

/** The registration's page, found through the list by its address. */
async function openRegistration(page: Page, email: string) {
  await listedWhen(page, `?email=${encodeURIComponent(email)}`, (addresses) => addresses.includes(email));
  await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: email, exact: true }).click()]);
  return pathOf(page);
}

const timelineOn = (page: Page) => page.locator('.timeline li').allTextContents();

const api = () => system().api;
const owner = (r: Registered, step: string, body: Record<string, unknown>) =>
  api().call('POST', path(r, step), { token: r.token, body });

describe('an organisation’s registrations in the admin console, in Chromium', function () {
  this.timeout(180_000);
  let browser: Browser;
  let manager: TestAdmin;
  let otherManager: TestAdmin;

  before(async () => {
    browser = await launchBrowser();
    await system().createOrganisation(ORG);
    await system().createOrganisation(OTHER);
    otherManager = await makeAdmin({ manages: OTHER });
  });
  // A manager of its own per test: one admin signed in test after test would wait out the authenticator's 30-second
  // steps (the server takes each step's code once, and only one step either side of its own).
  beforeEach(async () => {
    manager = await makeAdmin({ manages: ORG });
  });
  after(async () => {
    await browser?.close();
  });

  it('the manager sees an owner’s registration in the list and the funnel as it goes on, with a timeline and no secret', async () => {
    await visiting(browser, async (page) => {
      await signInAdmin(page, manager);
      await Promise.all([
        page.waitForNavigation(),
        page.getByRole('link', { name: 'Registrations', exact: true }).click(),
      ]);
      expect(pathOf(page)).to.equal(LIST);
      const before = await funnelOn(page);
      const started = before.Started?.[0] ?? 0;
      const verifiedBefore = before['Verified their address']?.[0] ?? 0;
      const doneBefore = before.Done?.[0] ?? 0;

      const email = uniqueEmail('funnel');
      const r = await register(api(), ORG, email);
      let funnel = await funnelWhen(page, (f) => f.Started?.[0] === started + 1);
      expect(funnel.Started).to.deep.equal([started + 1, (before.Started?.[1] ?? 0) + 1]);
      expect(funnel['Verified their address']?.[0]).to.equal(verifiedBefore);
      expect(await listedWhen(page, '', (addresses) => addresses.includes(email))).to.include(email);
      await expectGoodPage(page, 'admin-registrations');

      // A wrong code, then the right one.
      const code = codeIn(await system().mail.nth(email, 1));
      const wrong = code === '000000' ? '111111' : '000000';
      expect((await owner(r, 'verify', { code: wrong })).body).to.have.nested.property('error.code', 'invalid_code');
      expect((await owner(r, 'verify', { code })).status).to.equal(200);
      funnel = await funnelWhen(page, (f) => f['Verified their address']?.[0] === verifiedBefore + 1);
      expect(funnel['Verified their address']?.[0]).to.equal(verifiedBefore + 1);

      // The filters: by step, and by the address (exact, in any case).
      expect(await listedWhen(page, '?step=profile', (a) => a.includes(email))).to.include(email);
      expect(await listedWhen(page, '?step=verify-email', (a) => !a.includes(email))).not.to.include(email);
      expect(
        await listedWhen(page, `?email=${encodeURIComponent(email.toUpperCase())}`, (a) => a.length === 1),
      ).to.deep.equal([email]);
      expect(await listedWhen(page, `?email=${encodeURIComponent(`x${email}`)}`, (a) => a.length === 0)).to.deep.equal(
        [],
      );
      expect(await page.getByText('No registration matches.').count()).to.equal(1);
      await expectGoodPage(page, 'admin-registrations-none-found');

      // On to done: profile, a Windows PC, its check-in.
      const profile = { firstName: 'Ada', lastName: 'Lovelace', password: 'a long passphrase' };
      expect((await owner(r, 'profile', profile)).status).to.equal(200);
      const chosen = await owner(r, 'devices', { platform: 'windows' });
      expect(chosen.status, chosen.text).to.equal(201);
      const linkToken = (chosen.body.device.provisioningUrl as string).split('/').pop() as string;
      expect((await checkInDevice(api(), linkToken)).status).to.be.oneOf([200, 202, 204]);
      funnel = await funnelWhen(page, (f) => f.Done?.[0] === doneBefore + 1);
      expect(funnel.Done?.[0]).to.equal(doneBefore + 1);

      await openRegistration(page, email);
      const timeline = (
        await eventually(
          () => timelineOn(page),
          (t) => t.some((line) => line.includes('Done')),
        )
      ).join('\n');
      for (const said of [
        'Started',
        'Opened in a browser',
        'Code 1 being mailed',
        'Code sent',
        'Code checked: wrong',
        'Code checked: right',
        'Profile given: Ada Lovelace',
        'Device chosen and its link issued (Windows PC',
        'Device checked in',
        'Done',
      ]) {
        expect(timeline).to.include(said);
      }
      const { secrets } = system();
      const content = await page.content();
      for (const secret of [
        code,
        r.token,
        linkToken,
        secrets.keyedHash('registration-token', r.token),
        secrets.keyedHash('code', code),
        secrets.keyedHash('code', wrong),
        profile.password,
        '$argon2',
      ]) {
        expect(content).not.to.include(secret);
      }
      // A finished registration offers no actions.
      expect(await page.getByRole('button', { name: 'Send a new code' }).count()).to.equal(0);
      expect(await page.getByRole('link', { name: 'End this registration' }).count()).to.equal(0);
      await expectGoodPage(page, 'admin-registration-done');
    });
  });

  it('counts each registration by the furthest step it reached: sent back by an expired link, then expired, it still chose a device', async () => {
    // This API's registrations expire after 4 s of idleness, and their links after 1 s.
    const quick = await system().startApi({ timings: { registrationTtlMs: 4_000, linkTtlMs: 1_000 } });
    try {
      await visiting(browser, async (page) => {
        await signInAdmin(page, manager);
        await page.goto(LIST);
        const before = await funnelOn(page);
        const r = await atDevice(quick, ORG);
        const chosen = await quick.call('POST', path(r, 'devices'), { token: r.token, body: { platform: 'windows' } });
        expect(chosen.status, chosen.text).to.equal(201);
        // The link expires: the registration goes back to the device step; then, left alone, it expires.
        await eventually(
          async () => (await quick.call('GET', path(r), { token: r.token })).body.step,
          (step) => step === 'device',
        );
        expect(await registrationHandle(r).result()).to.have.property('step', 'expired');

        const plusOne = ['Started', 'Verified their address', 'Gave their profile', 'Chose a device', 'Expired'];
        const funnel = await funnelWhen(page, (f) => f.Expired?.[0] === (before.Expired?.[0] ?? 0) + 1);
        for (const stage of [...plusOne, 'Done']) {
          const more = plusOne.includes(stage) ? 1 : 0;
          expect(funnel[stage], stage).to.deep.equal([
            (before[stage]?.[0] ?? 0) + more,
            (before[stage]?.[1] ?? 0) + more,
          ]);
        }
      });
    } finally {
      await quick.close();
    }
  });

  it('“Send a new code” mails one and names who; “End this registration” expires it for the owner; a wrong step is refused on the page', async () => {
    await visiting(browser, async (page) => {
      await signInAdmin(page, manager);
      const email = uniqueEmail('actions');
      const r = await register(api(), ORG, email);
      await system().mail.nth(email, 1);
      const registrationPath = await openRegistration(page, email);
      await expectGoodPage(page, 'admin-registration-verify-email');

      await press(page, 'Send a new code');
      expect(pathOf(page)).to.equal(registrationPath);
      expect(await page.locator('.notice').textContent()).to.include('A new code is on its way');
      const second = await system().mail.nth(email, 2);
      expect(second.subject).to.match(/verification code/i);
      expect((await timelineOn(page)).join('\n')).to.include(`New code sent by an operator, by ${manager.email}`);

      await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'End this registration' }).click()]);
      expect(pathOf(page)).to.equal(`${registrationPath}/end`);
      await expectGoodPage(page, 'admin-registration-end');
      await press(page, 'End the registration');
      expect(pathOf(page)).to.equal(registrationPath);
      expect(await page.locator('.notice').textContent()).to.include('The registration has ended');
      const timeline = (await timelineOn(page)).join('\n');
      expect(timeline).to.include(`Ended by an operator, by ${manager.email}`);
      expect(timeline).to.include('Expired');
      await expectGoodPage(page, 'admin-registration-ended');

      expectError(await owner(r, 'verify', { code: codeIn(second) }), 410, 'registration_expired');
      // Ended, it takes no more actions: refused on its page.
      const csrf = await csrfOn(page);
      const again = await postAs(page, `${registrationPath}/end`, { _csrf: csrf });
      expect(again.status()).to.equal(409);
      expect(await again.text()).to.include('This registration has already ended.');

      // A new code past verify-email: 409, said on the registration's page.
      const further = await verified(api(), ORG, uniqueEmail('verified'));
      const furtherPath = await openRegistration(page, further.email);
      const refused = await postAs(page, `${furtherPath}/new-code`, { _csrf: csrf });
      expect(refused.status()).to.equal(409);
      const body = await refused.text();
      expect(body).to.include('A new code is sent only before the address is verified');
      expect(body).to.include('class="error-summary"');
      // Ending it at the profile step: the owner's next step is 410.
      await page.goto(`${furtherPath}/end`);
      await press(page, 'End the registration');
      expectError(
        await owner(further, 'profile', { firstName: 'A', lastName: 'B', password: 'a long passphrase' }),
        410,
        'registration_expired',
      );
    });
  });

  it('only the organisation’s manager or a supervisor: another manager 403, signed out to sign-in, an id of another organisation 404, no form without its CSRF token', async () => {
    const r = await register(api(), ORG, uniqueEmail('access'));
    const own = `${LIST}/${r.id}`;
    const theirs = await register(api(), OTHER, uniqueEmail('theirs'));
    await visiting(browser, async (page) => {
      for (const route of [LIST, own, `${own}/end`]) {
        const answer = await page.request.get(route, { maxRedirects: 0 });
        expect([answer.status(), answer.headers().location], route).to.deep.equal([303, '/admin/sign-in']);
      }
      await signInAdmin(page, otherManager);
      for (const route of [LIST, own]) {
        expect((await page.goto(route))?.status(), route).to.equal(403);
      }
      await page.goto('/admin');
      const csrf = await csrfOn(page);
      expect((await postAs(page, `${own}/end`, { _csrf: csrf })).status()).to.equal(403);
    });
    await visiting(browser, async (page) => {
      await signInAdmin(page, manager);
      // Another organisation's registration under this organisation's address is not found.
      expect((await page.goto(`${LIST}/${theirs.id}`))?.status()).to.equal(404);
      expect((await page.goto(`${LIST}/not-a-registration-id-at-all`))?.status()).to.equal(404);
      for (const route of [`${own}/new-code`, `${own}/end`]) {
        const answer = await postAs(page, route, {});
        expect(answer.status(), route).to.equal(403);
        expect(await answer.text()).to.include('This form has expired or did not come from this site.');
      }
      // Nothing happened: the owner goes on.
      const code = codeIn(await system().mail.nth(r.email, 1));
      expect((await owner(r, 'verify', { code })).status).to.equal(200);
    });
  });
});
