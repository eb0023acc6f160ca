import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { csrfOn, makeAdmin, postAs, signInAdmin } from './support/admin';
import { errorOf, expectGoodPage, launchBrowser, visiting } from './support/browser';
import { uniqueEmail } from './support/flow';
import { SUPERVISOR_TOKEN, system } from './support/system';
import { pathOf, press } from './support/web-flow';

const ORG = 'admin-platforms-a';
const OTHER = 'admin-platforms-b';
const PLATFORMS = '/admin/configuration/platforms';
const SUPERVISOR_PAGES = [PLATFORMS, '/admin/tokens'];

const systemSettings = async () =>
  (await system().api.call('GET', '/api/settings/system', { token: SUPERVISOR_TOKEN })).body;

/** What the form shows: the two checkboxes and the chosen default organisation. */
async function formOn(page: Page) {
  return {
    deviceSetupEnabled: await page.getByLabel('Device setup enabled (system-wide)').isChecked(),
    defaultOrganisation: await page.getByLabel('Default organisation').inputValue(),
    useSmsInstallationCode: await page.getByLabel('Use SMS installation code').isChecked(),
  };
}

/** The engines' status as the page says it: each engine's name, state and detail. */
const enginesOn = (page: Page) =>
  page
    .locator('.engine')
    .evaluateAll((items) => items.map((item) => (item.textContent ?? '').replace(/\s+/g, ' ').trim()));

/** Follows a link, and waits for the page it leads to. */
const follow = async (page: Page, name: string) => {
  await Promise.all([page.waitForNavigation(), page.getByRole('link', { name, exact: true }).click()]);
};

describe('Configuration › Platforms and API tokens, in Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;

  before(async () => {
    browser = await launchBrowser();
    await system().createOrganisation(ORG, { platforms: ['android', 'ios'] });
    await system().createOrganisation(OTHER, { platforms: ['ios'] });
  });
  after(async () => {
    await system().setSystem({ deviceSetupEnabled: true, defaultOrganisation: null, platforms: {} });
    await browser?.close();
  });

  it('a supervisor switches device setup off and on, sets the default organisation and Android’s SMS code; owners see each change', async () => {
    // An owner registering with the organisation through the API: what it offers is read afresh at every step.
    const registration = await system().api.call('POST', '/api/setup/registrations', {
      body: { organisation: ORG, email: uniqueEmail('admin-platforms') },
    });
    expect(registration.status).to.equal(201);
    const offered = async () =>
      (
        await system().api.call('GET', `/api/setup/registrations/${registration.body.registrationId}`, {
          token: registration.body.token,
        })
      ).body.platforms;
    expect(await offered()).to.deep.equal(['ios']);

    await visiting(browser, async (page) => {
      await signInAdmin(page, await makeAdmin());
      await follow(page, 'Configuration › Platforms');
      expect(pathOf(page)).to.equal(PLATFORMS);
      expect(await page.locator('h1').textContent()).to.equal('Configuration › Platforms');
      expect(await formOn(page)).to.deep.equal({
        deviceSetupEnabled: true,
        defaultOrganisation: '',
        useSmsInstallationCode: false,
      });
      expect(await page.getByLabel('Default organisation').locator('option').allTextContents()).to.include.members([
        'None: people name their organisation',
        `Org ${ORG} (${ORG})`,
        `Org ${OTHER} (${OTHER})`,
      ]);
      await expectGoodPage(page, 'admin-platforms');

      // Off: nobody can start, wherever they come from.
      await page.getByLabel('Device setup enabled (system-wide)').uncheck();
      await press(page, 'Save changes');
      expect(pathOf(page)).to.equal(PLATFORMS);
      expect(await page.locator('.notice').textContent()).to.include('Your changes are saved.');
      expect((await formOn(page)).deviceSetupEnabled).to.equal(false);
      expect(await systemSettings()).to.deep.equal({
        deviceSetupEnabled: false,
        defaultOrganisation: null,
        platforms: { android: { useSmsInstallationCode: false } },
      });
      await expectGoodPage(page, 'admin-platforms-saved');
      await visiting(browser, async (owner) => {
        const answer = await owner.goto(`/setup/${ORG}`);
        expect(answer?.status()).to.equal(403);
        expect(await owner.locator('h1').textContent()).to.equal('Device setup is switched off');
      });
      expect(await offered(), 'nothing is offered while off').to.deep.equal([]);

      // On again, with a default organisation and Android's SMS codes.
      await page.getByLabel('Device setup enabled (system-wide)').check();
      await page.getByLabel('Default organisation').selectOption(ORG);
      await page.getByLabel('Use SMS installation code').check();
      await press(page, 'Save changes');
      expect(await formOn(page)).to.deep.equal({
        deviceSetupEnabled: true,
        defaultOrganisation: ORG,
        useSmsInstallationCode: true,
      });
      expect(await systemSettings()).to.deep.equal({
        deviceSetupEnabled: true,
        defaultOrganisation: ORG,
        platforms: { android: { useSmsInstallationCode: true } },
      });
      await visiting(browser, async (owner) => {
        await owner.goto('/setup');
        expect(pathOf(owner), 'the default organisation').to.equal(`/setup/${ORG}`);
      });
      expect(await offered(), 'Android with SMS codes on').to.have.members(['android', 'ios']);

      // And off again: Android goes, the default organisation is none.
      await page.getByLabel('Default organisation').selectOption('');
      await page.getByLabel('Use SMS installation code').uncheck();
      await press(page, 'Save changes');
      expect(await systemSettings()).to.include({ deviceSetupEnabled: true, defaultOrganisation: null });
      expect(await offered()).to.deep.equal(['ios']);
    });
  });

  it('refuses an unknown or malformed default organisation beside its field, and saves nothing', async () => {
    const before = await systemSettings();
    await visiting(browser, async (page) => {
      await signInAdmin(page, await makeAdmin());
      await page.goto(PLATFORMS);
      // An organisation that is not there (removed since the page was shown, or a made-up form).
      for (const [slug, error] of [
        ['ghost', 'There is no organisation "ghost".'],
        ['Not A Slug', 'An organisation slug: lower-case letters, digits and dashes.'],
      ] as const) {
        await page
          .getByLabel('Default organisation')
          .evaluate((select: HTMLSelectElement, value) => select.add(new Option(value, value)), slug);
        await page.getByLabel('Default organisation').selectOption(slug);
        await page.getByLabel('Use SMS installation code').check();
        const refused = await press(page, 'Save changes');
        expect(refused?.status(), slug).to.equal(400);
        expect(await errorOf(page, '#field-defaultOrganisation')).to.include(error);
        expect(await page.locator('.error-summary').textContent()).to.include(`Default organisation: ${error}`);
        expect(await page.title()).to.match(/^Error: /);
        expect(await page.getByLabel('Use SMS installation code').isChecked(), 'the rest is kept').to.equal(true);
      }
      await expectGoodPage(page, 'admin-platforms-refused');
    });
    expect(await systemSettings()).to.deep.equal(before);
  });

  it('shows the enrolment engines reachable, NanoMDM not while it is stopped, and Apple enrolment off without them', async () => {
    await visiting(browser, async (page) => {
      await signInAdmin(page, await makeAdmin());
      await page.goto(PLATFORMS);
      const { nanomdmUrl, scepUrl, profileSigner } = system().apple;
      expect(await enginesOn(page)).to.deep.equal([
        `NanoMDM Reachable Asked at ${nanomdmUrl}/version: it answers.`,
        `SCEP server Reachable Asked at ${scepUrl}?operation=GetCACaps: it answers.`,
      ]);
      // The test system signs as `npm start` does without a configured certificate: with one it made itself.
      const validUntil = new Date(profileSigner.certificate.validTo).toISOString().slice(0, 10);
      expect(await page.locator('.profile-signing').textContent()).to.equal(
        `Enrolment profiles are signed by CN=Self-Service Setup profile signing, valid until ${validUntil}. ` +
          'This certificate was made by the service itself, so devices show the profiles as “Not Verified”: set ' +
          'PROFILE_SIGNING_CERTIFICATE and PROFILE_SIGNING_KEY to a certificate they trust (this site’s TLS certificate will do).',
      );

      await system().engines.nanomdm.stop();
      try {
        await page.reload();
        expect(await enginesOn(page)).to.deep.equal([
          `NanoMDM Not reachable Asked at ${nanomdmUrl}/version: no answer.`,
          `SCEP server Reachable Asked at ${scepUrl}?operation=GetCACaps: it answers.`,
        ]);
        await expectGoodPage(page, 'admin-platforms-engine-down');
      } finally {
        await system().engines.nanomdm.start();
      }
      await page.reload();
      expect(await page.locator('.engine .state').allTextContents()).to.deep.equal(['Reachable', 'Reachable']);
    });

    const withoutApple = await system().startApi({ apple: 'off' });
    try {
      await visiting(
        browser,
        async (page) => {
          await signInAdmin(page, await makeAdmin());
          await page.goto(PLATFORMS);
          expect(await page.locator('.engine, .profile-signing').count()).to.equal(0);
          expect(await page.locator('.engines-off').textContent()).to.include('Apple enrolment is off');
          await expectGoodPage(page, 'admin-platforms-apple-off');
        },
        { baseURL: withoutApple.url },
      );
    } finally {
      await withoutApple.close();
    }
  });

  it('API tokens: a new manager token is shown once and works; revoked, it is refused', async () => {
    await visiting(browser, async (page) => {
      await signInAdmin(page, await makeAdmin());
      await follow(page, 'API tokens');
      expect(pathOf(page)).to.equal('/admin/tokens');
      const supervisorToken = page.locator('.token', { hasText: 'SUPERVISOR_TOKEN' });
      expect(await supervisorToken.locator('.facts').textContent()).to.include('Every organisation');
      await expectGoodPage(page, 'admin-tokens');

      const refused = await press(page, 'Make the token');
      expect(refused?.status()).to.equal(400);
      expect(await errorOf(page, '#field-organisation')).to.include('Choose an organisation.');
      await expectGoodPage(page, 'admin-tokens-refused');
      // An organisation gone since the list was shown.
      await page
        .getByLabel('Organisation')
        .evaluate((select: HTMLSelectElement) => select.add(new Option('ghost', 'ghost')));
      await page.getByLabel('Organisation').selectOption('ghost');
      expect((await press(page, 'Make the token'))?.status()).to.equal(404);
      expect(await errorOf(page, '#field-organisation')).to.include('There is no organisation with that name.');

      const label = `nightly sync ${Date.now()}`;
      await page.getByLabel('Organisation').selectOption(ORG);
      await page.getByLabel('Label').fill(`  ${label} `);
      const made = await press(page, 'Make the token');
      expect(made?.status()).to.equal(201);
      expect(made?.headers()['cache-control']).to.equal('no-store');
      expect(await page.locator('h1').textContent()).to.equal('Your new API token');
      const token = (await page.locator('#api-token').textContent()) as string;
      expect(token).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(await page.locator('.example').textContent()).to.equal(
        `curl -H "Authorization: Bearer ${token}" http://app.test/api/organisations/${ORG}/device-setup`,
      );
      await expectGoodPage(page, 'admin-token-new');

      // It works for its organisation only; kept as a hash, it is never shown again.
      const deviceSetup = (slug: string) =>
        system().api.call('GET', `/api/organisations/${slug}/device-setup`, { token });
      expect((await deviceSetup(ORG)).status).to.equal(200);
      expect((await deviceSetup(OTHER)).status).to.equal(403);
      const row = await system().db.models.ApiToken.findOne({ where: { label } });
      expect(row?.get({ plain: true })).to.include({ role: 'manager', revokedAt: null });
      expect(row?.tokenHash).to.not.equal(token);

      await follow(page, 'Back to the API tokens');
      expect(await page.content()).to.not.include(token);
      const listed = page.locator('.token', { hasText: label });
      expect(await listed.locator('.facts').textContent())
        .to.include(`Org ${ORG} (${ORG})`)
        .and.include('No, it works');

      await follow(page, `Revoke “${label}”`);
      expect(pathOf(page)).to.equal(`/admin/tokens/${row?.id}/revoke`);
      expect(await page.locator('h1').textContent()).to.equal('Revoke this token?');
      await expectGoodPage(page, 'admin-token-revoke');
      await press(page, 'Revoke the token');
      expect(pathOf(page)).to.equal('/admin/tokens');
      expect(await page.locator('.notice').textContent()).to.include('The token is revoked');
      expect(await page.locator('.token-revoked', { hasText: label }).locator('time').count()).to.equal(2);
      expect(await listed.getByRole('link').count(), 'no Revoke for a revoked token').to.equal(0);
      await expectGoodPage(page, 'admin-tokens-revoked');
      expect((await deviceSetup(ORG)).status).to.equal(401);

      // A revoked token's page leads back to the list; a token never made is not found.
      await page.goto(`/admin/tokens/${row?.id}/revoke`);
      expect(pathOf(page)).to.equal('/admin/tokens');
      for (const id of ['999999', 'nope']) {
        expect((await page.goto(`/admin/tokens/${id}/revoke`))?.status(), id).to.equal(404);
      }
    });
  });

  it('keeps managers (403) and signed-out visitors (sign-in) out, and refuses forms without the CSRF token', async () => {
    const before = await systemSettings();
    const tokens = () => system().db.models.ApiToken.count();
    const tokensBefore = await tokens();
    const { id: supervisorTokenId } = (await system().db.models.ApiToken.findOne({
      where: { label: 'SUPERVISOR_TOKEN' },
    })) as { id: number };
    const forms: Array<[string, Record<string, string>]> = [
      [PLATFORMS, { deviceSetupEnabled: 'on', defaultOrganisation: OTHER }],
      ['/admin/tokens', { organisation: ORG, label: 'sneaked in' }],
      [`/admin/tokens/${supervisorTokenId}/revoke`, {}],
    ];

    await visiting(browser, async (page) => {
      for (const address of [...SUPERVISOR_PAGES, `/admin/tokens/${supervisorTokenId}/revoke`]) {
        const answer = await page.goto(address);
        expect({ status: answer?.status(), path: pathOf(page) }, address).to.deep.equal({
          status: 200,
          path: '/admin/sign-in',
        });
      }
      // With the sign-in page's CSRF token, but no session: to sign in, and nothing done.
      const csrf = await csrfOn(page);
      for (const [route, form] of forms) {
        const answer = await postAs(page, route, { ...form, _csrf: csrf });
        expect([answer.status(), answer.headers().location], route).to.deep.equal([303, '/admin/sign-in']);
      }
    });

    await visiting(browser, async (page) => {
      await signInAdmin(page, await makeAdmin({ manages: ORG }));
      const csrf = await csrfOn(page);
      for (const address of [...SUPERVISOR_PAGES, `/admin/tokens/${supervisorTokenId}/revoke`]) {
        const answer = await page.goto(address);
        expect(answer?.status(), address).to.equal(403);
        expect(await page.locator('h1').textContent()).to.equal('You cannot do that');
      }
      for (const [route, form] of forms) {
        expect((await postAs(page, route, { ...form, _csrf: csrf })).status(), route).to.equal(403);
      }
    });

    await visiting(browser, async (page) => {
      await signInAdmin(page, await makeAdmin());
      for (const [route, form] of forms) {
        const answer = await postAs(page, route, form);
        expect(answer.status(), route).to.equal(403);
        expect(await answer.text()).to.include('This form has expired or did not come from this site.');
      }
    });

    expect(await systemSettings()).to.deep.equal(before);
    expect(await tokens()).to.equal(tokensBefore);
    const supervisorToken = await system().api.call('GET', '/api/settings/system', { token: SUPERVISOR_TOKEN });
    expect(supervisorToken.status, 'the supervisor token still works').to.equal(200);
  });
});
