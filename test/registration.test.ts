import { expect } from 'chai';
import {
  atDevice,
  checkInDevice,
  eventually,
  expectError,
  expectProblemPage,
  path,
  register,
  registrationHandle,
  uniqueEmail,
  verified,
  withDevice,
} from './support/flow';
import { reportEnrolment } from './support/mdm-events';
import { codeSmsTo, provePhone } from './support/phone';
import { verifiedProfile } from './support/signed-profile';
import { codeIn, linkIn } from './support/smtp';
import { mdmWebhookSecretOf, system } from './support/system';
import { runsOf } from './support/visibility';

describe('a registration, end to end through HTTP', () => {
  before(async () => {
    await system().createOrganisation('acme', { emailRequirement: '@example\\.com$' });
  });

  it('goes register → verify → profile → device → provisioning link → check-in → done', async () => {
    const { api, mail, db } = system();
    const email = uniqueEmail('full.flow');

    const created = await api.call('POST', '/api/setup/registrations', {
      body: { organisation: 'acme', email: `  ${email.replace('full', 'FULL')} ` },
    });
    expect(created.status, created.text).to.equal(201);
    expect(created.body).to.include({ step: 'verify-email', organisation: 'acme' });
    const r = {
      id: created.body.registrationId as string,
      token: created.body.token as string,
      email,
      organisation: 'acme',
    };

    const verification = await mail.nth(email, 1);
    const code = codeIn(verification);
    expect(code).to.match(/^\d{6}$/);
    // The one-click link carries its own proof of the mailbox, not the code.
    expect(linkIn(verification)).to.match(
      new RegExp(`^http://app\\.test/setup/verify\\?registration=${encodeURIComponent(r.id)}&proof=[A-Za-z0-9_-]{43}$`),
    );

    const status = await api.call('GET', path(r), { token: r.token });
    expect(status.status).to.equal(200);
    expect(status.body).to.deep.include({ step: 'verify-email', organisation: 'acme', email: email.toLowerCase() });
    expect(status.body.platforms).to.have.members(['ios', 'macos', 'windows']); // android: SMS codes are off system-wide

    expect((await api.call('POST', path(r, 'verify'), { token: r.token, body: { code } })).body).to.deep.equal({
      step: 'profile',
    });

    const profile = await api.call('POST', path(r, 'profile'), {
      token: r.token,
      body: {
        firstName: 'Grace',
        lastName: 'Hopper',
        phone: '+491701234567',
        password: 'correct horse battery staple',
      },
    });
    expect(profile.body).to.deep.equal({ step: 'device' });

    const user = await db.models.User.findOne({ where: { email } });
    expect(user, 'account row').to.not.equal(null);
    const template = await db.models.AccountTemplate.findByPk(user?.accountTemplateId);
    expect(user).to.deep.include({ firstName: 'Grace', lastName: 'Hopper', phone: '+491701234567', locale: 'de-DE' });
    expect(user?.groups).to.deep.equal(template?.groups);
    expect(user?.attributes).to.deep.equal({ costCentre: '4711' });
    expect(user?.validUntil?.getTime()).to.be.closeTo(Date.now() + 30 * 86_400_000, 60_000);
    expect(user?.passwordHash)
      .to.match(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
      .and.not.include('correct horse');

    const chosen = await api.call('POST', path(r, 'devices'), { token: r.token, body: { platform: 'windows' } });
    expect(chosen.status, chosen.text).to.equal(201);
    const { device } = chosen.body;
    expect(device).to.include({ platform: 'windows' });
    expect(device.provisioningUrl).to.match(/^http:\/\/app\.test\/provision\/[A-Za-z0-9_-]{43}$/);
    expect(device.instructions).to.be.an('array').with.length.greaterThan(1);
    expect(Date.parse(device.expiresAt)).to.be.closeTo(Date.now() + 60_000, 5_000);

    const row = await db.models.Device.findByPk(device.id);
    expect(row).to.deep.include({
      state: 'link-issued',
      platform: 'windows',
      name: 'acme windows',
      description: 'windows devices of acme',
    });
    expect(row?.management).to.deep.equal({ wifi: { ssid: 'acme-corp' } });
    expect(row?.linkTokenHash).to.not.include(device.provisioningUrl.split('/').pop());

    const token = device.provisioningUrl.split('/').pop() as string;
    // The link opens a page whose button starts Windows' own enrolment with the organisation's MDM.
    const page = await api.call('GET', `/provision/${token}`);
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    const start = /<a [^>]*href="(ms-device-enrollment:[^"]+)"[^>]*>Enrol this PC<\/a>/.exec(page.text)?.[1];
    const query = new URLSearchParams((start ?? '').replaceAll('&amp;', '&').split('?')[1]);
    expect(Object.fromEntries(query)).to.deep.equal({
      mode: 'mdm',
      username: email,
      servername: 'https://enterpriseenrollment.acme.example/EnrollmentServer/Discovery.svc',
      accesstoken: token,
    });

    expect((await api.call('GET', path(r), { token: r.token })).body.step).to.equal('provision');

    // The organisation's MDM enrols the PC and reports it through the signed webhook.
    const checkIn = await reportEnrolment(api, {
      organisation: 'acme',
      secret: mdmWebhookSecretOf('acme'),
      enrolmentToken: token,
      device: { serialNumber: 'PF-ACME-0001', model: 'Surface Laptop 5' },
    });
    expect(checkIn.status, checkIn.text).to.equal(200);
    expect(checkIn.body).to.deep.equal({ deviceId: device.id, state: 'enrolled' });

    expect(await registrationHandle(r).result()).to.deep.equal({ step: 'done' });
    // Done, the registration token is spent: the owner signs in from now on.
    expectError(await api.call('GET', path(r), { token: r.token }), 410, 'registration_complete');
    expect((await db.models.Device.findByPk(device.id))?.deviceInfo).to.deep.equal({
      serialNumber: 'PF-ACME-0001',
      model: 'Surface Laptop 5',
      reportedBy: 'mdm',
    });

    const enrolled = await mail.nth(email, 2);
    expect(enrolled.subject).to.equal('Your device is enrolled: acme windows');

    expectProblemPage(
      await api.call('GET', `/provision/${token}`),
      410,
      'This provisioning link has already been used.',
    );
    expectError(await checkInDevice(api, token), 410, 'link_used');
    expect(mail.to(email)).to.have.length(2);
  });

  it('serves a Mac an Apple configuration profile: a SCEP identity, and MDM check-ins through this service', async () => {
    const { api } = system();
    const { linkToken: token, device } = await withDevice(api, 'acme', 'macos');
    const payload = await fetch(`${api.url}/provision/${token}`);
    expect(payload.status).to.equal(200);
    expect(payload.headers.get('content-type')).to.match(/^application\/x-apple-aspen-config/);
    const enrolment = encodeURIComponent(system().secrets.enrolmentId(device.id, 1));
    const signed = Buffer.from(await payload.arrayBuffer());
    const profile = verifiedProfile(signed, system().apple.profileSigner.certificate.toString());
    expect(profile)
      .to.include('<string>com.apple.security.scep</string>')
      .and.include('<string>com.apple.mdm</string>')
      .and.include(`http://app.test/mdm/checkin?enrolment=${enrolment}`);
    // The link's token opens the profile only; the device never sends it back.
    expect(profile).not.to.include(token);
  });

  it('sends Android enrolment by SMS through Twilio, and asks for a phone number first', async () => {
    const { api, twilio } = system();
    await system().createOrganisation('droid', { platforms: ['android'] });
    await system().setSystem({ platforms: { android: { useSmsInstallationCode: true } } });
    try {
      const r = await atDevice(api, 'droid');
      expectError(
        await api.call('POST', path(r, 'devices'), { token: r.token, body: { platform: 'android' } }),
        400,
        'phone_required',
      );
      expectError(
        await api.call('POST', path(r, 'devices'), { token: r.token, body: { platform: 'ios' } }),
        409,
        'platform_not_available',
      );
      const codesBefore = codeSmsTo('+447700900123').length;
      const chosen = await api.call('POST', path(r, 'devices'), {
        token: r.token,
        body: { platform: 'android', phone: '+447700900123' },
      });
      expect(chosen.status, chosen.text).to.equal(201);
      // A number the new account has not proven gets a code first; the link follows once it is typed.
      expect(chosen.body.device.sms).to.equal('code-sent');
      await provePhone(api, path(r, 'phone'), r.token, '+447700900123', codesBefore + 1);
      // Other tests text this number too: the SMS of this device is the one with its link.
      const link = chosen.body.device.provisioningUrl as string;
      const sms = await eventually(
        async () => twilio.to('+447700900123').find((m) => m.body.includes(link)),
        (found) => found !== undefined,
      );
      expect(sms, 'an SMS with the link').to.not.equal(undefined);
      expect(sms?.from).to.equal('+15005550006');
      // The link opens the page with the provisioning QR code a company-owned device's set-up wizard scans.
      const page = await api.call('GET', new URL(chosen.body.device.provisioningUrl).pathname);
      expect(page.status, page.text).to.equal(200);
      expect(page.headers.get('content-type')).to.match(/^text\/html/);
      expect(page.text).to.include('aria-label="Android provisioning QR code"');
    } finally {
      await system().setSystem({ platforms: {} });
    }
  });

  it('resumes the open registration when the same address registers again, and makes the new browser verify', async () => {
    const { api, mail } = system();
    const first = await verified(api, 'acme');
    const again = await register(api, 'acme', first.email.toUpperCase());
    expect(again.id).to.equal(first.id);
    expect(again.token).to.not.equal(first.token);

    // The new browser has not proven the address: it sees verify-email and gets a fresh code.
    expect((await api.call('GET', path(again), { token: again.token })).body.step).to.equal('verify-email');
    expectError(
      await api.call('POST', path(again, 'profile'), {
        token: again.token,
        body: { firstName: 'X', lastName: 'Y', password: 'a long passphrase' },
      }),
      409,
      'wrong_step',
    );
    const code = codeIn(await mail.nth(first.email, 2));
    expect((await api.call('POST', path(again, 'verify'), { token: again.token, body: { code } })).body).to.deep.equal({
      step: 'profile',
    });
    expect((await api.call('GET', path(first), { token: first.token })).body.step).to.equal('profile');

    expect(await runsOf(system().temporal.client, `registration/acme/${first.email}`)).to.have.length(1);
  });
});
