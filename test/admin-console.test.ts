import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { csrfOn, makeAdmin, postAs, signInAdmin, type TestAdmin } from './support/admin';
import { expectGoodPage, launchBrowser, visiting } from './support/browser';
import {
  eventually,
  expectError,
  path,
  type Registered,
  register,
  registrationHandle,
  uniqueEmail,
  withDevice,
} from './support/flow';
import { reportEnrolment } from './support/mdm-events';
import { codeIn } from './support/smtp';
import { system } from './support/system';
import { pathOf, press } from './support/web-flow';

/**
 * The admin console as a whole: the seed configuration done by clicking only, an owner registering with it
 * while the organisation's manager watches the funnel; and who may open and change what, as one table.
 */

const models = () => system().db.models;
const api = () => system().api;

/** Follows a link by its exact name (the first, where a page links twice to one place), and waits for its page. */
const follow = async (page: Page, name: string) => {
  await Promise.all([page.waitForNavigation(), page.getByRole('link', { name, exact: true }).first().click()]);
};
/** A field by its whole label, which an optional field's "(optional)" may follow. */
const labelled = (page: Page, label: string) =>
  page.getByLabel(new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( \\(optional\\))?$`));
const fill = (page: Page, label: string, value: string) => labelled(page, label).fill(value);
const choose = (page: Page, label: string, option: string) => labelled(page, label).selectOption({ label: option });
const noticeOn = (page: Page) => page.locator('.notice').textContent();

/** The funnel's table: each stage's counts for the last 7 and 30 days. */
const funnelOn = (page: Page): Promise<Record<string, number[]>> =>
  page
    .locator('table.funnel tbody tr')
    .evaluateAll((trs) =>
      Object.fromEntries(
        trs.map((tr) => [
          tr.querySelector('th')?.textContent ?? '',
          [...tr.querySelectorAll('td')].map((td) => Number(td.textContent)),
        ]),
      ),
    );

const FUNNEL_STAGES = ['Started', 'Verified their address', 'Gave their profile', 'Chose a device', 'Done'];

/** The funnel as it should be once a registration has got `reached` stages far: each stage reached counts 1. */
const funnelAt = (reached: number) =>
  Object.fromEntries(FUNNEL_STAGES.map((stage, index) => [stage, index < reached ? [1, 1] : [0, 0]]));

describe('the admin console end to end, in Chromium', function () {
  this.timeout(240_000);
  let browser: Browser;

  before(async () => {
    browser = await launchBrowser();
    // As a new installation: device setup off, no default organisation; put back for the tests after these.
    await system().setSystem({ deviceSetupEnabled: false, defaultOrganisation: null });
  });
  after(async () => {
    await system().setSystem({ deviceSetupEnabled: true, defaultOrganisation: null });
    await browser?.close();
  });

  it('a supervisor configures a new organisation by clicking; an owner registers; its manager sees the funnel move', async () => {
    const slug = `console-${Date.now().toString(36)}`;
    const name = `Console ${slug}`;
    const discovery = `https://enterpriseenrollment.${slug}.example/EnrollmentServer/Discovery.svc`;
    let webhookSecret = '';

    await visiting(browser, async (page) => {
      await signInAdmin(page, await makeAdmin());

      // Organisations: a new one.
      await follow(page, 'Organisations');
      await fill(page, 'Slug', slug);
      await fill(page, 'Name', name);
      await press(page, 'Create the organisation');
      expect(pathOf(page)).to.equal(`/admin/organisations/${slug}`);

      // Configuration › Platforms: switched on, with the new organisation as the default.
      await page.goto('/admin');
      await follow(page, 'Configuration › Platforms');
      await page.getByLabel('Device setup enabled (system-wide)').check();
      await choose(page, 'Default organisation', `${name} (${slug})`);
      await press(page, 'Save changes');
      expect(await noticeOn(page)).to.match(/^Your changes are saved\./);
      const settings = await models().SystemSettings.findOne();
      const organisation = await models().Organisation.findOne({ where: { slug } });
      expect(settings?.deviceSetupEnabled).to.equal(true);
      expect(settings?.defaultOrganisationId).to.equal(organisation?.id);

      // The organisation's page leads to its four sections.
      await page.goto('/admin');
      await follow(page, 'Organisations');
      await follow(page, name);
      const sections = page.getByRole('navigation', { name: `Pages of ${name}` }).getByRole('link');
      expect(await sections.evaluateAll((links) => links.map((link) => link.getAttribute('href')))).to.deep.equal(
        ['device-setup', 'templates', 'registrations', 'devices'].map(
          (section) => `/admin/organisations/${slug}/${section}`,
        ),
      );
      await expectGoodPage(page, 'admin-organisation-sections');

      // Templates: an account template, an iPhone and a Windows template.
      await follow(page, 'Templates');
      await follow(page, 'New account template');
      await fill(page, 'Name', 'Staff');
      await fill(page, 'Language', 'en-GB');
      await fill(page, 'Time zone', 'Europe/London');
      await fill(page, 'Role', 'employee');
      await fill(page, 'Days an account stays valid', '90');
      await press(page, 'Create template');
      expect(await noticeOn(page)).to.equal('The template has been created.');
      await follow(page, 'For iPhone or iPad');
      await fill(page, 'Name', 'Staff iPhones');
      await press(page, 'Create template');
      await follow(page, 'For Windows PC');
      await fill(page, 'Name', 'Staff PCs');
      await fill(page, 'Settings for your MDM (JSON)', '{"wifi": {"ssid": "Office"}}');
      await press(page, 'Create template');
      expect(await page.locator('.template-list a').allTextContents()).to.deep.equal([
        'Staff',
        'Staff iPhones',
        'Staff PCs',
      ]);

      // Device setup: on, for example.com addresses, with the templates and the Windows MDM; then the webhook secret.
      await follow(page, 'Device setup');
      await page.getByLabel('Self-service enabled').check();
      await fill(page, 'E-mail requirement', '@example\\.com$');
      await choose(page, 'Account template', 'Staff');
      await choose(page, 'Device template: iPhone or iPad', 'Staff iPhones');
      await choose(page, 'Device template: Windows PC', 'Staff PCs');
      await fill(page, 'Windows MDM discovery URL', discovery);
      await press(page, 'Save changes');
      expect(await noticeOn(page)).to.equal('Your changes have been saved.');
      await press(page, 'Make a secret');
      webhookSecret = (await page.locator('#webhook-secret').textContent()) ?? '';
      expect(webhookSecret).to.not.equal('');
    });

    const saved = await models().Organisation.findOne({ where: { slug } });
    expect(saved).to.deep.include({
      enabled: true,
      emailRequirement: '@example\\.com$',
      windowsMdmDiscoveryUrl: discovery,
    });
    expect(await models().OrganisationDeviceTemplate.count({ where: { organisationId: saved?.id } })).to.equal(2);

    const manager = await makeAdmin({ manages: slug });
    await visiting(browser, async (page) => {
      await signInAdmin(page, manager);
      const home = page.getByRole('navigation', { name: 'Sections' }).getByRole('link');
      expect(await home.allTextContents()).to.deep.equal(['Device setup', 'Templates', 'Registrations', 'Devices']);
      await follow(page, 'Registrations');
      const list = pathOf(page);
      expect(list).to.equal(`/admin/organisations/${slug}/registrations`);
      expect(await funnelOn(page)).to.deep.include(funnelAt(0));

      /** The funnel once it shows the registration `reached` stages far (it is eventually consistent). */
      const expectFunnel = async (reached: number) => {
        const funnel = await eventually(
          async () => {
            await page.goto(list);
            return funnelOn(page);
          },
          (counts) => counts[FUNNEL_STAGES[reached - 1] as string]?.[0] === 1,
          15_000,
        );
        expect(funnel, `${reached} stages`).to.deep.include(funnelAt(reached));
      };

      // An address the requirement refuses starts nothing; one it takes does.
      const refused = await api().call('POST', '/api/setup/registrations', {
        body: { organisation: slug, email: 'someone@elsewhere.org' },
      });
      expectError(refused, 403, 'email_not_allowed');
      const r: Registered = await register(api(), slug, uniqueEmail('console'));
      await expectFunnel(1);
      const owner = (step: string, body: Record<string, unknown>) =>
        api().call('POST', path(r, step), { token: r.token, body });
      expect((await owner('verify', { code: codeIn(await system().mail.nth(r.email, 1)) })).status).to.equal(200);
      await expectFunnel(2);
      const profile = { firstName: 'Ada', lastName: 'Lovelace', password: 'a long passphrase' };
      expect((await owner('profile', profile)).status).to.equal(200);
      await expectFunnel(3);
      const chosen = await owner('devices', { platform: 'windows' });
      expect(chosen.status, chosen.text).to.equal(201);
      await expectFunnel(4);
      // The organisation's MDM reports the PC, signed with the secret the supervisor made.
      const enrolmentToken = (chosen.body.device.provisioningUrl as string).split('/').pop() as string;
      const reported = await reportEnrolment(api(), { organisation: slug, secret: webhookSecret, enrolmentToken });
      expect(reported.status, reported.text).to.be.oneOf([200, 202, 204]);
      await expectFunnel(5);

      await page.goto('/admin');
      await follow(page, 'Devices');
      expect(await page.locator('.records .record').count()).to.equal(1);
    });
  });

  describe('who may open and change what', () => {
    const A = `console-a-${Date.now().toString(36)}`;
    const B = `console-b-${Date.now().toString(36)}`;
    const base = (slug: string) => `/admin/organisations/${slug}`;
    type Role = 'supervisor' | 'managerA' | 'managerB' | 'signedOut';
    const admins = {} as Record<Exclude<Role, 'signedOut'>, TestAdmin>;
    let owner: Awaited<ReturnType<typeof withDevice>>;
    let ids: { account: number; device: number };

    before(async () => {
      const made = await system().createOrganisation(A);
      await system().createOrganisation(B);
      ids = { account: made.accountTemplate.id, device: made.deviceTemplates.get('windows') as number };
      owner = await withDevice(api(), A, 'windows');
      admins.supervisor = await makeAdmin();
      admins.managerA = await makeAdmin({ manages: A });
      admins.managerB = await makeAdmin({ manages: B });
    });

    /** Every page, and what each role gets: 200, 403 (the forbidden page) or 303 (to sign in). */
    const PAGES = (): Array<[string, Record<Role, 200 | 303 | 403>]> => [
      ['/admin', { supervisor: 200, managerA: 200, managerB: 200, signedOut: 303 }],
      ['/admin/configuration/platforms', { supervisor: 200, managerA: 403, managerB: 403, signedOut: 303 }],
      ['/admin/tokens', { supervisor: 200, managerA: 403, managerB: 403, signedOut: 303 }],
      ['/admin/organisations', { supervisor: 200, managerA: 403, managerB: 403, signedOut: 303 }],
      [base(A), { supervisor: 200, managerA: 200, managerB: 403, signedOut: 303 }],
      [`${base(A)}/device-setup`, { supervisor: 200, managerA: 200, managerB: 403, signedOut: 303 }],
      [`${base(A)}/templates`, { supervisor: 200, managerA: 200, managerB: 403, signedOut: 303 }],
      [`${base(A)}/registrations`, { supervisor: 200, managerA: 200, managerB: 403, signedOut: 303 }],
      [`${base(A)}/devices`, { supervisor: 200, managerA: 200, managerB: 403, signedOut: 303 }],
    ];

    /** What may change through the forms, all of it: the same before and after the refused posts. */
    const state = async () => {
      const organisations = await models().Organisation.findAll({ order: [['id', 'ASC']], raw: true });
      const handle = registrationHandle(owner);
      return {
        settings: await models().SystemSettings.findOne({ raw: true }),
        organisations,
        accounts: await models().AccountTemplate.findAll({ order: [['id', 'ASC']], raw: true }),
        devices: await models().DeviceTemplate.findAll({ order: [['id', 'ASC']], raw: true }),
        tokens: await models().ApiToken.findAll({ order: [['id', 'ASC']], raw: true }),
        admins: await models().AdminUser.findAll({
          attributes: ['id', 'disabledAt'],
          order: [['id', 'ASC']],
          raw: true,
        }),
        registration: (await handle.describe()).status.name,
        mails: system().mail.to(owner.email).length,
        device: await models().Device.findByPk(owner.device.id, { raw: true }),
      };
    };

    it('each page answers each role as the table says', async () => {
      for (const role of ['supervisor', 'managerA', 'managerB', 'signedOut'] as const) {
        await visiting(browser, async (page) => {
          if (role !== 'signedOut') await signInAdmin(page, admins[role]);
          for (const [address, expected] of PAGES()) {
            const answer = await page.request.get(address, { maxRedirects: 0 });
            expect(answer.status(), `${role} ${address}`).to.equal(expected[role]);
            if (expected[role] === 303) expect(answer.headers().location).to.equal('/admin/sign-in');
            if (expected[role] === 403) expect(await answer.text()).to.include('You cannot do that');
          }
          if (role === 'supervisor') {
            // Pages no other test photographs.
            for (const address of [base(A), `${base(A)}/devices`]) {
              await page.goto(address);
              await expectGoodPage(page);
            }
          }
        });
      }
    });

    it('every form a role may not use is refused with 403, and nothing changes', async () => {
      const registration = `${base(A)}/registrations/${encodeURIComponent(owner.id)}`;
      const device = `${base(A)}/devices/${owner.device.id}`;
      const account = { name: 'Sneaked in', locale: 'en', timeZone: 'UTC', role: 'x', validityDays: '1' };
      const theirs: Array<[string, Record<string, string>]> = [
        [`${base(A)}/device-setup`, { enabled: 'on', accountTemplate: '', maxDevicesPerOwner: '1' }],
        [`${base(A)}/device-setup/try`, { emailRequirement: 'x', addresses: 'x' }],
        [`${base(A)}/device-setup/webhook-secret`, {}],
        [`${base(A)}/templates/account/new`, account],
        [`${base(A)}/templates/account/${ids.account}`, account],
        [`${base(A)}/templates/account/${ids.account}/delete`, {}],
        [`${base(A)}/templates/device/new/windows`, { name: 'Sneaked in', management: '{}' }],
        [`${base(A)}/templates/device/${ids.device}`, { name: 'Sneaked in', management: '{}' }],
        [`${base(A)}/templates/device/${ids.device}/delete`, {}],
        [`${registration}/new-code`, {}],
        [`${registration}/end`, {}],
        [`${device}/link`, {}],
        [`${device}/remove`, {}],
      ];
      const supervisors: Array<[string, Record<string, string>]> = [
        ['/admin/configuration/platforms', { deviceSetupEnabled: '', defaultOrganisation: B }],
        ['/admin/tokens', { organisation: A, label: 'Sneaked in' }],
        ['/admin/tokens/1/revoke', {}],
        ['/admin/organisations', { slug: 'sneaked-in', name: 'Sneaked in' }],
        [`${base(A)}/invitations`, { email: 'sneaked-in@example.com' }],
        [`${base(A)}/invitations/resend`, { invitation: 'sneaked-in@example.com' }],
        [`${base(A)}/invitations/withdraw`, { invitation: 'sneaked-in@example.com' }],
        [`${base(A)}/managers/${admins.managerA.id}/revoke`, {}],
      ];
      const refusals: Array<[TestAdmin, Array<[string, Record<string, string>]>]> = [
        [admins.managerB, [...theirs, ...supervisors]],
        [admins.managerA, supervisors],
      ];

      const before = await state();
      for (const [admin, forms] of refusals) {
        await visiting(browser, async (page) => {
          await signInAdmin(page, admin);
          const csrf = await csrfOn(page);
          for (const [route, form] of forms) {
            const answer = await postAs(page, route, { ...form, _csrf: csrf });
            expect(answer.status(), `${admin.email} ${route}`).to.equal(403);
          }
        });
      }
      expect(await state()).to.deep.equal(before);
    });
  });
});
