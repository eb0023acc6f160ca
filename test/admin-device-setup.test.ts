import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { expectForbidden, makeAdmin, signInAdmin, type TestAdmin } from './support/admin';
import { errorOf, expectGoodPage, launchBrowser, visiting } from './support/browser';
import { expectError, path, verified, withDevice } from './support/flow';
import { postMdmEvent, reportEnrolment } from './support/mdm-events';
import { SUPERVISOR_TOKEN, system, TEST_DPC } from './support/system';
import { pathOf, press } from './support/web-flow';

const ORG = 'admin-device-setup-a';
const OTHER = 'admin-device-setup-b';
const BASE = `/admin/organisations/${ORG}`;
const SETUP = `${BASE}/device-setup`;
const TEMPLATES = `${BASE}/templates`;
const DISCOVERY = 'https://enterpriseenrollment.setup-a.example/EnrollmentServer/Discovery.svc';
const WIFI_PASSWORD = 'corp-wifi-secret';

const models = () => system().db.models;
let orgId: number;
const organisation = async () => (await models().Organisation.findByPk(orgId))?.get({ plain: true });
/** This organisation's templates (other tests' organisations have templates of the same names). */
const templateNamed = (name: string) => models().DeviceTemplate.findOne({ where: { name, organisationId: orgId } });
const accountNamed = (name: string) => models().AccountTemplate.findOne({ where: { name, organisationId: orgId } });

/** Follows a link, and waits for the page it leads to. */
const follow = async (page: Page, name: string) => {
  await Promise.all([page.waitForNavigation(), page.getByRole('link', { name, exact: true }).click()]);
};

/** A field by its whole label, which an optional field's "(optional)" may follow. */
const labelled = (page: Page, label: string) =>
  page.getByLabel(new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( \\(optional\\))?$`));
const fill = (page: Page, label: string, value: string) => labelled(page, label).fill(value);
const choose = (page: Page, label: string, option: string) => labelled(page, label).selectOption({ label: option });
/** A group of fields (a fieldset) by its legend. */
const group = (page: Page, legend: string) => page.getByRole('group', { name: legend, exact: true });

const noticeOn = (page: Page) => page.locator('.notice').textContent();
const summaryOn = (page: Page) => page.locator('.error-summary').textContent();

/** The page's CSRF token (every signed-in page has one, in the sign-out form). */
const csrfOn = (page: Page) => page.locator('input[name="_csrf"]').first().inputValue();

/** A form posted from the page's browser profile (its cookies), as a script or another site would post it. */
const postAs = (page: Page, route: string, form: Record<string, string>) =>
  page.request.post(route, { form, maxRedirects: 0 });

describe('an organisation’s device setup and templates in the admin console, in Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let manager: TestAdmin;

  before(async () => {
    browser = await launchBrowser();
    // Nothing set up yet: no templates, self-service off, no MDM.
    orgId = (await models().Organisation.create({ slug: ORG, name: `Org ${ORG}` })).id;
    await system().createOrganisation(OTHER, { platforms: ['ios'] });
  });
  // A manager of its own per test: one admin signed in test after test would wait out the authenticator's 30-second
  // steps (the server takes each step's code once, and only one step either side of its own).
  beforeEach(async () => {
    manager = await makeAdmin({ manages: ORG });
  });
  after(async () => {
    await browser?.close();
  });

  it('a manager makes account and device templates by clicking; refusals beside their fields; a Wi-Fi password never shown back', async () => {
    await visiting(browser, async (page) => {
      await signInAdmin(page, manager);
      await follow(page, 'Templates');
      expect(pathOf(page)).to.equal(TEMPLATES);
      expect(await page.locator('.template-list').count()).to.equal(0);
      await expectGoodPage(page, 'admin-templates-empty');

      // An account template: what cannot be read is refused first, then what the schema refuses.
      await follow(page, 'New account template');
      await expectGoodPage(page, 'admin-account-template-new');
      await fill(page, 'Name', 'Staff');
      await fill(page, 'Language', 'en-GB');
      await fill(page, 'Time zone', 'Mars/Olympus');
      await fill(page, 'Role', 'employee');
      await fill(page, 'Groups', 'staff, sales');
      await fill(page, 'Days an account stays valid', 'ninety');
      await fill(page, 'Attributes', 'costCentre=4711\nbuilding');
      expect((await press(page, 'Create template'))?.status()).to.equal(400);
      expect(await errorOf(page, '#field-validityDays')).to.include('A whole number.');
      expect(await errorOf(page, '#field-attributes')).to.include('Line 2 is not name=value.');
      await expectGoodPage(page, 'admin-account-template-refused');

      await fill(page, 'Days an account stays valid', '5000');
      await fill(page, 'Attributes', 'costCentre=4711\nbuilding = North');
      expect((await press(page, 'Create template'))?.status()).to.equal(400);
      expect(await errorOf(page, '#field-timeZone')).to.include('An IANA time zone such as Europe/Berlin.');
      expect(await errorOf(page, '#field-validityDays')).to.include('From 1 to 3650.');
      expect(await summaryOn(page)).to.include('Time zone: An IANA time zone');

      await fill(page, 'Time zone', 'Europe/London');
      await fill(page, 'Days an account stays valid', '90');
      await press(page, 'Create template');
      expect(pathOf(page)).to.equal(TEMPLATES);
      expect(await noticeOn(page)).to.equal('The template has been created.');
      const account = await accountNamed('Staff');
      expect(account?.get({ plain: true })).to.deep.include({
        locale: 'en-GB',
        timeZone: 'Europe/London',
        role: 'employee',
        groups: ['staff', 'sales'],
        validityDays: 90,
        attributes: { costCentre: '4711', building: 'North' },
      });

      // An iPhone template: passcode, Wi-Fi with its password, a restriction.
      await follow(page, 'For iPhone or iPad');
      expect(await page.locator('h1').textContent()).to.equal('New iPhone or iPad template');
      await expectGoodPage(page, 'admin-device-template-ios-new');
      await fill(page, 'Name', 'Staff iPhones');
      await fill(page, 'Groups', 'iphones');
      await page.getByLabel('Require a passcode').check();
      await fill(page, 'Minimum length', '40');
      await page.getByLabel('Require letters as well as digits').check();
      await group(page, 'Wi-Fi').getByLabel('Network name (SSID)').fill('Office');
      await page.getByLabel('Allow screenshots and screen recording').uncheck();
      expect((await press(page, 'Create template'))?.status()).to.equal(400);
      expect(await errorOf(page, '#field-management-passcode-minLength')).to.include('From 0 to 16.');
      expect(await errorOf(page, '#field-management-wifi-password')).to.include('Required for a WPA2 network.');
      expect(await summaryOn(page)).to.include('Wi-Fi: Password: Required for a WPA2 network.');
      expect(await page.getByLabel('Allow screenshots and screen recording').isChecked()).to.equal(false);
      await expectGoodPage(page, 'admin-device-template-ios-refused');

      await fill(page, 'Minimum length', '6');
      await group(page, 'Wi-Fi').getByLabel('Password').fill(WIFI_PASSWORD);
      await press(page, 'Create template');
      expect(await noticeOn(page)).to.equal('The template has been created.');
      const ios = await templateNamed('Staff iPhones');
      expect(ios?.get({ plain: true })).to.deep.include({
        platform: 'ios',
        groups: ['iphones'],
        description: '',
        management: {
          passcode: { minLength: 6, requireAlphanumeric: true },
          wifi: { ssid: 'Office', security: 'WPA2', password: WIFI_PASSWORD },
          restrictions: { allowScreenShot: false },
        },
      });

      // Edited with the password left empty: it is kept, and never on the page.
      await follow(page, 'Staff iPhones');
      expect(await page.locator('h1').textContent()).to.equal('Edit the iPhone or iPad template “Staff iPhones”');
      expect(await group(page, 'Wi-Fi').getByLabel('Password').inputValue()).to.equal('');
      expect(await page.locator('#management-wifi-password-hint').textContent()).to.include('A password is stored');
      expect(await page.content()).to.not.include(WIFI_PASSWORD);
      expect(await page.getByLabel('Require a passcode').isChecked()).to.equal(true);
      expect(await page.getByLabel('Allow the camera').isChecked()).to.equal(true);
      await expectGoodPage(page, 'admin-device-template-ios-edit');
      await fill(page, 'Minimum length', '8');
      await press(page, 'Save changes');
      expect(await noticeOn(page)).to.equal('Your changes have been saved.');
      expect((await templateNamed('Staff iPhones'))?.management).to.deep.equal({
        passcode: { minLength: 8, requireAlphanumeric: true },
        wifi: { ssid: 'Office', security: 'WPA2', password: WIFI_PASSWORD },
        restrictions: { allowScreenShot: false },
      });

      // An Android template: a wrong signature checksum is refused beside its field, and a set-up network for
      // personal devices beside that network.
      await follow(page, 'For Android phone or tablet');
      await fill(page, 'Name', 'Staff Android');
      await fill(page, 'Component name', TEST_DPC.componentName);
      await fill(page, 'Download address', TEST_DPC.packageDownloadUrl);
      await fill(page, 'Signature checksum', `${TEST_DPC.signatureChecksum}=`);
      await choose(page, 'Screen lock required', 'Numeric (a PIN)');
      await group(page, 'Screen lock').getByLabel('Minimum length').fill('6');
      const wifi = group(page, 'Wi-Fi');
      await wifi.getByLabel('Network name (SSID)').fill('Office');
      await wifi.getByLabel('Password').fill(WIFI_PASSWORD);
      await fill(page, 'Apps to install', 'com.example.mail\ncom.example.chat');
      await choose(page, 'Who owns the devices', 'Their owners: a work profile on their own device');
      const setupWifi = group(page, 'Set-up Wi-Fi');
      await setupWifi.getByLabel('Network name (SSID)').fill('Lobby');
      await setupWifi.getByLabel('Security').selectOption({ label: 'None (an open network)' });
      expect((await press(page, 'Create template'))?.status()).to.equal(400);
      expect(await errorOf(page, '#field-management-dpc-signatureChecksum')).to.include(
        "43 characters without the trailing '='",
      );
      expect(await errorOf(page, '#field-management-setupWifi-ssid')).to.include('Only for company-owned devices');
      expect(await wifi.getByLabel('Password').inputValue(), 'a password is never sent back').to.equal('');
      await expectGoodPage(page, 'admin-device-template-android-refused');
      await fill(page, 'Signature checksum', TEST_DPC.signatureChecksum);
      await choose(page, 'Who owns the devices', 'The organisation: fully managed, set up with a QR code');
      await setupWifi.getByLabel('Network name (SSID)').fill('');
      await wifi.getByLabel('Password').fill(WIFI_PASSWORD);
      await press(page, 'Create template');
      expect(await noticeOn(page)).to.equal('The template has been created.');
      expect((await templateNamed('Staff Android'))?.management).to.deep.equal({
        dpc: TEST_DPC,
        ownership: 'company',
        password: { quality: 'numeric', minLength: 6 },
        wifi: { ssid: 'Office', security: 'WPA', password: WIFI_PASSWORD },
        apps: ['com.example.mail', 'com.example.chat'],
      });

      // A Windows template: its MDM's settings as a JSON object.
      await follow(page, 'For Windows PC');
      await fill(page, 'Name', 'Staff PCs');
      const settings = 'Settings for your MDM (JSON)';
      for (const [json, error] of [
        ['{"wifi": ', 'Not valid JSON'],
        ['[1]', 'expected record'],
      ]) {
        await fill(page, settings, json);
        expect((await press(page, 'Create template'))?.status(), json).to.equal(400);
        expect(await errorOf(page, '#field-management'), json).to.include(error);
      }
      await expectGoodPage(page, 'admin-device-template-windows-refused');
      await fill(page, settings, '{"wifi": {"ssid": "Office"}}');
      await press(page, 'Create template');
      expect((await templateNamed('Staff PCs'))?.management).to.deep.equal({ wifi: { ssid: 'Office' } });

      expect(await page.locator('.template-list a').allTextContents()).to.deep.equal([
        'Staff',
        'Staff iPhones',
        'Staff Android',
        'Staff PCs',
      ]);
      await expectGoodPage(page, 'admin-templates');
    });
  });

  it('a manager sets up device setup: addresses tried, refusals beside their fields; an owner then registers with it', async () => {
    const { api } = system();
    const ids = {
      account: (await accountNamed('Staff'))?.id,
      ios: (await templateNamed('Staff iPhones'))?.id,
      android: (await templateNamed('Staff Android'))?.id,
      windows: (await templateNamed('Staff PCs'))?.id,
    };
    await visiting(browser, async (page) => {
      await signInAdmin(page, manager);
      await follow(page, 'Device setup');
      expect(pathOf(page)).to.equal(SETUP);
      expect(await page.getByLabel('Self-service enabled').isChecked()).to.equal(false);
      expect(await page.getByLabel('Devices per owner').inputValue()).to.equal('5');
      await expectGoodPage(page, 'admin-device-setup');

      // Trying addresses saves nothing; an unsafe pattern is refused as saving it would be.
      await fill(page, 'E-mail requirement', '@example\\.com$');
      await fill(page, 'Addresses to try', 'ada@example.com\n\n Bob@Example.COM \neve@example.org');
      expect((await press(page, 'Try addresses'))?.status()).to.equal(200);
      expect(await page.locator('.tried li').allTextContents()).to.deep.equal([
        'ada@example.com: meets the requirement',
        'Bob@Example.COM: meets the requirement',
        'eve@example.org: does not meet the requirement',
      ]);
      expect(await page.getByLabel('E-mail requirement').inputValue()).to.equal('@example\\.com$');
      await expectGoodPage(page, 'admin-device-setup-tried');
      expect((await organisation())?.emailRequirement).to.equal(null);

      await fill(page, 'E-mail requirement', '^(a+)+@example\\.com$');
      expect((await press(page, 'Try addresses'))?.status()).to.equal(400);
      expect(await errorOf(page, '#field-emailRequirement')).to.include('This pattern can take exponential time');
      expect(await page.locator('.tried').count()).to.equal(0);

      // Saving: the schema's refusals together, then the service's.
      await fill(page, 'E-mail requirement', '@example\\.com$');
      await page.getByLabel('Self-service enabled').check();
      await fill(page, 'Devices per owner', '0');
      await fill(page, 'Windows MDM discovery URL', 'http://enterpriseenrollment.setup-a.example/Discovery.svc');
      expect((await press(page, 'Save changes'))?.status()).to.equal(400);
      expect(await errorOf(page, '#field-maxDevicesPerOwner')).to.include('From 1 to 100.');
      expect(await errorOf(page, '#field-windowsMdmDiscoveryUrl')).to.include('An https URL');
      await expectGoodPage(page, 'admin-device-setup-refused');

      await fill(page, 'Devices per owner', '3');
      await fill(page, 'Windows MDM discovery URL', DISCOVERY);
      expect((await press(page, 'Save changes'))?.status()).to.equal(400);
      expect(await errorOf(page, '#field-accountTemplate')).to.include(
        'Choose an account template before enabling self-service setup.',
      );

      await choose(page, 'Account template', 'Staff');
      await choose(page, 'Device template: iPhone or iPad', 'Staff iPhones');
      await choose(page, 'Device template: Android phone or tablet', 'Staff Android');
      await choose(page, 'Device template: Windows PC', 'Staff PCs');
      await press(page, 'Save changes');
      expect(pathOf(page)).to.equal(SETUP);
      expect(await noticeOn(page)).to.equal('Your changes have been saved.');
      const saved = await api.call('GET', `/api/organisations/${ORG}/device-setup`, { token: SUPERVISOR_TOKEN });
      expect(saved.body).to.deep.equal({
        enabled: true,
        emailRequirement: '@example\\.com$',
        accountTemplate: ids.account,
        deviceTemplates: { ios: ids.ios, android: ids.android, windows: ids.windows },
        maxDevicesPerOwner: 3,
        windowsMdmDiscoveryUrl: DISCOVERY,
      });
      expect(await page.getByLabel('Device template: Mac').inputValue(), 'not offered').to.equal('');

      // A template chosen on a page that is out of date: meanwhile made a Mac template through the API.
      const spare = await api.call('POST', `/api/organisations/${ORG}/device-templates`, {
        token: SUPERVISOR_TOKEN,
        body: {
          name: 'Spare',
          platform: 'android',
          groups: [],
          description: '',
          management: { dpc: TEST_DPC, ownership: 'personal' },
        },
      });
      expect(spare.status, spare.text).to.equal(201);
      await page.reload();
      await choose(page, 'Device template: Android phone or tablet', 'Spare');
      const changed = await api.call('PUT', `/api/organisations/${ORG}/device-templates/${spare.body.id}`, {
        token: SUPERVISOR_TOKEN,
        body: { name: 'Spare', platform: 'macos', groups: [], description: '', management: {} },
      });
      expect(changed.status, changed.text).to.equal(200);
      expect((await press(page, 'Save changes'))?.status()).to.equal(400);
      expect(await errorOf(page, '#field-deviceTemplates-android')).to.include(
        `Template ${spare.body.id} (Spare) is a macos template.`,
      );
      expect(saved.body).to.deep.equal(
        (await api.call('GET', `/api/organisations/${ORG}/device-setup`, { token: SUPERVISOR_TOKEN })).body,
      );
    });

    // An owner registering gets what was configured: the requirement, the platforms, the account template.
    const outsider = await api.call('POST', '/api/setup/registrations', {
      body: { organisation: ORG, email: 'eve@example.org' },
    });
    expectError(outsider, 403, 'email_not_allowed');
    const r = await verified(api, ORG);
    const status = await api.call('GET', path(r), { token: r.token });
    // Android needs Configuration › Platforms' SMS code, and the Mac has no template.
    expect([...status.body.platforms].sort()).to.deep.equal(['ios', 'windows']);
    const owner = await withDevice(api, ORG, 'windows');
    const user = await models().User.findOne({ where: { email: owner.email } });
    expect(user?.get({ plain: true })).to.deep.include({
      locale: 'en-GB',
      timeZone: 'Europe/London',
      role: 'employee',
      groups: ['staff', 'sales'],
      attributes: { costCentre: '4711', building: 'North' },
    });
    const start = (owner.device as { start?: { url: string } }).start;
    expect(new URL(start?.url as string).searchParams.get('servername')).to.equal(DISCOVERY);

    // The MDM webhook secret: made on the page, shown once; the MDM's report signed with it is taken.
    await visiting(browser, async (page) => {
      await signInAdmin(page, manager);
      await page.goto(SETUP);
      expect(await page.locator('main').textContent()).to.include('There is no secret yet');
      await press(page, 'Make a secret');
      expect(await page.locator('h1').textContent()).to.equal('Your new webhook secret');
      const secret = (await page.locator('#webhook-secret').textContent()) as string;
      expect(secret).to.match(/^whsec_[A-Za-z0-9_-]{43}$/);
      await expectGoodPage(page, 'admin-webhook-secret');

      await page.goto(SETUP);
      expect(await page.content()).to.not.include(secret);
      expect(await page.locator('main').textContent()).to.include('A secret is set, made on');
      const wrong = await reportEnrolment(api, {
        organisation: ORG,
        secret: `${secret}x`,
        enrolmentToken: owner.linkToken,
      });
      expectError(wrong, 401, 'invalid_signature');
      const report = await reportEnrolment(api, { organisation: ORG, secret, enrolmentToken: owner.linkToken });
      expect(report.status, report.text).to.equal(200);
      expect((await models().Device.findByPk(owner.device.id))?.state).to.equal('enrolled');

      // A new one: the old one stops working at once.
      await press(page, 'Make a new secret (the old one stops working)');
      const next = (await page.locator('#webhook-secret').textContent()) as string;
      expect(next).to.not.equal(secret);
      const event = { id: `evt-${Date.now()}`, organisation: ORG, type: 'unenrolled', deviceId: owner.device.id };
      expectError(await postMdmEvent(api, event, { secret }), 401, 'invalid_signature');
      expect((await postMdmEvent(api, event, { secret: next })).status).to.equal(200);
    });
  });

  it('deleting a template that device setup uses is refused, saying why; an unused one is deleted', async () => {
    await visiting(browser, async (page) => {
      await signInAdmin(page, manager);
      await page.goto(TEMPLATES);
      expect(
        await page
          .locator('.template-list li')
          .evaluateAll((items) => items.map((item) => (item.textContent ?? '').replace(/\s+/g, ' ').trim())),
      ).to.deep.equal([
        'Staff en-GB · Europe/London · employee Used by device setup',
        'Staff iPhones iPhone or iPad Used by device setup',
        'Staff Android Android phone or tablet Used by device setup',
        'Staff PCs Windows PC Used by device setup',
        'Spare Mac',
      ]);

      for (const [name, reason] of [
        ['Staff', `it is the account template of Org ${ORG}`],
        ['Staff iPhones', 'it is the ios device template'],
      ]) {
        await page.goto(TEMPLATES);
        await follow(page, name);
        const refused = await press(page, 'Delete template');
        expect(refused?.status(), name).to.equal(409);
        expect(await summaryOn(page), name).to.include(
          `This ${name === 'Staff' ? 'account' : 'device'} template cannot be deleted: ${reason}`,
        );
        expect(await page.getByLabel('Name', { exact: true }).inputValue(), 'the form as stored').to.equal(name);
      }
      await expectGoodPage(page, 'admin-template-in-use');

      await page.goto(TEMPLATES);
      await follow(page, 'Spare');
      await expectGoodPage(page, 'admin-device-template-macos-edit');
      await press(page, 'Delete template');
      expect(pathOf(page)).to.equal(TEMPLATES);
      expect(await noticeOn(page)).to.equal('The template has been deleted.');
      expect(await templateNamed('Spare')).to.equal(null);
      expect(await accountNamed('Staff')).to.not.equal(null);
    });
  });

  it('keeps another organisation’s manager out (403) and a signed-out visitor at sign-in; refuses forms without the CSRF token', async () => {
    const account = (await accountNamed('Staff'))?.id;
    const ios = (await templateNamed('Staff iPhones'))?.id;
    const otherTemplate = (await models().DeviceTemplate.findOne({ where: { name: `${OTHER} ios` } }))?.id;
    const pages = [
      SETUP,
      TEMPLATES,
      `${TEMPLATES}/account/new`,
      `${TEMPLATES}/account/${account}`,
      `${TEMPLATES}/device/new/android`,
      `${TEMPLATES}/device/${ios}`,
    ];
    const forms: Array<[string, Record<string, string>]> = [
      [SETUP, { enabled: 'on', accountTemplate: '', maxDevicesPerOwner: '1' }],
      [`${SETUP}/try`, { emailRequirement: 'x', addresses: 'x' }],
      [`${SETUP}/webhook-secret`, {}],
      [`${TEMPLATES}/account/new`, { name: 'Sneaked in', locale: 'en', timeZone: 'UTC', role: 'x' }],
      [`${TEMPLATES}/account/${account}`, { name: 'Sneaked in', locale: 'en', timeZone: 'UTC', role: 'x' }],
      [`${TEMPLATES}/account/${account}/delete`, {}],
      [`${TEMPLATES}/device/new/windows`, { name: 'Sneaked in', management: '{}' }],
      [`${TEMPLATES}/device/${ios}/delete`, {}],
    ];
    const before = {
      organisation: await organisation(),
      accounts: await models().AccountTemplate.count({ where: { organisationId: orgId } }),
      devices: await models().DeviceTemplate.count({ where: { organisationId: orgId } }),
    };

    await visiting(browser, async (page) => {
      for (const address of pages) {
        await page.goto(address);
        expect(pathOf(page), address).to.equal('/admin/sign-in');
      }
      const csrf = await csrfOn(page);
      for (const [route, form] of forms) {
        const answer = await postAs(page, route, { ...form, _csrf: csrf });
        expect([answer.status(), answer.headers().location], route).to.deep.equal([303, '/admin/sign-in']);
      }
    });

    await visiting(browser, async (page) => {
      await signInAdmin(page, await makeAdmin({ manages: OTHER }));
      await expectForbidden(page, pages, forms);
      // Their own organisation's pages do not reach another's templates either.
      expect((await page.goto(`/admin/organisations/${OTHER}/templates/device/${ios}`))?.status()).to.equal(404);
    });

    await visiting(browser, async (page) => {
      await signInAdmin(page, manager);
      for (const [route, form] of forms) {
        const answer = await postAs(page, route, form);
        expect(answer.status(), route).to.equal(403);
        expect(await answer.text()).to.include('This form has expired or did not come from this site.');
      }
      expect((await page.goto(`${TEMPLATES}/device/${otherTemplate}`))?.status()).to.equal(404);
      expect((await page.goto(`${TEMPLATES}/device/new/blackberry`))?.status()).to.equal(404);
    });

    // A supervisor may open any organisation's pages; the two buttons of device setup's form work without JavaScript.
    await visiting(
      browser,
      async (page) => {
        await signInAdmin(page, await makeAdmin());
        for (const address of pages) expect((await page.goto(address))?.status(), address).to.equal(200);
        await page.goto(SETUP);
        await fill(page, 'Addresses to try', 'ada@example.org');
        await press(page, 'Try addresses');
        expect(await page.locator('.tried li').allTextContents()).to.deep.equal([
          'ada@example.org: does not meet the requirement',
        ]);
        await press(page, 'Save changes');
        expect(await noticeOn(page)).to.equal('Your changes have been saved.');
      },
      { javaScriptEnabled: false },
    );

    expect({
      organisation: await organisation(),
      accounts: await models().AccountTemplate.count({ where: { organisationId: orgId } }),
      devices: await models().DeviceTemplate.count({ where: { organisationId: orgId } }),
    }).to.deep.equal(before);
  });
});
