import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { createOutboxMailer } from '../activities/mail';
import { createOutboxSms } from '../activities/sms';
import type { Platform } from '../domain/platform';
import { instructionsFor } from '../platforms';
import { qrCode } from '../web/qr';
import { SimulatedAppleDevice } from './support/apple-device';
import { errorOf, expectGoodPage, launchBrowser, newVisitor, onTestApi, visiting } from './support/browser';
import { checkInDevice, uniqueEmail } from './support/flow';
import { codeSmsTo, phoneCodeFor } from './support/phone';
import { codeIn, linkIn } from './support/smtp';
import { SITE_HELP, system, TEST_TIMINGS } from './support/system';
import {
  chooseDevice,
  confirmPhone,
  enterCode,
  fillProfile,
  giveEmail,
  pathOf,
  press,
  toProvisioning,
  verifyWithMail,
} from './support/web-flow';

const ORG = 'web-co';

/**
 * The provisioning page shows the platform's steps, the link as a button, a QR code (of the link; for a company-owned
 * Android device, of its provisioning JSON: test/android-windows.test.ts reads it back), and its expiry.
 */
async function expectProvisioning(page: Page, platform: Platform): Promise<string> {
  expect(await page.locator('.steps li').allTextContents()).to.deep.equal(instructionsFor(platform));
  const link = (await page.getByRole('link', { name: 'Open the provisioning link' }).getAttribute('href')) as string;
  expect(link).to.match(/^http:\/\/app\.test\/provision\/[A-Za-z0-9_-]{43}$/);
  const shown = await page.locator('.qr-code svg path[stroke]').getAttribute('d');
  expect(shown).to.be.a('string');
  if (platform !== 'android') {
    expect(shown).to.equal(/ d="([^"]+)"/.exec((await qrCode(link)).value.split('<path stroke')[1] ?? '')?.[1]);
  }
  const expires = Date.parse((await page.locator('.expiry time').getAttribute('datetime')) as string);
  expect(expires).to.be.closeTo(Date.now() + TEST_TIMINGS.linkTtlMs, 10_000);
  const smsNote = page.getByText('We have also sent this link by SMS');
  expect(await smsNote.count()).to.equal(platform === 'android' ? 1 : 0);
  return link;
}

describe('the web pages, in Chromium', function () {
  this.timeout(60_000);
  let browser: Browser;

  before(async () => {
    browser = await launchBrowser();
    await system().createOrganisation(ORG, { emailRequirement: '@example\\.com$' });
  });
  after(async () => {
    await browser?.close();
  });

  it('takes a Windows PC owner from /setup to an enrolled device, every page accessible and photographed', async () => {
    const { api } = system();
    await system().setSystem({ defaultOrganisation: ORG });
    try {
      await visiting(browser, async (page) => {
        const email = uniqueEmail('web.windows');
        await page.goto('/setup');
        expect(pathOf(page)).to.equal(`/setup/${ORG}`);
        expect(await page.locator('h1').textContent()).to.equal(`Register with Org ${ORG}`);
        expect(await page.locator('footer').textContent()).to.include(SITE_HELP);
        await expectGoodPage(page, 'email');

        await press(page, 'Continue');
        expect(await errorOf(page, '#field-email')).to.include('A valid e-mail address');
        expect(await page.title()).to.match(/^Error: /);
        await expectGoodPage(page, 'email-invalid');

        await page.getByLabel('Your e-mail address').fill(email);
        await press(page, 'Continue');
        expect(pathOf(page)).to.equal(`/setup/${ORG}/verify`);
        expect(await page.locator('.address').textContent()).to.equal(email);
        await expectGoodPage(page, 'verify');

        const code = codeIn(await system().mail.nth(email, 1));
        await enterCode(page, code === '000000' ? '111111' : '000000');
        expect(await errorOf(page, '#field-code')).to.include('That code is not right. 4 attempts left.');
        await expectGoodPage(page, 'verify-wrong-code');

        await enterCode(page, code);
        expect(pathOf(page)).to.equal(`/setup/${ORG}/profile`);
        await expectGoodPage(page, 'profile');

        await page.getByLabel('First name').fill('Ada');
        await page.getByLabel('Mobile phone number').fill('0170 123');
        await page.getByLabel('Password').fill('short');
        await press(page, 'Continue');
        expect(await errorOf(page, '#field-lastName')).to.include('Required');
        expect(await errorOf(page, '#field-phone')).to.include('international format');
        expect(await errorOf(page, '#field-password')).to.include('At least 12 characters.');
        expect(await page.getByLabel('First name').inputValue()).to.equal('Ada');
        expect(await page.getByLabel('Password').inputValue(), 'a password is never sent back').to.equal('');
        await expectGoodPage(page, 'profile-invalid');

        await page.getByLabel('Mobile phone number').fill('');
        await fillProfile(page);
        expect(pathOf(page)).to.equal(`/setup/${ORG}/device`);
        // Android is not offered: SMS installation codes are off system-wide.
        expect(
          await page.locator('input[name=platform]').evaluateAll((inputs) => inputs.map((i) => i.id)),
        ).to.deep.equal(['platform-ios', 'platform-macos', 'platform-windows']);
        expect(await page.locator('.choice svg').count()).to.equal(3);
        await expectGoodPage(page, 'device');

        await press(page, 'Continue');
        expect(await errorOf(page, '#field-platform')).to.include('Choose a device type');
        await expectGoodPage(page, 'device-none-chosen');

        await chooseDevice(page, 'windows');
        expect(pathOf(page)).to.equal(`/setup/${ORG}/provision`);
        expect(await page.locator('h1').textContent()).to.equal('Set up your Windows PC');
        await expectGoodPage(page, 'provision-windows');
        const link = await expectProvisioning(page, 'windows');

        const token = link.split('/').pop() as string;
        expect((await api.call('GET', `/provision/${token}`)).status).to.equal(200);
        expect((await checkInDevice(api, token)).status).to.equal(200);
        await system().temporal.client.workflow.getHandle(`registration/${ORG}/${email}`).result();
        await page.getByRole('link', { name: 'Check whether it has' }).click();
        await page.waitForURL(`**/setup/${ORG}/done`);
        await expectGoodPage(page, 'done');
      });
    } finally {
      await system().setSystem({ defaultOrganisation: null });
    }
  });

  it('sets up an iPhone or iPad: the page’s link enrols the simulated iPhone, and the page then says done', async () => {
    const deviceFacing = await system().startDeviceFacingApi();
    const iphone = new SimulatedAppleDevice();
    try {
      await visiting(browser, async (page) => {
        const email = uniqueEmail('web.ios');
        await toProvisioning(page, ORG, email, 'ios');
        expect(await page.locator('h1').textContent()).to.equal('Set up your iPhone or iPad');
        const link = await expectProvisioning(page, 'ios');
        // The phone opens the same link on the address it can reach.
        await iphone.enrol(link.replace('http://app.test', deviceFacing.url));
        await system().temporal.client.workflow.getHandle(`registration/${ORG}/${email}`).result();
        await page.getByRole('link', { name: 'Check whether it has' }).click();
        await page.waitForURL(`**/setup/${ORG}/done`);
      });
    } finally {
      iphone.cleanup();
    }
  });

  it('sets up a Mac', async () => {
    await visiting(browser, async (page) => {
      await toProvisioning(page, ORG, uniqueEmail('web.macos'), 'macos');
      await expectProvisioning(page, 'macos');
    });
  });

  it('sets up an Android device: asks for the phone number, then sends the link by SMS', async () => {
    await system().setSystem({ platforms: { android: { useSmsInstallationCode: true } } });
    try {
      await visiting(browser, async (page) => {
        await giveEmail(page, ORG, uniqueEmail('web.android'));
        await verifyWithMail(page, (await page.locator('.address').textContent()) as string);
        await fillProfile(page);
        expect(await page.locator('.choice').count()).to.equal(4);
        await expectGoodPage(page, 'device-with-android');

        await chooseDevice(page, 'android');
        expect(await errorOf(page, '#field-phone')).to.include('give a mobile phone number');
        expect(await page.locator('#platform-android').isChecked(), 'the choice is kept').to.equal(true);
        await expectGoodPage(page, 'device-phone-required');

        const codesBefore = codeSmsTo('+447700900124').length;
        await chooseDevice(page, 'android', '+447700900124');
        expect(pathOf(page)).to.equal(`/setup/${ORG}/provision`);
        // The number is not proven yet: the SMS brought a code, typed here; a wrong one is refused on the form.
        expect(await page.getByText('We have also sent this link by SMS').count()).to.equal(0);
        await expectGoodPage(page, 'provision-android-phone-code');
        const code = await phoneCodeFor('+447700900124', codesBefore + 1);
        await page.getByLabel('Code from the SMS').fill(code === '000000' ? '111111' : '000000');
        await press(page, 'Confirm my number');
        expect(await errorOf(page, '#field-code')).to.include('not right');
        await expectGoodPage(page, 'provision-android-wrong-code');
        await confirmPhone(page, '+447700900124', codesBefore + 1, `/setup/${ORG}/provision`);
        const link = await expectProvisioning(page, 'android');
        await expectGoodPage(page, 'provision-android');
        const withLink = () =>
          system()
            .twilio.to('+447700900124')
            .find((sms) => sms.body.includes(link));
        const deadline = Date.now() + 10_000;
        while (!withLink() && Date.now() < deadline) await page.waitForTimeout(50);
        expect(withLink(), 'an SMS with the link').to.not.equal(undefined);
      });
    } finally {
      await system().setSystem({ platforms: {} });
    }
  });
  describe('the link from the e-mail', () => {
    it('confirms the address in another browser only when the owner presses the button, then goes on', async () => {
      const email = uniqueEmail('web.link');
      const first = await newVisitor(browser);
      const other = await newVisitor(browser);
      try {
        await giveEmail(await first.newPage(), ORG, email);
        const link = onTestApi(linkIn(await system().mail.nth(email, 1)));
        // A mail scanner fetching the link first must not use it up.
        expect((await fetch(link)).status).to.equal(200);

        const page = await other.newPage();
        await page.goto(link);
        expect(pathOf(page)).to.equal('/setup/verify');
        await expectGoodPage(page, 'link-confirm');
        expect((await other.cookies()).map((c) => c.name)).to.not.include(`registration-${ORG}`);

        await press(page, 'Confirm my address');
        expect(pathOf(page)).to.equal(`/setup/${ORG}/profile`);
        const cookie = (await other.cookies()).find((c) => c.name === `registration-${ORG}`);
        expect(cookie).to.include({ httpOnly: true, sameSite: 'Lax', path: '/setup' });
        expect(system().mail.to(email), 'the code in the link was still good: no new one').to.have.length(1);
      } finally {
        await Promise.all([first.close(), other.close()]);
      }
    });

    it('lands on the next step in the browser that registered, with no new code', async () => {
      const email = uniqueEmail('web.link.same');
      await visiting(browser, async (page) => {
        await giveEmail(page, ORG, email);
        await page.goto(onTestApi(linkIn(await system().mail.nth(email, 1))));
        await press(page, 'Confirm my address');
        expect(pathOf(page)).to.equal(`/setup/${ORG}/profile`);
        expect(system().mail.to(email)).to.have.length(1);
      });
    });

    it('explains a broken link, and one that was not made here', async () => {
      await visiting(browser, async (page) => {
        const broken = await page.goto('/setup/verify?registration=abc&code=12');
        expect(broken?.status()).to.equal(400);
        expect(await page.locator('h1').textContent()).to.equal('This link is not valid');
        await expectGoodPage(page, 'link-invalid');

        await page.goto(`/setup/verify?registration=${'A'.repeat(48)}&code=123456`);
        const forged = await press(page, 'Confirm my address');
        expect(forged?.status()).to.equal(404);
        expect(await page.locator('h1').textContent()).to.equal('This link is not valid');
      });
    });
  });

  it('continues where the registration stood when the browser is opened again, each organisation on its own', async () => {
    await system().createOrganisation('web-two', { platforms: ['windows'] });
    const email = uniqueEmail('web.resume');
    let context = await newVisitor(browser);
    const reopen = async () => {
      const storageState = await context.storageState();
      await context.close();
      context = await newVisitor(browser, { storageState });
      return context.newPage();
    };
    try {
      let page = await context.newPage();
      await giveEmail(page, ORG, email);
      await verifyWithMail(page, email);
      await giveEmail(page, 'web-two', email);

      page = await reopen();
      await page.goto(`/setup/${ORG}`);
      expect(pathOf(page)).to.equal(`/setup/${ORG}/profile`);
      await page.goto('/setup/web-two');
      expect(pathOf(page)).to.equal('/setup/web-two/verify');

      await page.goto(`/setup/${ORG}`);
      await fillProfile(page);
      await chooseDevice(page, 'windows');
      const link = await page.getByRole('link', { name: 'Open the provisioning link' }).getAttribute('href');

      page = await reopen();
      await page.goto(`/setup/${ORG}`);
      expect(pathOf(page)).to.equal(`/setup/${ORG}/provision`);
      expect(await page.getByRole('link', { name: 'Open the provisioning link' }).getAttribute('href')).to.equal(link);
      // A step's page the registration is past sends the owner to where it stands.
      await page.goto(`/setup/${ORG}/profile`);
      expect(pathOf(page)).to.equal(`/setup/${ORG}/provision`);
    } finally {
      await context.close();
    }
  });

  describe('pages that say why the flow cannot go on', () => {
    /** Opens a page in a fresh browser and checks its status and heading. */
    function visit(route: string, status: number, heading: string, screenshot: string) {
      return visiting(browser, async (page) => {
        const response = await page.goto(route);
        expect(response?.status()).to.equal(status);
        expect(await page.locator('h1').textContent()).to.equal(heading);
        await expectGoodPage(page, screenshot);
        return await page.locator('main').textContent();
      });
    }

    it('device setup switched off system-wide', async () => {
      await system().setSystem({ deviceSetupEnabled: false });
      try {
        expect(await visit(`/setup/${ORG}`, 403, 'Device setup is switched off', 'service-disabled')).to.include(
          'not available at the moment',
        );
      } finally {
        await system().setSystem({ deviceSetupEnabled: true });
      }
    });

    it('no default organisation: /setup asks for it', async () => {
      await visiting(browser, async (page) => {
        await page.goto('/setup');
        expect(await page.locator('h1').textContent()).to.equal('Which organisation are you with?');
        await expectGoodPage(page, 'organisation-choose');
        await page.getByLabel('Organisation').fill('Not A Slug!');
        await press(page, 'Continue');
        expect(await errorOf(page, '#field-organisation')).to.include('lower-case letters');
        await expectGoodPage(page, 'organisation-invalid');
        await page.getByLabel('Organisation').fill(ORG);
        await press(page, 'Continue');
        expect(pathOf(page)).to.equal(`/setup/${ORG}`);
      });
    });

    it('an unknown organisation, and a disabled one', async () => {
      await visit('/setup/web-nobody', 404, 'Organisation not found', 'organisation-unknown');
      const { organisation } = await system().createOrganisation('web-closed');
      await organisation.update({ enabled: false });
      expect(await visit('/setup/web-closed', 403, 'Registrations are closed', 'organisation-disabled')).to.include(
        'Org web-closed does not take self-service registrations.',
      );
    });

    it('an address the organisation does not accept, on the form', async () => {
      await visiting(browser, async (page) => {
        await page.goto(`/setup/${ORG}`);
        await page.getByLabel('Your e-mail address').fill('someone@elsewhere.org');
        const response = await press(page, 'Continue');
        expect(response?.status()).to.equal(403);
        expect(await errorOf(page, '#field-email')).to.include('does not accept registrations from this address');
        expect(await page.getByLabel('Your e-mail address').inputValue()).to.equal('someone@elsewhere.org');
        await expectGoodPage(page, 'email-not-allowed');
      });
    });

    it('a new code asked for too soon says how long to wait; the new code replaces the old one', async () => {
      const email = uniqueEmail('web.resend');
      await visiting(browser, async (page) => {
        await giveEmail(page, ORG, email);
        const refused = await press(page, 'Send a new code');
        expect(refused?.status()).to.equal(429);
        expect(Number(await refused?.headerValue('retry-after'))).to.be.within(1, 2);
        const wait = await errorOf(page, '#field-resend');
        expect(wait).to.match(/Wait before asking for another\. You can try again in \d seconds?\./);
        await expectGoodPage(page, 'resend-wait');

        await page.waitForTimeout(TEST_TIMINGS.resendIntervalMs);
        await press(page, 'Send a new code');
        expect(await page.locator('.notice').textContent()).to.equal(`We sent a new code to ${email}.`);
        await expectGoodPage(page, 'resend-sent');
        const [old, fresh] = [codeIn(await system().mail.nth(email, 1)), codeIn(await system().mail.nth(email, 2))];
        if (old !== fresh) {
          await enterCode(page, old);
          expect(await errorOf(page, '#field-code')).to.include('That code is not right');
        }
        await enterCode(page, fresh);
        expect(pathOf(page)).to.equal(`/setup/${ORG}/profile`);
      });
    });

    it('an expired code, with the way to a new one', async () => {
      const quick = await system().startApi({ timings: { codeTtlMs: 1_000 } });
      const email = uniqueEmail('web.expired');
      await visiting(
        browser,
        async (page) => {
          await giveEmail(page, ORG, email);
          const code = codeIn(await system().mail.nth(email, 1));
          await page.waitForTimeout(1_500);
          await page.getByLabel('Verification code').fill(code);
          const response = await press(page, 'Confirm');
          expect(response?.status()).to.equal(410);
          expect(await errorOf(page, '#field-code')).to.include('The code has expired. Ask for a new code.');
          await expectGoodPage(page, 'code-expired');
          await press(page, 'Send a new code');
          expect(await page.locator('.notice').count()).to.equal(1);
          await system().mail.nth(email, 2);
        },
        { baseURL: quick.url },
      );
    });

    it('a device type withdrawn while the owner was choosing, on the form', async () => {
      const { organisation } = await system().createOrganisation('web-narrow', { platforms: ['ios', 'macos'] });
      await visiting(browser, async (page) => {
        const email = uniqueEmail('web.withdrawn');
        await giveEmail(page, 'web-narrow', email);
        await verifyWithMail(page, email);
        await fillProfile(page);
        await system().db.models.OrganisationDeviceTemplate.destroy({
          where: { organisationId: organisation.id, platform: 'macos' },
        });
        await page.locator('#platform-macos').check();
        const response = await press(page, 'Continue');
        expect(response?.status()).to.equal(409);
        expect(await errorOf(page, '#field-platform')).to.not.equal('');
        expect(await page.locator('input[name=platform]').count(), 'only what is offered now').to.equal(1);
        await expectGoodPage(page, 'platform-unavailable');
      });
    });

    it('a registration abandoned until it expired: the organisation page starts again and says so', async () => {
      const brief = await system().startApi({ timings: { registrationTtlMs: 1_500 } });
      const email = uniqueEmail('web.abandoned');
      await visiting(
        browser,
        async (page) => {
          await giveEmail(page, ORG, email);
          await system().temporal.client.workflow.getHandle(`registration/${ORG}/${email}`).result();
          await page.goto(`/setup/${ORG}/verify`);
          expect(pathOf(page)).to.equal(`/setup/${ORG}`);
          expect(await page.locator('.notice').textContent()).to.include('Your earlier registration has expired.');
          await expectGoodPage(page, 'registration-expired');
          expect((await page.context().cookies()).map((c) => c.name)).to.not.include(`registration-${ORG}`);
        },
        { baseURL: brief.url },
      );
    });

    it('an address with no page', async () => {
      await visit(`/setup/${ORG}/nowhere`, 404, 'Page not found', 'not-found');
    });
  });

  it('works with JavaScript off: e-mail, the link from the e-mail, profile, device, provisioning page', async () => {
    const email = uniqueEmail('web.nojs');
    await visiting(
      browser,
      async (page) => {
        await giveEmail(page, ORG, email);
        await press(page, 'Send a new code');
        expect(await errorOf(page, '#field-resend')).to.include('Wait before asking for another');
        await page.goto(onTestApi(linkIn(await system().mail.nth(email, 1))));
        await press(page, 'Confirm my address');
        await fillProfile(page);
        await chooseDevice(page, 'windows');
        expect(pathOf(page)).to.equal(`/setup/${ORG}/provision`);
        await expectProvisioning(page, 'windows');
        expect(await page.locator('.expiry time').textContent(), 'no script ran').to.match(/ UTC$/);
      },
      { javaScriptEnabled: false },
    );
  });

  it('/dev/outbox lists what would have been sent, newest first, links clickable; only without real delivery', async () => {
    const outbox = await system().startApi({ devOutbox: true });
    const { models } = system().db;
    const link = 'http://localhost:3000/setup/verify?registration=abc&code=123456';
    await createOutboxMailer(models).send({
      key: 'outbox-test',
      to: 'outbox@example.com',
      subject: 'Your verification code: 123456',
      text: `Your verification code is 123456.\n\nOr confirm your address with one click: ${link}\n<b>not bold</b>`,
    });
    await createOutboxSms(models).send('+447700900125', 'Set up your device: http://localhost:3000/provision/xyz');
    await visiting(
      browser,
      async (page) => {
        await page.goto('/dev/outbox');
        const headings = await page.locator('.message h2').allTextContents();
        expect(headings.indexOf('SMS')).to.be.lessThan(headings.indexOf('Your verification code: 123456'));
        expect(await page.getByRole('link', { name: link }).getAttribute('href')).to.equal(link);
        expect(await page.getByText('<b>not bold</b>').count()).to.equal(1);
        await expectGoodPage(page, 'outbox');
      },
      { baseURL: outbox.url },
    );
    expect((await system().api.call('GET', '/dev/outbox')).status).to.equal(404);
  });
  it('refuses a form posted without its CSRF token, or with a wrong one, and does nothing', async () => {
    const { api, mail, temporal } = system();
    const email = uniqueEmail('web.csrf');
    const visit = await fetch(`${api.url}/setup/${ORG}`);
    const cookie = visit.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const token = /name="_csrf" value="([^"]+)"/.exec(await visit.text())?.[1] as string;
    const post = (body: Record<string, string>, cookies = cookie) =>
      fetch(`${api.url}/setup/${ORG}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies },
        body: new URLSearchParams(body),
        redirect: 'manual',
      });

    for (const refused of [
      await post({ email }),
      await post({ email, _csrf: `${token.slice(0, -2)}xx` }),
      await post({ email, _csrf: token }, ''),
    ]) {
      expect(refused.status).to.equal(403);
      expect(await refused.text()).to.include('This form has expired');
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(mail.to(email), 'no code was sent').to.deep.equal([]);
    const started = await temporal.client.workflow
      .getHandle(`registration/${ORG}/${email}`)
      .describe()
      .then(
        () => true,
        () => false,
      );
    expect(started, 'no registration was started').to.equal(false);

    const accepted = await post({ email, _csrf: token });
    expect(accepted.status).to.equal(303);
    expect(accepted.headers.get('location')).to.equal(`/setup/${ORG}/verify`);
  });

  it('escapes what it shows: an organisation named like a script is only text', async () => {
    const { organisation } = await system().createOrganisation('web-xss');
    await organisation.update({ name: '<script>alert("xss")</script>' });
    await visiting(browser, async (page) => {
      const dialogs: string[] = [];
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      await page.goto('/setup/web-xss');
      expect(await page.locator('h1').textContent()).to.equal('Register with <script>alert("xss")</script>');
      expect(await page.locator('main script').count()).to.equal(0);
      expect(dialogs).to.deep.equal([]);
      expect(await (await fetch(`${system().api.url}/setup/web-xss`)).text()).to.include(
        'Register with &lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;',
      );
    });
  });
});
