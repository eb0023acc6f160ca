import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { csrfOn, expectForbidden, makeAdmin, postAs, signInAdmin, type TestAdmin } from './support/admin';
import { expectGoodPage, launchBrowser, visiting } from './support/browser';
import { checkInDevice, eventually, withDevice } from './support/flow';
import { decodedHistory } from './support/history';
import { type ApiUnderTest, system } from './support/system';
import { pathOf, press } from './support/web-flow';

const ORG = 'admin-devices-a';
const OTHER = 'admin-devices-b';
const DEVICES = `/admin/organisations/${ORG}/devices`;

const models = () => system().db.models;
const stateOf = async (id: string) => (await models().Device.findByPk(id))?.state;
const nameOf = async (id: string) => (await models().Device.findByPk(id))?.name;

const follow = async (page: Page, name: string) => {
  await Promise.all([page.waitForNavigation(), page.getByRole('link', { name, exact: true }).click()]);
};
/** The owners of the devices listed on the page, in order. */
const ownersListed = (page: Page) => page.locator('.records dd.address').allTextContents();
const noticeOn = (page: Page) => page.locator('.notice').textContent();

describe('an organisation’s devices in the admin console, in Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let manager: TestAdmin;
  let api: ApiUnderTest;
  /** Links that die after a moment: a device whose link expired. */
  let shortLinks: ApiUnderTest;
  let enrolled: Awaited<ReturnType<typeof withDevice>>;
  let live: Awaited<ReturnType<typeof withDevice>>;
  let expired: Awaited<ReturnType<typeof withDevice>>;
  let elsewhere: Awaited<ReturnType<typeof withDevice>>;

  before(async () => {
    browser = await launchBrowser();
    api = system().api;
    shortLinks = await system().startApi({ timings: { linkTtlMs: 1_000 } });
    await system().createOrganisation(ORG, { platforms: ['windows', 'android'] });
    await system().createOrganisation(OTHER, { platforms: ['windows'] });

    enrolled = await withDevice(api, ORG, 'windows');
    expect((await checkInDevice(api, enrolled.linkToken)).status).to.be.below(300);
    live = await withDevice(api, ORG, 'windows');
    expired = await withDevice(shortLinks, ORG, 'windows');
    elsewhere = await withDevice(api, OTHER, 'windows');
    const state = await eventually(
      () => stateOf(expired.device.id),
      (s) => s === 'link-expired',
    );
    expect(state).to.equal('link-expired');
  });
  // A manager of its own per test: one admin signed in test after test would wait out the authenticator's 30-second
  // steps (the server takes each step's code once, and only one step either side of its own).
  beforeEach(async () => {
    manager = await makeAdmin({ manages: ORG });
  });
  after(async () => {
    await browser?.close();
  });

  it('lists the organisation’s devices, filtered by state and platform and searched by owner', async () => {
    await visiting(browser, async (page) => {
      await signInAdmin(page, manager);
      await page.goto(DEVICES);
      expect(await ownersListed(page)).to.deep.equal([expired.email, live.email, enrolled.email]);
      expect(await page.locator('.records .state').allTextContents()).to.deep.equal([
        'Link expired',
        'Link issued',
        'Enrolled',
      ]);
      await expectGoodPage(page, 'admin-devices');

      await page.getByLabel('State').selectOption({ label: 'Enrolled' });
      await press(page, 'Show devices');
      expect(await ownersListed(page)).to.deep.equal([enrolled.email]);
      expect(new URL(page.url()).searchParams.get('state')).to.equal('enrolled');

      await page.getByLabel('State').selectOption({ label: 'Any' });
      await page.getByLabel('Platform').selectOption({ value: 'android' });
      await press(page, 'Show devices');
      expect(await page.locator('.records').count()).to.equal(0);
      expect(await page.getByText('No device matches.').count()).to.equal(1);
      await expectGoodPage(page, 'admin-devices-none');

      await page.getByLabel('Platform').selectOption({ label: 'Any' });
      await page.getByLabel('Owner’s address').fill(live.email.split('@')[0].toUpperCase());
      await press(page, 'Show devices');
      expect(await ownersListed(page)).to.deep.equal([live.email]);

      // An edited address's unknown filter values filter nothing.
      await page.goto(`${DEVICES}?state=lost&platform=blackberry`);
      expect(await ownersListed(page)).to.have.length(3);
    });
  });

  it('gives an expired device a new link that then works, naming the operator in the run', async () => {
    await visiting(browser, async (page) => {
      await signInAdmin(page, manager);
      await page.goto(`${DEVICES}/${expired.device.id}`);
      expect(await page.locator('h1').textContent()).to.equal(await nameOf(expired.device.id));
      await expectGoodPage(page, 'admin-device-expired');

      await press(page, 'Give it a new link');
      expect(pathOf(page)).to.equal(`${DEVICES}/${expired.device.id}`);
      expect(await noticeOn(page)).to.equal('The owner has a new link: pass it on to them.');
      const link = (await page.locator('#provisioning-link').textContent()) as string;
      expect(link).to.match(/^http:\/\/app\.test\/provision\//);
      expect(await page.getByRole('button', { name: 'Give it a new link' }).count()).to.equal(0);
      await expectGoodPage(page, 'admin-device-relinked');

      const { started } = await decodedHistory(`device/${expired.device.id}`);
      expect(started).to.include({ requestedBy: manager.email, email: expired.email });
      expect(started).to.have.deep.property('record', { kind: 'relink' });

      expect((await checkInDevice(api, link.split('/').pop() as string)).status).to.be.below(300);
      expect(await stateOf(expired.device.id)).to.equal('enrolled');
    });
  });

  it('removes an enrolled device and a device with a live link after a confirmation, the removal naming who', async () => {
    await visiting(browser, async (page) => {
      await signInAdmin(page, manager);
      for (const [device, name] of [
        [live, 'admin-device-remove-live'],
        [enrolled, 'admin-device-remove-enrolled'],
      ] as const) {
        await page.goto(`${DEVICES}/${device.device.id}`);
        await follow(page, 'Remove this device');
        expect(await page.locator('h1').textContent()).to.equal(`Remove ${await nameOf(device.device.id)}?`);
        await expectGoodPage(page, name);
        await press(page, 'Remove the device');
        expect(pathOf(page)).to.equal(`${DEVICES}/${device.device.id}`);
        expect(await noticeOn(page)).to.equal('The device is removed.');
        expect(await page.getByRole('link', { name: 'Remove this device' }).count()).to.equal(0);
        expect(await stateOf(device.device.id)).to.equal('removed');
      }
      await expectGoodPage(page, 'admin-device-removed');

      // The live link's run took the removal as an update naming the manager; the enrolled PC's run had ended.
      const { updates } = await decodedHistory(`device/${live.device.id}`);
      expect(updates.filter((update) => update.name === 'remove')).to.deep.equal([
        { name: 'remove', args: [{ by: manager.email }] },
      ]);
      expect((await checkInDevice(api, live.linkToken)).status).to.equal(410);

      // Removed once is removed: a second removal is refused on the form.
      const csrf = await csrfOn(page);
      const again = await postAs(page, `${DEVICES}/${live.device.id}/remove`, { _csrf: csrf });
      expect(again.status()).to.equal(409);
      expect(await again.text()).to.include('This device has been removed already.');
    });
  });

  it('shows an Apple device’s settings status with the device’s error', async () => {
    const apple = await withDevice(api, ORG, 'windows');
    await models().Device.update(
      {
        platform: 'ios',
        state: 'enrolled',
        enrolledAt: new Date(),
        settingsStatus: 'failed',
        settingsDetail: [
          { LocalizedDescription: 'The profile is not allowed', ErrorDomain: 'MCProfile', ErrorCode: 1009 },
        ],
      },
      { where: { id: apple.device.id } },
    );
    const error = 'Settings not applied: The profile is not allowed (MCProfile 1009)';
    await visiting(browser, async (page) => {
      await signInAdmin(page, manager);
      await page.goto(`${DEVICES}?owner=${encodeURIComponent(apple.email)}`);
      expect(await page.locator('.records dt:text-is("Apple settings") + dd').allTextContents()).to.deep.equal([error]);
      await page.goto(`${DEVICES}/${apple.device.id}`);
      expect(await page.locator('dd.settings-failed').textContent()).to.equal(error);
      await expectGoodPage(page, 'admin-device-apple-failed');
    });
  });

  it('keeps another organisation’s manager out (403), a signed-out visitor at sign-in, forms without CSRF refused; another organisation’s device is not found', async () => {
    const device = `${DEVICES}/${enrolled.device.id}`;
    const pages = [DEVICES, device, `${device}/remove`];
    const forms = [`${device}/link`, `${device}/remove`];

    await visiting(browser, async (page) => {
      for (const address of pages) {
        await page.goto(address);
        expect(pathOf(page), address).to.equal('/admin/sign-in');
      }
      const csrf = await csrfOn(page);
      for (const route of forms) {
        const answer = await postAs(page, route, { _csrf: csrf });
        expect([answer.status(), answer.headers().location], route).to.deep.equal([303, '/admin/sign-in']);
      }
    });

    await visiting(browser, async (page) => {
      await signInAdmin(page, await makeAdmin({ manages: OTHER }));
      await expectForbidden(
        page,
        pages,
        forms.map((route) => [route, {}]),
      );
      // Their own organisation's address does not reach this organisation's device either.
      expect((await page.goto(`/admin/organisations/${OTHER}/devices/${enrolled.device.id}`))?.status()).to.equal(404);
    });

    await visiting(browser, async (page) => {
      await signInAdmin(page, manager);
      for (const route of forms) {
        const answer = await postAs(page, route, {});
        expect(answer.status(), route).to.equal(403);
        expect(await answer.text()).to.include('This form has expired or did not come from this site.');
      }
      const csrf = await csrfOn(page);
      const foreign = `${DEVICES}/${elsewhere.device.id}`;
      expect((await page.goto(foreign))?.status()).to.equal(404);
      await expectGoodPage(page);
      expect((await postAs(page, `${foreign}/remove`, { _csrf: csrf })).status()).to.equal(404);
      expect(await stateOf(elsewhere.device.id)).to.not.equal('removed');
    });

    // A supervisor may open any organisation's devices.
    await visiting(browser, async (page) => {
      await signInAdmin(page, await makeAdmin());
      for (const address of pages) expect((await page.goto(address))?.status(), address).to.equal(200);
    });
  });
});
