import { expect } from 'chai';
import { URI } from 'otpauth';
import type { Browser, Locator, Page } from 'playwright-core';
import { redactUrl } from '../lib/logger';
import { ADMIN_PASSWORD, codeAt, currentStep, makeAdmin, signInAdmin, type TestAdmin } from './support/admin';
import { errorOf, expectGoodPage, launchBrowser, newVisitor, onTestApi, visiting } from './support/browser';
import { eventually } from './support/flow';
import { decodedHistory } from './support/history';
import { decodeQrPng } from './support/qr';
import { linkIn } from './support/smtp';
import { type ApiUnderTest, SITE_NAME, system } from './support/system';
import { pathOf, press } from './support/web-flow';

const ORG_A = 'orgs-a';
const ORG_B = 'orgs-b';
const orgPage = (slug: string) => `/admin/organisations/${slug}`;
const WEEK = 7 * 86_400_000;

let invited = 0;
/** A fresh address to invite. */
const newAddress = () => `invited-${++invited}-${Date.now()}@example.com`;

/** Runs steps in a fresh browser profile with an admin signed in (on another API with `api`). */
async function signedIn<T>(
  browser: Browser,
  admin: TestAdmin,
  steps: (page: Page) => Promise<T>,
  api?: ApiUnderTest,
): Promise<T> {
  return visiting(
    browser,
    async (page) => {
      await signInAdmin(page, admin);
      return steps(page);
    },
    api && { baseURL: api.url },
  );
}

const h1 = (page: Page) => page.locator('h1').textContent();
const noticeOn = (page: Page) => page.locator('.notice').textContent();

/** The item of an address in one of the page's lists (managers, invitations): its text, read after a reload. */
const itemOf = (page: Page, heading: string, email: string) =>
  page.locator(`h2:text-is("${heading}") + ul > li`).filter({ has: page.locator(`h3:text-is("${email}")`) });

/** The facts of a list's item (its `dl`): term → description. */
const factsOf = (item: Locator) =>
  item
    .locator('dl > div')
    .evaluateAll((rows) =>
      Object.fromEntries(
        rows.map((row) => [row.querySelector('dt')?.textContent, row.querySelector('dd')?.textContent]),
      ),
    );

/** The organisation page, reloaded until the invitation of `email` shows (Temporal's visibility lags a little). */
async function invitationItem(page: Page, slug: string, email: string) {
  await eventually(
    async () => {
      await page.goto(orgPage(slug));
      return itemOf(page, 'Invitations', email).count();
    },
    (count) => count === 1,
  );
  return itemOf(page, 'Invitations', email);
}

/** The supervisor invites an address on the organisation's page; the link of the n-th mail it gets. */
async function invite(page: Page, slug: string, email: string, nth = 1): Promise<string> {
  await page.goto(orgPage(slug));
  await page.getByLabel('E-mail address').fill(email);
  await press(page, 'Send the invitation');
  expect(pathOf(page)).to.equal(orgPage(slug));
  expect(await noticeOn(page)).to.equal('The invitation is on its way.');
  return linkIn(await system().mail.nth(email, nth));
}

/** Presses one of an invitation's buttons (Send again, Withdraw) on the organisation's page. */
async function pressFor(page: Page, slug: string, email: string, button: 'Send again' | 'Withdraw') {
  const item = await invitationItem(page, slug, email);
  await Promise.all([page.waitForNavigation(), item.getByRole('button', { name: new RegExp(`^${button}`) }).click()]);
}

/** Accepts an invitation in the page: a password, then the secret the page shows, confirmed by its code. */
async function accept(page: Page, link: string): Promise<{ secret: string; step: number }> {
  await page.goto(onTestApi(link));
  expect(await h1(page)).to.equal('Accept your invitation');
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await press(page, 'Continue');
  expect(pathOf(page)).to.equal(`${new URL(link).pathname}/code`);
  const secret = ((await page.locator('#totp-secret').textContent()) as string).replace(/\s/g, '');
  const step = currentStep();
  await page.getByLabel('Code', { exact: true }).fill(codeAt(secret, step));
  await press(page, 'Accept and sign in');
  expect(pathOf(page)).to.equal('/admin');
  return { secret, step };
}

/** What an invitation's link answers, on its first page. */
async function linkAnswer(page: Page, link: string) {
  const answer = await page.goto(onTestApi(link));
  return { status: answer?.status(), title: await h1(page) };
}

/** The CSRF token of the forms of the page the browser is on. */
const csrfOf = (page: Page) => page.locator('input[name="_csrf"]').first().inputValue();

/** A form posted in the browser's profile (its cookies), as a page's form would post it; the answer, not followed. */
const post = (page: Page, route: string, form: Record<string, string>) =>
  page.request.post(route, { form, maxRedirects: 0, failOnStatusCode: false });

/** The updates of an invitation's workflow, as its history keeps them: decoded, who asked what. */
async function invitationHistory(slug: string, email: string) {
  const { started, updates } = await decodedHistory(`invitation/${slug}/${email}`);
  return { started: started as { invitedBy: string }, updates };
}

describe('the admin console’s organisations and manager invitations, in Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;

  before(async () => {
    browser = await launchBrowser();
    await system().createOrganisation(ORG_A);
    await system().createOrganisation(ORG_B);
  });
  after(async () => {
    await browser?.close();
  });

  it('a supervisor creates an organisation by clicking; a malformed, reserved or taken slug is refused beside it', async () => {
    const supervisor = await makeAdmin();
    await signedIn(browser, supervisor, async (page) => {
      await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Organisations' }).click()]);
      expect(pathOf(page)).to.equal('/admin/organisations');
      expect(await h1(page)).to.equal('Organisations');
      const listed = page.locator('.records h3');
      expect(await listed.allTextContents()).to.include.members([`Org ${ORG_A}`, `Org ${ORG_B}`]);
      await expectGoodPage(page, 'admin-organisations');

      for (const [slug, name, status, errors] of [
        ['Not A Slug!', '', 400, { slug: 'lower-case letters, digits and dashes', name: 'Required' }],
        ['verify', 'Verification', 400, { slug: 'This name is reserved' }],
        [ORG_A, 'Another A', 409, { slug: `There already is an organisation "${ORG_A}"` }],
      ] as const) {
        await page.getByLabel('Slug').fill(slug);
        await page.getByLabel('Name', { exact: true }).fill(name);
        const refused = await press(page, 'Create the organisation');
        expect(refused?.status(), slug).to.equal(status);
        for (const [field, message] of Object.entries(errors)) {
          expect(await errorOf(page, `#field-${field}`), slug).to.include(message);
        }
        expect(await page.getByLabel('Slug').inputValue(), 'what was typed stays').to.equal(slug);
      }
      await expectGoodPage(page, 'admin-organisations-refused');

      await page.getByLabel('Slug').fill('orgs-new');
      await page.getByLabel('Name', { exact: true }).fill('New <Org> & Co');
      await press(page, 'Create the organisation');
      expect(pathOf(page)).to.equal(orgPage('orgs-new'));
      expect(await h1(page)).to.equal('New <Org> & Co');
      expect(await noticeOn(page)).to.equal('The organisation is created. Invite its managers here.');
      expect(await page.locator('h2 + p').first().textContent()).to.equal('No one manages this organisation yet.');
      await expectGoodPage(page, 'admin-organisation-new');
      const row = await system().db.models.Organisation.findOne({ where: { slug: 'orgs-new' } });
      expect(row?.get({ plain: true })).to.include({ name: 'New <Org> & Co', enabled: false });

      await page.getByRole('link', { name: 'Back to the organisations' }).click();
      const item = page.locator('.records li').filter({ hasText: 'orgs-new' });
      expect(await factsOf(item)).to.deep.equal({ Slug: 'orgs-new', 'Device setup': 'Off', Managers: 'None yet' });
    });
  });

  it('an invited manager accepts in another browser: password, authenticator app, code; then manages that organisation only', async () => {
    const supervisor = await makeAdmin();
    const email = newAddress();
    let link = '';
    await signedIn(browser, supervisor, async (page) => {
      await page.goto(orgPage(ORG_A));
      expect(await h1(page)).to.equal(`Org ${ORG_A}`);
      await expectGoodPage(page, 'admin-organisation');
      link = await invite(page, ORG_A, email.toUpperCase());
      const item = await invitationItem(page, ORG_A, email);
      expect(await factsOf(item)).to.include({ State: 'Open', 'Invited by': supervisor.email, Sent: 'Once' });
      const expires = Date.parse((await item.locator('time').getAttribute('datetime')) as string);
      expect(expires - Date.now(), 'INVITATION_TTL of the test API: a week').to.be.within(WEEK - 60_000, WEEK);
      await expectGoodPage(page, 'admin-organisation-invited');

      // An address with an open invitation, and an admin's address, are refused beside the field.
      for (const [address, message] of [
        [email, 'This address already has an open invitation'],
        [supervisor.email, 'This address already belongs to an admin'],
      ]) {
        await page.getByLabel('E-mail address').fill(address as string);
        const refused = await press(page, 'Send the invitation');
        expect(refused?.status(), address).to.equal(409);
        expect(await errorOf(page, '#field-email')).to.include(message);
      }
      await expectGoodPage(page, 'admin-organisation-invite-refused');
    });

    const mail = system().mail.to(email)[0];
    expect(mail?.subject).to.equal(`You are invited to manage ${ORG_A}'s device setup`);
    expect(mail?.text).to.include(`${supervisor.email} invites you`);
    expect(link).to.match(/^http:\/\/app\.test\/admin\/invitations\/[A-Za-z0-9_-]+\/[A-Za-z0-9_-]{43}$/);

    await visiting(browser, async (page) => {
      await page.goto(onTestApi(link));
      expect(await h1(page)).to.equal('Accept your invitation');
      expect(await page.locator('main > p').first().textContent()).to.equal(
        `You are invited to manage the device setup of Org ${ORG_A}. You will sign in as ${email}.`,
      );
      await expectGoodPage(page, 'admin-invitation');

      // The first supervisor's rules: long, and not made of the address.
      for (const [password, message] of [
        ['short', 'At least 12 characters'],
        [`${email}1`, 'Too easy to guess'],
      ]) {
        await page.getByLabel('Password').fill(password);
        const refused = await press(page, 'Continue');
        expect(refused?.status()).to.equal(400);
        expect(await errorOf(page, '#field-password')).to.include(message);
      }
      await expectGoodPage(page, 'admin-invitation-refused');

      await page.getByLabel('Password').fill(ADMIN_PASSWORD);
      await press(page, 'Continue');
      expect(await h1(page)).to.equal('Add your authenticator app');
      await expectGoodPage(page, 'admin-invitation-code');
      const secret = ((await page.locator('#totp-secret').textContent()) as string).replace(/\s/g, '');
      const scanned = URI.parse(decodeQrPng(await page.locator('.qr-code').screenshot()));
      expect(scanned).to.include({ issuer: SITE_NAME, label: email });
      expect(scanned.secret.base32).to.equal(secret);

      await page.getByLabel('Code', { exact: true }).fill(codeAt(secret, currentStep() + 10));
      const wrong = await press(page, 'Accept and sign in');
      expect(wrong?.status()).to.equal(400);
      expect(await errorOf(page, '#field-code')).to.include('That code is not right');
      await expectGoodPage(page, 'admin-invitation-wrong-code');
      const manager = await system().db.models.AdminUser.count({ where: { email } });
      expect(manager, 'no account before the right code').to.equal(0);

      const step = currentStep();
      await page.getByLabel('Code', { exact: true }).fill(codeAt(secret, step));
      await press(page, 'Accept and sign in');
      expect(pathOf(page)).to.equal('/admin');
      expect(await noticeOn(page)).to.equal('Your account is set up and you are signed in.');
      expect(await page.locator('.account .role').textContent()).to.equal(`(Manager of Org ${ORG_A})`);

      const row = await system().db.models.AdminUser.findOne({ where: { email } });
      expect(row?.get({ plain: true })).to.include({ role: 'manager', totpLastStep: step, disabledAt: null });
      expect(system().secrets.unseal(row?.totpSecret as string)).to.equal(secret);

      // Their own organisation's page, read-only: its managers, no invitations, nothing to change.
      await page.goto(orgPage(ORG_A));
      expect(await page.locator('h2').allTextContents()).to.deep.equal([`Pages of Org ${ORG_A}`, 'Managers']);
      expect(await itemOf(page, 'Managers', email).count()).to.equal(1);
      expect(await page.locator('form[action^="/admin/organisations"]').count()).to.equal(0);
      await expectGoodPage(page, 'admin-organisation-manager');
      for (const address of [orgPage(ORG_B), '/admin/organisations', `${orgPage(ORG_B)}/device-setup`]) {
        expect((await page.goto(address))?.status(), address).to.equal(403);
      }

      // Used: the link says so, in this browser and any other.
      expect(await linkAnswer(page, link)).to.deep.equal({ status: 410, title: 'This invitation has been accepted' });
      await expectGoodPage(page, 'admin-invitation-accepted');
      expect(await linkAnswer(page, `${link}/code`)).to.deep.equal({
        status: 410,
        title: 'This invitation has been accepted',
      });
    });

    await signedIn(browser, await makeAdmin(), async (page) => {
      const item = await invitationItem(page, ORG_A, email);
      expect(await factsOf(item)).to.include({ State: 'Accepted' });
      expect(await factsOf(itemOf(page, 'Managers', email))).to.include({ Revoked: 'No' });
    });
  });

  it('“Send again” makes the old link dead and the new one work; withdrawn, no link works; the history names who did each', async () => {
    const [inviter, other] = [await makeAdmin(), await makeAdmin()];
    const email = newAddress();
    const first = await signedIn(browser, inviter, (page) => invite(page, ORG_B, email));
    const second = await signedIn(browser, other, async (page) => {
      const expiresAt = async () =>
        Date.parse((await itemOf(page, 'Invitations', email).locator('time').getAttribute('datetime')) as string);
      await invitationItem(page, ORG_B, email);
      const before = await expiresAt();
      await pressFor(page, ORG_B, email, 'Send again');
      expect(await noticeOn(page)).to.equal(
        'The invitation is sent again, with a new link: the old link no longer works.',
      );
      const link = linkIn(await system().mail.nth(email, 2));
      const item = await invitationItem(page, ORG_B, email);
      expect(await factsOf(item)).to.include({ State: 'Open', 'Invited by': inviter.email, Sent: '2 times' });
      expect(await expiresAt(), 'the new link gets the whole time').to.be.above(before);
      return link;
    });
    expect(second).to.not.equal(first);

    await visiting(browser, async (page) => {
      expect(await linkAnswer(page, first)).to.deep.equal({
        status: 410,
        title: 'This invitation link has been replaced',
      });
      await expectGoodPage(page, 'admin-invitation-replaced');
      expect(await linkAnswer(page, second)).to.deep.equal({ status: 200, title: 'Accept your invitation' });
    });

    await signedIn(browser, inviter, async (page) => {
      await pressFor(page, ORG_B, email, 'Withdraw');
      expect(await noticeOn(page)).to.equal('The invitation is withdrawn: its link no longer works.');
      const item = await invitationItem(page, ORG_B, email);
      expect(await factsOf(item)).to.include({ State: 'Withdrawn' });
      expect(await item.getByRole('button').count(), 'nothing left to do').to.equal(0);
      await expectGoodPage(page, 'admin-organisation-withdrawn');
    });
    await visiting(browser, async (page) => {
      for (const link of [first, second]) {
        expect(await linkAnswer(page, link)).to.deep.equal({
          status: 410,
          title: 'This invitation has been withdrawn',
        });
      }
      await expectGoodPage(page, 'admin-invitation-withdrawn');
    });

    const history = await invitationHistory(ORG_B, email);
    expect(history.started.invitedBy).to.equal(inviter.email);
    expect(history.updates).to.deep.equal([
      { name: 'resendInvitation', args: [{ by: other.email }] },
      { name: 'withdrawInvitation', args: [{ by: inviter.email }] },
    ]);
  });

  it('an expired invitation’s link is refused, and the list says it expired', async () => {
    const shortLived = await system().startApi({ invitationTtlMs: 1_500 });
    const supervisor = await makeAdmin();
    const email = newAddress();
    const link = await signedIn(browser, supervisor, (page) => invite(page, ORG_A, email), shortLived);
    await visiting(browser, async (page) => {
      const expired = await eventually(
        () => linkAnswer(page, link),
        (answer) => answer.status === 410,
      );
      expect(expired).to.deep.equal({ status: 410, title: 'This invitation has expired' });
      await expectGoodPage(page, 'admin-invitation-expired');
    });
    await signedIn(browser, await makeAdmin(), async (page) => {
      const item = await invitationItem(page, ORG_A, email);
      expect(await factsOf(item)).to.include({ State: 'Expired' });
      expect(Date.parse((await item.locator('time').getAttribute('datetime')) as string)).to.be.below(Date.now());
      expect(await item.getByRole('button').count(), 'nothing left to do').to.equal(0);

      // A page from before the expiry still offers the buttons: pressed, the refusal says what became of it.
      const stale = await post(page, `${orgPage(ORG_A)}/invitations/withdraw`, {
        _csrf: await csrfOf(page),
        invitation: email,
      });
      expect(stale.status()).to.equal(409);
      expect(await stale.text()).to.include('This invitation is expired.');
    });
  });

  it('a revoked manager’s session ends at once; invited again, they come back with new credentials only', async () => {
    const manager = await makeAdmin({ manages: ORG_A });
    const supervisor = await makeAdmin();
    const { models } = system().db;
    const managerBrowser = await newVisitor(browser);
    try {
      const managerPage = await managerBrowser.newPage();
      await signInAdmin(managerPage, manager);

      await signedIn(browser, supervisor, async (page) => {
        await page.goto(orgPage(ORG_A));
        const item = itemOf(page, 'Managers', manager.email);
        await Promise.all([page.waitForNavigation(), item.getByRole('link', { name: /^Revoke/ }).click()]);
        expect(await h1(page)).to.equal('Revoke this manager?');
        await expectGoodPage(page, 'admin-manager-revoke');
        await press(page, 'Revoke the manager');
        expect(pathOf(page)).to.equal(orgPage(ORG_A));
        expect(await noticeOn(page)).to.equal('The manager is revoked: they are signed out and cannot sign in.');
        expect(await itemOf(page, 'Managers', manager.email).getByRole('link').count()).to.equal(0);
        await expectGoodPage(page, 'admin-organisation-revoked');
        // Revoked already: its page is gone.
        expect((await page.goto(`${orgPage(ORG_A)}/managers/${manager.id}/revoke`))?.status()).to.equal(404);
      });

      await managerPage.goto('/admin');
      expect(pathOf(managerPage)).to.equal('/admin/sign-in');
      expect(await noticeOn(managerPage)).to.equal('Your session has ended. Sign in again to continue.');
      expect(await models.AdminSession.count({ where: { adminUserId: manager.id, endedAt: null } })).to.equal(0);

      // Invited again, they accept with new credentials: the old session stays ended.
      const link = await signedIn(browser, supervisor, (page) => invite(page, ORG_A, manager.email));
      await visiting(browser, (page) => accept(page, link));
      const row = await models.AdminUser.findByPk(manager.id);
      expect(row?.disabledAt).to.equal(null);
      expect(system().secrets.unseal(row?.totpSecret as string)).to.not.equal(manager.secret);
      await managerPage.goto('/admin');
      expect(pathOf(managerPage), 'the session from before stays ended').to.equal('/admin/sign-in');
    } finally {
      await managerBrowser.close();
    }
  });

  it('the role matrix: supervisor, manager of A, manager of B, signed out, over every page and action', async () => {
    const { models } = system().db;
    const [managerA, managerB, target] = [
      await makeAdmin({ manages: ORG_A }),
      await makeAdmin({ manages: ORG_B }),
      await makeAdmin({ manages: ORG_A }),
    ];
    const pending = newAddress();
    await signedIn(browser, await makeAdmin(), (page) => invite(page, ORG_A, pending));
    const pages = [
      '/admin/organisations',
      orgPage(ORG_A),
      orgPage(ORG_B),
      `${orgPage(ORG_A)}/managers/${target.id}/revoke`,
    ];
    const actions: Array<[string, Record<string, string>]> = [
      ['/admin/organisations', { slug: 'orgs-matrix', name: 'Matrix' }],
      [`${orgPage(ORG_A)}/invitations`, { email: newAddress() }],
      [`${orgPage(ORG_A)}/invitations/resend`, { invitation: pending }],
      [`${orgPage(ORG_A)}/invitations/withdraw`, { invitation: pending }],
      [`${orgPage(ORG_A)}/managers/${target.id}/revoke`, {}],
    ];
    const SIGN_IN = 'sign-in';
    const nothingChanged = async (who: string) => {
      expect(await models.Organisation.count({ where: { slug: 'orgs-matrix' } }), who).to.equal(0);
      expect((await models.AdminUser.findByPk(target.id))?.disabledAt, who).to.equal(null);
      expect(system().mail.to(pending), who).to.have.length(1);
      const [view] = (await invitationHistory(ORG_A, pending)).updates;
      expect(view, who).to.equal(undefined);
    };

    /** What each page and action answers in the browser's profile: a status, or `sign-in` for a redirect there. */
    const answers = async (page: Page) => {
      const seen: Record<string, number | string> = {};
      for (const address of pages) {
        const answer = await page.goto(address);
        seen[`GET ${address}`] = pathOf(page) === '/admin/sign-in' ? SIGN_IN : (answer?.status() as number);
      }
      await page.goto('/admin/sign-in');
      const csrf = await csrfOf(page);
      for (const [route, form] of actions) {
        const answer = await post(page, route, { _csrf: csrf, ...form });
        const location = answer.headers().location ?? '';
        seen[`POST ${route}`] = location.startsWith('/admin/sign-in') ? SIGN_IN : answer.status();
      }
      return seen;
    };
    const expected = (get: Array<number | string>, posted: number | string) => ({
      ...Object.fromEntries(pages.map((address, i) => [`GET ${address}`, get[i]])),
      ...Object.fromEntries(actions.map(([route]) => [`POST ${route}`, posted])),
    });

    await visiting(browser, async (page) => {
      expect(await answers(page), 'signed out').to.deep.equal(expected([SIGN_IN, SIGN_IN, SIGN_IN, SIGN_IN], SIGN_IN));
    });
    await signedIn(browser, managerA, async (page) => {
      expect(await answers(page), 'manager of A').to.deep.equal(expected([403, 200, 403, 403], 403));
    });
    await signedIn(browser, managerB, async (page) => {
      expect(await answers(page), 'manager of B').to.deep.equal(expected([403, 403, 200, 403], 403));
    });
    await nothingChanged('a manager or someone signed out');

    // The supervisor may do all of it: each action answers by going on to its page (303).
    await signedIn(browser, await makeAdmin(), async (page) => {
      expect(await answers(page), 'supervisor').to.deep.equal(expected([200, 200, 200, 200], 303));
    });
    expect(await models.Organisation.count({ where: { slug: 'orgs-matrix' } })).to.equal(1);
    expect((await models.AdminUser.findByPk(target.id))?.disabledAt).to.not.equal(null);
  });

  it('refuses every form posted without its CSRF token, and does nothing', async () => {
    const { models } = system().db;
    const supervisor = await makeAdmin();
    const target = await makeAdmin({ manages: ORG_A });
    const pending = newAddress();
    const link = await signedIn(browser, supervisor, async (page) => {
      const invitation = await invite(page, ORG_A, pending);
      const base = new URL(invitation).pathname;
      for (const [route, form] of [
        ['/admin/organisations', { slug: 'orgs-forged', name: 'Forged' }],
        [`${orgPage(ORG_A)}/invitations`, { email: newAddress() }],
        [`${orgPage(ORG_A)}/invitations/resend`, { invitation: pending }],
        [`${orgPage(ORG_A)}/invitations/withdraw`, { invitation: pending }],
        [`${orgPage(ORG_A)}/managers/${target.id}/revoke`, {}],
        [base, { password: ADMIN_PASSWORD }],
        [`${base}/code`, { code: '123456' }],
      ] as Array<[string, Record<string, string>]>) {
        for (const forged of [{}, { _csrf: 'forged' }] as Array<Record<string, string>>) {
          const answer = await post(page, route, { ...form, ...forged });
          expect(answer.status(), route).to.equal(403);
          expect(await answer.text(), route).to.include('This form has expired');
        }
      }
      return invitation;
    });
    expect(await models.Organisation.count({ where: { slug: 'orgs-forged' } })).to.equal(0);
    expect((await models.AdminUser.findByPk(target.id))?.disabledAt).to.equal(null);
    expect(system().mail.to(pending)).to.have.length(1);
    expect((await invitationHistory(ORG_A, pending)).updates).to.deep.equal([]);
    await visiting(browser, async (page) => {
      expect(await linkAnswer(page, link)).to.deep.equal({ status: 200, title: 'Accept your invitation' });
    });
  });

  it('an unknown or malformed invitation link is not found, and a link’s credentials stay out of the log', async () => {
    await visiting(browser, async (page) => {
      for (const address of [
        `/admin/invitations/${'A'.repeat(40)}/${'B'.repeat(43)}`,
        `/admin/invitations/short/${'B'.repeat(43)}`,
        `/admin/invitations/${system().secrets.registrationId(`registration/${ORG_A}/x@example.com`)}/${'B'.repeat(43)}`,
      ]) {
        const answer = await page.goto(address);
        expect(answer?.status(), address).to.equal(404);
        expect(await h1(page)).to.equal('Page not found');
      }
      await expectGoodPage(page, 'admin-invitation-unknown');
    });
    expect(redactUrl('/admin/invitations/the-id/the-token/code')).to.equal(
      '/admin/invitations/[redacted]/[redacted]/code',
    );
  });
});
