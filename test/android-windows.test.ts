import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { instructionsFor } from '../platforms';
import { expectGoodPage, launchBrowser, visiting } from './support/browser';
import {
  ANDROID_DEVICE,
  atDevice,
  checkInDevice,
  expectError,
  path,
  registrationHandle,
  uniqueEmail,
  withDevice,
} from './support/flow';
import { reportUnenrolment } from './support/mdm-events';
import { decodeQrPng } from './support/qr';
import { codeIn } from './support/smtp';
import { mdmWebhookSecretOf, SUPERVISOR_TOKEN, system, TEST_DPC } from './support/system';
import { pathOf, toProvisioning } from './support/web-flow';

const ORG = 'droid-win';
const PERSONAL = 'droid-personal';
const PHONE = '+447700900555';
const DISCOVERY = `https://enterpriseenrollment.${ORG}.example/EnrollmentServer/Discovery.svc`;

/** Reads the QR code a page shows (rendered by Chromium at three times the pixels, then decoded with jsQR). */
async function qrOn(page: Page): Promise<string> {
  return decodeQrPng(await page.locator('.qr-code svg').screenshot());
}

/** Android and Windows enrol in their platforms' own ways. */
describe('Android and Windows enrolment', function () {
  this.timeout(60_000);
  let browser: Browser;

  before(async () => {
    browser = await launchBrowser();
    await system().createOrganisation(ORG, { platforms: ['android', 'windows'] });
    const { deviceTemplates } = await system().createOrganisation(PERSONAL, { platforms: ['android'] });
    await system().db.models.DeviceTemplate.update(
      { management: { dpc: TEST_DPC, ownership: 'personal', apps: ['com.example.mail'] } },
      { where: { id: deviceTemplates.get('android') as number } },
    );
    await system().setSystem({ platforms: { android: { useSmsInstallationCode: true } } });
  });
  after(async () => {
    await system().setSystem({ platforms: {} });
    await browser?.close();
  });

  describe('a company-owned Android device', () => {
    it('scans the provisioning QR code from the page; its DPC checks in and gets its settings; the owner is done', async () => {
      const email = uniqueEmail('android.company');
      await visiting(
        browser,
        async (page) => {
          await toProvisioning(page, ORG, email, 'android');
          expect(await page.locator('.steps li').allTextContents()).to.deep.equal(instructionsFor('android'));
          const link = (await page
            .getByRole('link', { name: 'Open the provisioning link' })
            .getAttribute('href')) as string;
          const token = link.split('/').pop() as string;

          const qr = JSON.parse(await qrOn(page));
          expect(qr).to.deep.include({
            'android.app.extra.PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME': TEST_DPC.componentName,
            'android.app.extra.PROVISIONING_DEVICE_ADMIN_PACKAGE_DOWNLOAD_LOCATION': TEST_DPC.packageDownloadUrl,
            'android.app.extra.PROVISIONING_DEVICE_ADMIN_SIGNATURE_CHECKSUM': TEST_DPC.signatureChecksum,
            // From the account template (de-DE, Europe/Berlin), in Android's own form.
            'android.app.extra.PROVISIONING_LOCALE': 'de_DE',
            'android.app.extra.PROVISIONING_TIME_ZONE': 'Europe/Berlin',
          });
          expect(qr['android.app.extra.PROVISIONING_ADMIN_EXTRAS_BUNDLE']).to.deep.include({
            enrolment_token: token,
            check_in_url: `http://app.test/api/provision/${token}/checkin`,
          });
          await expectGoodPage(page, 'provision-android-qr');

          // The SMS (to the number the profile step took) carries the link; on a phone it shows the same code to scan.
          const sms = await waitForSms('+447700900123', link);
          expect(sms).to.include(link);
          const onPhone = await page.context().newPage();
          await onPhone.goto(link.replace('http://app.test', system().api.url));
          expect(await onPhone.locator('h1').textContent()).to.equal('Set up your Android phone or tablet');
          expect(JSON.parse(await qrOn(onPhone))).to.deep.equal(qr);
          await expectGoodPage(onPhone, 'provision-link-android');

          // The DPC, installed by the set-up wizard, checks in with what it can read of the device.
          const checkIn = await system().api.call('POST', `/api/provision/${token}/checkin`, {
            body: { deviceInfo: ANDROID_DEVICE },
          });
          expect(checkIn.status, checkIn.text).to.equal(200);
          expect(checkIn.body).to.deep.include({ state: 'enrolled' });
          expect(checkIn.body.settings).to.deep.equal({
            password: { quality: 'numeric', minLength: 6 },
            wifi: { ssid: `${ORG}-corp`, security: 'WPA', password: 'corp-wifi-secret' },
            apps: ['com.example.mail'],
          });
          await system().temporal.client.workflow.getHandle(`registration/${ORG}/${email}`).result();
          await page.getByRole('link', { name: 'Check whether it has' }).click();
          await page.waitForURL(`**/setup/${ORG}/done`);
          const device = await system().db.models.Device.findOne({
            where: { linkTokenHash: system().secrets.keyedHash('link', token) },
          });
          expect(device?.deviceInfo).to.deep.include(ANDROID_DEVICE);
        },
        { deviceScaleFactor: 3 },
      );
    });

    it('the DPC’s check-in needs the device’s identifiers, and works once', async () => {
      const r = await withDevice(system().api, ORG, 'android', PHONE);
      const post = (body: unknown) => system().api.call('POST', `/api/provision/${r.linkToken}/checkin`, { body });
      expectError(await post({}), 400, 'invalid_request');
      const noId = await post({ deviceInfo: { model: 'Pixel 8', androidVersion: '14' } });
      expectError(noId, 400, 'invalid_request');
      expect(noId.body.error.message).to.include('serialNumber');
      expect((await post({ deviceInfo: ANDROID_DEVICE })).status).to.equal(200);
      expectError(await post({ deviceInfo: ANDROID_DEVICE }), 410, 'link_used');
    });
  });

  it('a personal Android device: the link opens the DPC with the token, from Google Play if it is missing', async () => {
    const r = await atDevice(system().api, PERSONAL, PHONE);
    const chosen = await system().api.call('POST', path(r, 'devices'), {
      token: r.token,
      body: { platform: 'android' },
    });
    expect(chosen.status, chosen.text).to.equal(201);
    const { device } = chosen.body;
    const token = device.provisioningUrl.split('/').pop();
    expect(device.instructions).to.deep.equal(instructionsFor('android', device.start));
    expect(device.start.kind).to.equal('android-app');
    const intent = device.start.url as string;
    expect(intent).to.match(/^intent:#Intent;.*;end$/);
    const extras = Object.fromEntries(
      intent
        .slice('intent:#Intent;'.length, -';end'.length)
        .split(';')
        .map((part) => part.split('=').map(decodeURIComponent)),
    );
    expect(extras).to.deep.include({
      package: 'com.example.dpc',
      'S.enrolment_token': token,
      'S.check_in_url': `http://app.test/api/provision/${token}/checkin`,
      'S.browser_fallback_url': 'https://play.google.com/store/apps/details?id=com.example.dpc',
    });
    await visiting(browser, async (page) => {
      await page.goto(device.provisioningUrl.replace('http://app.test', system().api.url));
      expect(await page.locator('#enrol-android').getAttribute('href')).to.equal(intent);
      await expectGoodPage(page, 'provision-link-android-personal');
    });
    expect((await checkInDevice(system().api, token)).status).to.equal(200);
    expect((await registrationHandle(r).result()).step).to.equal('done');
  });

  describe('a Windows PC', () => {
    it('gets Windows’ own enrolment link; the organisation’s MDM reports it; its removal there shows', async () => {
      const r = await withDevice(system().api, ORG, 'windows');
      const answer = await system().api.call('GET', path(r), { token: r.token });
      expect(answer.body.step).to.equal('provision');
      const chosen = await system().db.models.Device.findByPk(r.device.id);
      expect(chosen?.platform).to.equal('windows');

      const link = await visiting(browser, async (page) => {
        await toProvisioningAgain(page, r.email);
        expect(await page.locator('.steps li').allTextContents()).to.deep.equal(instructionsFor('windows'));
        const href = (await page.locator('#enrol-windows').getAttribute('href')) as string;
        await expectGoodPage(page, 'provision-windows-enrol');
        return href;
      });
      expect(link.startsWith('ms-device-enrollment:?')).to.equal(true);
      const query = new URLSearchParams(link.slice('ms-device-enrollment:?'.length));
      expect(Object.fromEntries(query)).to.deep.equal({
        mode: 'mdm',
        username: r.email,
        servername: DISCOVERY,
        accesstoken: r.linkToken,
      });

      expect((await checkInDevice(system().api, r.linkToken)).status).to.equal(200);
      expect((await registrationHandle(r).result()).step).to.equal('done');

      const session = await system().api.call('POST', '/api/session', {
        body: { organisation: ORG, email: r.email, password: 'a long passphrase' },
      });
      const left = await reportUnenrolment(system().api, {
        organisation: ORG,
        secret: mdmWebhookSecretOf(ORG),
        deviceId: r.device.id,
      });
      expect(left.status, left.text).to.equal(200);
      const me = await system().api.call('GET', '/api/me', { token: session.body.token });
      expect(me.body.devices[0]).to.include({ state: 'unenrolled' });
    });

    it('is not a JSON check-in; and it is offered only once the organisation names its MDM, over https', async () => {
      const r = await withDevice(system().api, ORG, 'windows');
      expectError(
        await system().api.call('POST', `/api/provision/${r.linkToken}/checkin`, {
          body: { deviceInfo: ANDROID_DEVICE },
        }),
        409,
        'wrong_step',
      );
      const setup = `/api/organisations/${ORG}/device-setup`;
      const current = (await system().api.call('GET', setup, { token: SUPERVISOR_TOKEN })).body;
      const put = (windowsMdmDiscoveryUrl: string | null) =>
        system().api.call('PUT', setup, { token: SUPERVISOR_TOKEN, body: { ...current, windowsMdmDiscoveryUrl } });
      const plain = await put('http://mdm.example/Discovery.svc');
      expectError(plain, 400, 'invalid_request');
      expect(plain.body.error.message).to.include('windowsMdmDiscoveryUrl');
      try {
        expect((await put(null)).status).to.equal(200);
        const other = await atDevice(system().api, ORG, PHONE);
        const status = await system().api.call('GET', path(other), { token: other.token });
        expect(status.body.platforms).not.to.include('windows');
      } finally {
        expect((await put(DISCOVERY)).status).to.equal(200);
      }
    });
  });

  it('no link token, QR payload or webhook secret in any history', async () => {
    const r = await withDevice(system().api, ORG, 'windows');
    await checkInDevice(system().api, r.linkToken);
    await registrationHandle(r).result();
    for (const workflowId of [`device/${r.device.id}`, `registration/${ORG}/${r.email}`]) {
      const history = system().rawHistory(workflowId);
      expect(history).not.to.include(r.linkToken);
      expect(history).not.to.include(mdmWebhookSecretOf(ORG));
    }
  });

  /** Opens the registration's provisioning page again in a fresh browser: the address's link from the e-mail. */
  async function toProvisioningAgain(page: Page, email: string) {
    await page.goto(`/setup/${ORG}`);
    await page.getByLabel('Your e-mail address').fill(email);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Continue' }).click()]);
    // Another browser verifies the address again, with the second code.
    await page.getByLabel('Verification code').fill(codeIn(await system().mail.nth(email, 2)));
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Confirm' }).click()]);
    expect(pathOf(page)).to.equal(`/setup/${ORG}/provision`);
  }

  /** The SMS to a number with a link in it (the code that proved the number came before it). */
  async function waitForSms(phone: string, link: string): Promise<string> {
    const withLink = () =>
      system()
        .twilio.to(phone)
        .find((sms) => sms.body.includes(link));
    const deadline = Date.now() + 10_000;
    while (!withLink() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    return withLink()?.body ?? '';
  }
});
