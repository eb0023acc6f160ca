import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import type { Platform } from '../domain/platform';
import { instructionsFor } from '../platforms';
import { SimulatedAppleDevice } from './support/apple-device';
import { errorOf, expectGoodPage, launchBrowser, newVisitor, visiting } from './support/browser';
import { checkInDevice, eventually, registrationHandle, withDevice } from './support/flow';
import { codeSmsTo } from './support/phone';
import type { ReceivedMail } from './support/smtp';
import { system, TEST_LIMITS } from './support/system';
import { chooseDevice, confirmPhone, pathOf, press } from './support/web-flow';

const ORG = 'owner-web';
const PASSWORD = 'a long passphrase';

/** An owner registered through the JSON API whose first device (a Windows PC) its organisation's MDM has enrolled. */
async function enrolledOwner(organisation = ORG) {
  const { api } = system();
  const r = await withDevice(api, organisation, 'windows');
  const checkIn = await checkInDevice(api, r.linkToken);
  expect(checkIn.status, checkIn.text).to.equal(200);
  await registrationHandle(r).result();
  return r;
}

async function signIn(page: Page, organisation: string, email: string, password: string) {
  await page.goto(`/setup/${organisation}/sign-in`);
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill(password);
  return press(page, 'Sign in');
}

/** The card of one device on My devices. */
const card = (page: Page, id: string) => page.locator(`#device-${id}`);
const stateOf = (page: Page, id: string) => card(page, id).locator('.state').textContent();

/** The newest mail to an address whose subject starts so, waiting for it. */
async function mailAbout(email: string, subject: string): Promise<ReceivedMail> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = system()
      .mail.to(email)
      .filter((m) => m.subject.startsWith(subject))
      .at(-1);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no mail "${subject}" to ${email}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
const resetCodeIn = (mail: ReceivedMail) => /reset code is (\d{6})/.exec(mail.text)?.[1] as string;

/** The device page: the platform's steps, the link as a button and a QR code, its expiry; returns the link. */
async function expectLinkPage(page: Page, platform: Platform): Promise<string> {
  expect(await page.locator('.steps li').allTextContents()).to.deep.equal(instructionsFor(platform));
  const link = (await page.getByRole('link', { name: 'Open the provisioning link' }).getAttribute('href')) as string;
  expect(link).to.match(/^http:\/\/app\.test\/provision\/[A-Za-z0-9_-]{43}$/);
  expect(await page.locator('.qr-code svg').count()).to.equal(1);
  const expires = Date.parse((await page.locator('.expiry time').getAttribute('datetime')) as string);
  expect(expires).to.be.greaterThan(Date.now());
  expect(await page.getByText('We have also sent this link by SMS').count()).to.equal(platform === 'android' ? 1 : 0);
  return link;
}

describe('the returning owner’s web pages, in Chromium', function () {
  this.timeout(60_000);
  let browser: Browser;

  before(async () => {
    browser = await launchBrowser();
    await system().createOrganisation(ORG);
  });
  after(async () => {
    await browser?.close();
  });

  it('signs in, lists the enrolled device, adds a Mac, shows its link, removes it, signs out', async () => {
    const r = await enrolledOwner();
    const { api } = system();
    await visiting(browser, async (page) => {
      await page.goto(`/setup/${ORG}`);
      await page.getByRole('link', { name: 'Sign in', exact: true }).click();
      await page.waitForURL(`**/setup/${ORG}/sign-in`);
      await expectGoodPage(page, 'owner-sign-in');

      // An unknown address and a wrong password get the same answer.
      for (const [email, password] of [
        [r.email, 'not the password'],
        [`nobody.${r.email}`, PASSWORD],
      ] as const) {
        const refused = await signIn(page, ORG, email, password);
        expect(refused?.status()).to.equal(401);
        expect(await page.locator('.error-summary').textContent()).to.include(
          'The e-mail address or the password is not right.',
        );
        expect(await page.getByLabel('E-mail address').inputValue()).to.equal(email);
        expect(await page.getByLabel('Password').inputValue()).to.equal('');
      }
      await expectGoodPage(page, 'owner-sign-in-wrong');

      await signIn(page, ORG, r.email, PASSWORD);
      expect(pathOf(page)).to.equal(`/setup/${ORG}/devices`);
      const cookie = (await page.context().cookies()).find((c) => c.name === `owner-${ORG}`);
      expect(cookie).to.include({ httpOnly: true, sameSite: 'Lax', path: '/setup', secure: false });
      expect(await page.locator('.account .address').textContent()).to.equal(r.email);
      expect(await page.locator('.device').count()).to.equal(1);
      expect(await stateOf(page, r.device.id)).to.equal('Enrolled');
      expect(await card(page, r.device.id).locator('.device-platform').textContent()).to.equal('Windows PC');
      expect(await card(page, r.device.id).locator('svg.icon').count()).to.equal(1);
      expect(await card(page, r.device.id).locator('.device-state time').count()).to.equal(1);
      expect(
        await card(page, r.device.id)
          .getByRole('link', { name: /^Show link/ })
          .count(),
      ).to.equal(0);
      await expectGoodPage(page, 'owner-devices');

      // Signed in already: the sign-in page goes on to the list.
      await page.goto(`/setup/${ORG}/sign-in`);
      expect(pathOf(page)).to.equal(`/setup/${ORG}/devices`);

      await page.getByRole('link', { name: 'Add a device' }).click();
      await page.waitForURL(`**/setup/${ORG}/devices/new`);
      expect(await page.locator('h1').textContent()).to.equal('Add a device');
      // Android is not offered: SMS installation codes are off system-wide.
      expect(await page.locator('input[name=platform]').evaluateAll((inputs) => inputs.map((i) => i.id))).to.deep.equal(
        ['platform-ios', 'platform-macos', 'platform-windows'],
      );
      await expectGoodPage(page, 'owner-add-device');
      await press(page, 'Continue');
      expect(await errorOf(page, '#field-platform')).to.include('Choose a device type');

      await chooseDevice(page, 'macos');
      const [, macId] = /\/devices\/([0-9a-f-]{36})$/.exec(pathOf(page)) ?? [];
      expect(macId, pathOf(page)).to.be.a('string');
      expect(await page.locator('h1').textContent()).to.equal('Set up your Mac');
      const link = await expectLinkPage(page, 'macos');
      await expectGoodPage(page, 'owner-device-link');

      await page.getByRole('link', { name: 'Back to My devices' }).click();
      await page.waitForURL(`**/setup/${ORG}/devices`);
      expect(await stateOf(page, macId as string)).to.equal('Link issued');
      const name = (await card(page, macId as string)
        .locator('h2')
        .textContent()) as string;
      await card(page, macId as string)
        .getByRole('link', { name: `Show link ${name}` })
        .click();
      await page.waitForURL(`**/devices/${macId}`);
      expect(await expectLinkPage(page, 'macos'), 'the same link again').to.equal(link);
      await page.goBack();
      await expectGoodPage(page, 'owner-devices-two');

      await card(page, macId as string)
        .getByRole('link', { name: `Remove ${name}` })
        .click();
      await page.waitForURL(`**/devices/${macId}/remove`);
      expect(await page.locator('h1').textContent()).to.equal(`Remove ${name}?`);
      expect(await page.locator('main').textContent()).to.include('Its setup link stops working');
      await expectGoodPage(page, 'owner-remove');
      await page.getByRole('link', { name: 'Cancel' }).click();
      await page.waitForURL(`**/setup/${ORG}/devices`);
      expect(await stateOf(page, macId as string)).to.equal('Link issued');

      await card(page, macId as string)
        .getByRole('link', { name: `Remove ${name}` })
        .click();
      await press(page, 'Remove the device');
      expect(pathOf(page)).to.equal(`/setup/${ORG}/devices`);
      expect(await page.locator('.notice').textContent()).to.equal(`${name} has been removed.`);
      expect(await stateOf(page, macId as string)).to.equal('Removed');
      expect(
        await card(page, macId as string)
          .locator('a, button')
          .count(),
        'nothing left to do',
      ).to.equal(0);
      expect(await stateOf(page, r.device.id)).to.equal('Enrolled');
      await expectGoodPage(page, 'owner-devices-removed');

      const refused = await api.call('GET', `/provision/${link.split('/').pop()}`);
      expect(refused.status, refused.text).to.equal(410);

      const gone = await page.goto(`/setup/${ORG}/devices/${macId}`);
      expect(gone?.status()).to.equal(404);
      expect(await page.locator('h1').textContent()).to.equal('Device not found');
      await expectGoodPage(page, 'owner-device-not-found');
      expect((await page.goto(`/setup/${ORG}/devices/not-a-device/remove`))?.status()).to.equal(404);

      await page.goto(`/setup/${ORG}/devices`);
      await press(page, 'Sign out');
      expect(pathOf(page)).to.equal(`/setup/${ORG}/sign-in`);
      expect(await page.locator('.notice').textContent()).to.equal('You have signed out.');
      expect((await page.context().cookies()).map((c) => c.name)).to.not.include(`owner-${ORG}`);
      await expectGoodPage(page, 'owner-signed-out');
      await page.goto(`/setup/${ORG}/devices`);
      expect(pathOf(page)).to.equal(`/setup/${ORG}/sign-in`);
    });
  });

  it('an enrolled iPhone shows whether its settings are on it; removing it here unenrols it', async () => {
    const deviceFacing = await system().startDeviceFacingApi();
    const r = await withDevice(deviceFacing, ORG, 'ios');
    const iphone = new SimulatedAppleDevice();
    try {
      await iphone.enrol(r.device.provisioningUrl);
      await registrationHandle(r).result();
      await visiting(browser, async (page) => {
        await signIn(page, ORG, r.email, PASSWORD);
        expect(await stateOf(page, r.device.id)).to.equal('Enrolled');
        expect(await card(page, r.device.id).locator('.device-settings').textContent()).to.equal(
          'Settings are waiting for the device',
        );
        expect(await iphone.processCommands()).to.have.length(1);
        await eventually(
          async () => {
            await page.reload();
            return card(page, r.device.id).locator('.device-settings').textContent();
          },
          (text) => text === 'Settings applied',
        );
        await expectGoodPage(page, 'owner-devices-iphone');

        await card(page, r.device.id)
          .getByRole('link', { name: /^Remove/ })
          .click();
        expect(await page.locator('main').textContent()).to.include('its management profile');
        await press(page, 'Remove the device');
        expect(await stateOf(page, r.device.id)).to.equal('Removed');
        const [remove] = await iphone.processCommands();
        expect(remove?.Command.RequestType).to.equal('RemoveProfile');
        expect(iphone.enrolled).to.equal(false);
      });
    } finally {
      iphone.cleanup();
    }
  });

  it('resets a forgotten password with the code from the e-mail: the old session ends, the new password works', async () => {
    const r = await enrolledOwner();
    const signedIn = await newVisitor(browser);
    try {
      const old = await signedIn.newPage();
      await signIn(old, ORG, r.email, PASSWORD);
      expect(pathOf(old)).to.equal(`/setup/${ORG}/devices`);

      await visiting(browser, async (page) => {
        await page.goto(`/setup/${ORG}/sign-in`);
        await page.getByRole('link', { name: 'Forgotten your password?' }).click();
        await page.waitForURL(`**/setup/${ORG}/forgot-password`);
        await expectGoodPage(page, 'owner-forgot-password');
        await page.getByLabel('E-mail address').fill(r.email);
        await press(page, 'Send a code');
        expect(pathOf(page)).to.equal(`/setup/${ORG}/reset-password`);
        expect(await page.locator('.notice').textContent()).to.include('If there is an account for this address');
        expect(await page.getByLabel('E-mail address').inputValue()).to.equal(r.email);
        await expectGoodPage(page, 'owner-reset-password');

        const code = resetCodeIn(await mailAbout(r.email, 'Your password reset code'));
        expect(code).to.match(/^\d{6}$/);
        await page.getByLabel('Reset code').fill(code === '000000' ? '111111' : '000000');
        await page.getByLabel('New password').fill('a new long passphrase');
        const wrong = await press(page, 'Change password');
        expect(wrong?.status()).to.equal(400);
        expect(await errorOf(page, '#field-code')).to.include('not right');
        await expectGoodPage(page, 'owner-reset-wrong-code');

        await page.getByLabel('Reset code').fill(code);
        await page.getByLabel('New password').fill('short');
        await press(page, 'Change password');
        expect(await errorOf(page, '#field-password')).to.include('At least 12 characters.');

        await page.getByLabel('New password').fill('a new long passphrase');
        await press(page, 'Change password');
        expect(pathOf(page)).to.equal(`/setup/${ORG}/sign-in`);
        expect(await page.locator('.notice').textContent()).to.include('Your password has been changed.');
        await expectGoodPage(page, 'owner-password-changed');

        expect((await signIn(page, ORG, r.email, PASSWORD))?.status(), 'the old password').to.equal(401);
        await signIn(page, ORG, r.email, 'a new long passphrase');
        expect(pathOf(page)).to.equal(`/setup/${ORG}/devices`);
      });

      // The browser signed in before the change: its session has ended.
      await old.goto(`/setup/${ORG}/devices`);
      expect(pathOf(old)).to.equal(`/setup/${ORG}/sign-in`);
      expect(await old.locator('.notice').textContent()).to.include('Your session has ended.');
      await expectGoodPage(old, 'owner-session-ended');
    } finally {
      await signedIn.close();
    }
  });

  it('an address with no account is told the same, and gets no mail', async () => {
    const email = `nobody.${Date.now()}@example.com`;
    await visiting(browser, async (page) => {
      await page.goto(`/setup/${ORG}/forgot-password`);
      await page.getByLabel('E-mail address').fill(email);
      await press(page, 'Send a code');
      expect(pathOf(page)).to.equal(`/setup/${ORG}/reset-password`);
      expect(await page.locator('.notice').textContent()).to.include('If there is an account for this address');
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(system().mail.to(email)).to.deep.equal([]);
  });

  it('too many failed sign-ins: says how long to wait', async () => {
    const email = `guess.${Date.now()}@example.com`;
    await visiting(browser, async (page) => {
      for (let i = 0; i < TEST_LIMITS.signInPerAccountAndAddress.points; i++) {
        expect((await signIn(page, ORG, email, `guess ${i}`))?.status()).to.equal(401);
      }
      const limited = await signIn(page, ORG, email, 'one more guess');
      expect(limited?.status()).to.equal(429);
      expect(Number(await limited?.headerValue('retry-after'))).to.be.within(1, 60);
      expect(await page.locator('.error-summary').textContent()).to.match(/You can try again in \d+ seconds?\./);
      await expectGoodPage(page, 'owner-sign-in-too-many');
    });
  });

  it('adds an Android device: asks for the number once, sends the link by SMS; a new link once one expired', async () => {
    const quick = await system().startApi({ timings: { linkTtlMs: 4_000 } });
    const r = await enrolledOwner();
    await system().setSystem({ platforms: { android: { useSmsInstallationCode: true } } });
    try {
      await visiting(
        browser,
        async (page) => {
          await signIn(page, ORG, r.email, PASSWORD);
          await page.getByRole('link', { name: 'Add a device' }).click();
          await chooseDevice(page, 'android');
          expect(await errorOf(page, '#field-phone')).to.include('give a mobile phone number');
          await expectGoodPage(page, 'owner-add-phone-required');
          const codesBefore = codeSmsTo('+447700900130').length;
          await chooseDevice(page, 'android', '+447700900130');
          const [, id] = /\/devices\/([0-9a-f-]{36})$/.exec(pathOf(page)) ?? [];
          // Not proven for this account yet: the SMS brought a code, typed on the device's page; then the link goes.
          await expectGoodPage(page, 'owner-device-phone-code');
          await confirmPhone(page, '+447700900130', codesBefore + 1);
          const link = await expectLinkPage(page, 'android');
          await expectGoodPage(page, 'owner-device-link-android');
          const withLink = () =>
            system()
              .twilio.to('+447700900130')
              .find((sms) => sms.body.includes(link));
          const deadline = Date.now() + 10_000;
          while (!withLink() && Date.now() < deadline) await page.waitForTimeout(50);
          expect(withLink(), 'an SMS with the link').to.not.equal(undefined);
          const expiresAt = Date.parse((await page.locator('.expiry time').getAttribute('datetime')) as string);

          // The number is the account's now: not asked for again.
          await page.goto(`/setup/${ORG}/devices/new`);
          expect(await page.getByLabel('Mobile phone number for the SMS').count()).to.equal(0);

          await page.waitForTimeout(Math.max(expiresAt - Date.now(), 0) + 500);
          await page.goto(`/setup/${ORG}/devices`);
          expect(await stateOf(page, id as string)).to.equal('Link expired');
          await expectGoodPage(page, 'owner-devices-link-expired');
          const expiredPage = await page.goto(`/setup/${ORG}/devices/${id}`);
          expect(expiredPage?.status()).to.equal(200);
          expect(await page.locator('h1').textContent()).to.match(/has expired$/);
          await page.goto(`/setup/${ORG}/devices`);
          // A second tab still shows the button after the first has used it.
          const stale = await page.context().newPage();
          await stale.goto(`/setup/${ORG}/devices`);
          await card(page, id as string)
            .getByRole('button', { name: /^Get a new link/ })
            .click();
          await page.waitForURL(`**/devices/${id}`);
          const fresh = await expectLinkPage(page, 'android');
          expect(fresh).to.not.equal(link);

          const [refused] = await Promise.all([
            stale.waitForNavigation(),
            card(stale, id as string)
              .getByRole('button', { name: /^Get a new link/ })
              .click(),
          ]);
          expect(refused?.status()).to.equal(409);
          expect(await stale.locator('.error-summary').textContent()).to.include('link is still valid');
          expect(await stateOf(stale, id as string)).to.equal('Link issued');
          await expectGoodPage(stale, 'owner-new-link-wrong-step');
        },
        { baseURL: quick.url },
      );
    } finally {
      await system().setSystem({ platforms: {} });
    }
  });

  it('adding is off while the organisation is closed, and at the device limit; the list stays', async () => {
    const slug = 'owner-web-limits';
    const { organisation } = await system().createOrganisation(slug, { platforms: ['ios', 'windows'] });
    const r = await enrolledOwner(slug);
    await visiting(browser, async (page) => {
      await signIn(page, slug, r.email, PASSWORD);
      await page.getByRole('link', { name: 'Add a device' }).click();
      await page.waitForURL(`**/setup/${slug}/devices/new`);
      // The limit is reached while the owner is choosing.
      await organisation.update({ maxDevicesPerOwner: 1 });
      await page.locator('#platform-windows').check();
      const refused = await press(page, 'Continue');
      expect(refused?.status()).to.equal(409);
      expect(await page.locator('.error-summary').textContent()).to.include('Remove one to add another.');
      await expectGoodPage(page, 'owner-add-limit-reached');

      await page.goto(`/setup/${slug}/devices`);
      expect(await page.getByRole('link', { name: 'Add a device' }).count()).to.equal(0);
      expect(await page.locator('.add-off').textContent()).to.include('the most Org owner-web-limits allows');
      await expectGoodPage(page, 'owner-devices-at-limit');

      await organisation.update({ maxDevicesPerOwner: 5, enabled: false });
      await page.goto(`/setup/${slug}/devices`);
      expect(await stateOf(page, r.device.id)).to.equal('Enrolled');
      expect(await page.locator('.add-off').textContent()).to.include('Adding devices is switched off');
      await page.goto(`/setup/${slug}/devices/new`);
      expect(await page.locator('h1').textContent()).to.equal('You cannot add a device now');
      await expectGoodPage(page, 'owner-adding-off');
    });
  });

  it('/setup without a default organisation: "Sign in" goes to the organisation’s sign-in page', async () => {
    await visiting(browser, async (page) => {
      await page.goto('/setup');
      await page.getByLabel('Organisation').fill(ORG);
      await press(page, 'Sign in');
      expect(pathOf(page)).to.equal(`/setup/${ORG}/sign-in`);
      await page.goto('/setup/owner-web-nobody/sign-in');
      expect(await page.locator('h1').textContent()).to.equal('Organisation not found');
    });
  });

  it('works with JavaScript off: sign in, add a device, sign out', async () => {
    const r = await enrolledOwner();
    await visiting(
      browser,
      async (page) => {
        await signIn(page, ORG, r.email, PASSWORD);
        await page.goto(`/setup/${ORG}/devices/new`);
        await chooseDevice(page, 'windows');
        await expectLinkPage(page, 'windows');
        expect(await page.locator('.expiry time').textContent(), 'no script ran').to.match(/ UTC$/);
        await page.goto(`/setup/${ORG}/devices`);
        await press(page, 'Sign out');
        expect(pathOf(page)).to.equal(`/setup/${ORG}/sign-in`);
      },
      { javaScriptEnabled: false },
    );
  });

  it('refuses the forms posted without their CSRF token', async () => {
    const { api } = system();
    for (const [form, body] of [
      ['sign-in', 'email=a%40example.com&password=whatever'],
      ['sign-out', ''],
      ['forgot-password', 'email=a%40example.com'],
    ]) {
      const answer = await fetch(`${api.url}/setup/${ORG}/${form}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        redirect: 'manual',
      });
      expect(answer.status, form).to.equal(403);
      expect(await answer.text()).to.include('This form has expired');
    }
  });
});
