import { expect } from 'chai';
import { expectError, path, register, uniqueEmail, verified } from './support/flow';
import { codeIn } from './support/smtp';
import { system } from './support/system';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const profile = { firstName: 'Ada', lastName: 'Lovelace', password: 'a long passphrase' };

describe('registration: every refusal in the contract', () => {
  before(async () => {
    await system().createOrganisation('errs', { emailRequirement: '@example\\.com$', platforms: ['ios', 'windows'] });
    const closed = await system().createOrganisation('closed');
    await closed.organisation.update({ enabled: false });
  });

  describe('POST /api/setup/registrations', () => {
    const post = (body: unknown) => system().api.call('POST', '/api/setup/registrations', { body });

    it('refuses everything while device setup is off system-wide, and creates nothing', async () => {
      await system().setSystem({ deviceSetupEnabled: false });
      try {
        const email = uniqueEmail();
        expectError(await post({ organisation: 'errs', email }), 403, 'self_service_disabled');
        await sleep(300);
        expect(system().mail.to(email)).to.be.empty;
      } finally {
        await system().setSystem({ deviceSetupEnabled: true });
      }
    });

    it('needs an organisation when there is no default, and uses the default when there is one', async () => {
      expectError(await post({ email: uniqueEmail() }), 400, 'organisation_required');
      await system().setSystem({ defaultOrganisation: 'errs' });
      try {
        const answer = await post({ email: uniqueEmail() });
        expect(answer.status, answer.text).to.equal(201);
        expect(answer.body.organisation).to.equal('errs');
      } finally {
        await system().setSystem({ defaultOrganisation: null });
      }
    });

    it('tells unknown, disabled and refusing organisations apart', async () => {
      expectError(await post({ organisation: 'nowhere', email: uniqueEmail() }), 404, 'organisation_not_found');
      expectError(await post({ organisation: 'closed', email: uniqueEmail() }), 403, 'organisation_disabled');
      expectError(await post({ organisation: 'errs', email: 'someone@elsewhere.org' }), 403, 'email_not_allowed');
    });

    it('refuses malformed bodies with invalid_request, and oversize ones with 413', async () => {
      expectError(await post({ organisation: 'errs', email: 'not-an-address' }), 400, 'invalid_request');
      expectError(await post({ organisation: 'errs', email: uniqueEmail(), admin: true }), 400, 'invalid_request');
      expectError(await post({ organisation: 'Not A Slug!', email: uniqueEmail() }), 400, 'invalid_request');
      expectError(await post([]), 400, 'invalid_request');
      expectError(
        await system().api.call('POST', '/api/setup/registrations', { raw: '{"email":' }),
        400,
        'invalid_request',
      );
      const huge = await system().api.call('POST', '/api/setup/registrations', {
        body: { organisation: 'errs', email: `${'a'.repeat(100_000)}@example.com` },
      });
      expectError(huge, 413, 'payload_too_large');
    });

    it('limits how many registrations one client address starts per minute', async () => {
      const api = await system().startApi({ registrationsPerMinute: 2 });
      for (let i = 0; i < 2; i++) {
        expect(
          (await api.call('POST', '/api/setup/registrations', { body: { organisation: 'errs', email: uniqueEmail() } }))
            .status,
        ).to.equal(201);
      }
      const third = await api.call('POST', '/api/setup/registrations', {
        body: { organisation: 'errs', email: uniqueEmail() },
      });
      expectError(third, 429, 'too_many_attempts');
      expect(Number(third.headers.get('retry-after'))).to.be.greaterThan(0);
    });
  });

  describe('tokens and ids', () => {
    it('answers 401 without a valid token and 404 for an id it did not make', async () => {
      const { api } = system();
      const r = await register(api, 'errs', uniqueEmail());
      expectError(await api.call('GET', path(r)), 401, 'unauthorized');
      expectError(await api.call('GET', path(r), { token: 'x'.repeat(43) }), 401, 'unauthorized');
      expectError(
        await api.call('POST', path(r, 'verify'), { token: 'x'.repeat(43), body: { code: '123456' } }),
        401,
        'unauthorized',
      );
      const forged = `${r.id.slice(0, -4)}AAAA`;
      expectError(await api.call('GET', `/api/setup/registrations/${forged}`, { token: r.token }), 404, 'not_found');
      expectError(await api.call('GET', '/api/setup/registrations/short', { token: r.token }), 404, 'not_found');
    });
  });

  describe('verification codes', () => {
    it('counts wrong codes, then refuses even the right one until a new code is sent', async () => {
      const { api, mail } = system();
      const r = await register(api, 'errs', uniqueEmail());
      const code = codeIn(await mail.nth(r.email, 1));
      const wrong = code === '000000' ? '111111' : '000000';
      for (let left = 4; left >= 1; left--) {
        const answer = await api.call('POST', path(r, 'verify'), { token: r.token, body: { code: wrong } });
        expectError(answer, 400, 'invalid_code');
        expect(answer.body.error.message).to.include(`${left} attempt`);
      }
      expectError(
        await api.call('POST', path(r, 'verify'), { token: r.token, body: { code: wrong } }),
        429,
        'too_many_attempts',
      );
      expectError(
        await api.call('POST', path(r, 'verify'), { token: r.token, body: { code } }),
        429,
        'too_many_attempts',
      );

      await sleep(1_600); // the resend interval of the test timings
      expect((await api.call('POST', path(r, 'resend'), { token: r.token })).status).to.equal(202);
      const fresh = codeIn(await mail.nth(r.email, 2));
      expect(fresh).to.not.equal(code);
      expect((await api.call('POST', path(r, 'verify'), { token: r.token, body: { code: fresh } })).body).to.deep.equal(
        { step: 'profile' },
      );
    });

    it('rate-limits resending with Retry-After, caps the number of codes, and retires the old code', async () => {
      const { api, mail } = system();
      const r = await register(api, 'errs', uniqueEmail());
      const first = codeIn(await mail.nth(r.email, 1));
      const tooSoon = await api.call('POST', path(r, 'resend'), { token: r.token });
      expectError(tooSoon, 429, 'too_many_attempts');
      expect(Number(tooSoon.headers.get('retry-after'))).to.be.within(1, 2);
      for (let n = 2; n <= 4; n++) {
        await sleep(1_600);
        expect((await api.call('POST', path(r, 'resend'), { token: r.token })).status).to.equal(202);
        await mail.nth(r.email, n);
      }
      await sleep(1_600);
      const capped = await api.call('POST', path(r, 'resend'), { token: r.token });
      expectError(capped, 429, 'too_many_attempts');
      expect(capped.headers.get('retry-after')).to.equal(null);
      expectError(
        await api.call('POST', path(r, 'verify'), { token: r.token, body: { code: first } }),
        400,
        'invalid_code',
      );
      const last = codeIn(await mail.nth(r.email, 4));
      expect((await api.call('POST', path(r, 'verify'), { token: r.token, body: { code: last } })).status).to.equal(
        200,
      );
    });

    it('lets a code expire', async () => {
      const api = await system().startApi({ timings: { codeTtlMs: 1_000 } });
      const r = await register(api, 'errs', uniqueEmail());
      const code = codeIn(await system().mail.nth(r.email, 1));
      await sleep(1_500);
      expectError(await api.call('POST', path(r, 'verify'), { token: r.token, body: { code } }), 410, 'code_expired');
    });

    it('refuses malformed codes before they reach the workflow', async () => {
      const { api } = system();
      const r = await register(api, 'errs', uniqueEmail());
      for (const code of ['12345', '1234567', 'abcdef', 123456]) {
        expectError(
          await api.call('POST', path(r, 'verify'), { token: r.token, body: { code } }),
          400,
          'invalid_request',
        );
      }
      expectError(
        await api.call('POST', path(r, 'resend'), { token: r.token, body: { extra: 1 } }),
        400,
        'invalid_request',
      );
    });
  });

  describe('steps out of order and bad step input', () => {
    it('answers wrong_step for a step that is not the current one', async () => {
      const { api } = system();
      const r = await register(api, 'errs', uniqueEmail());
      expectError(await api.call('POST', path(r, 'profile'), { token: r.token, body: profile }), 409, 'wrong_step');
      expectError(
        await api.call('POST', path(r, 'devices'), { token: r.token, body: { platform: 'ios' } }),
        409,
        'wrong_step',
      );
      const v = await verified(api, 'errs');
      expectError(
        await api.call('POST', path(v, 'verify'), { token: v.token, body: { code: '123456' } }),
        409,
        'wrong_step',
      );
      expectError(await api.call('POST', path(v, 'resend'), { token: v.token }), 409, 'wrong_step');
      expectError(
        await api.call('POST', path(v, 'devices'), { token: v.token, body: { platform: 'ios' } }),
        409,
        'wrong_step',
      );
    });

    it('validates the profile and the device choice', async () => {
      const { api } = system();
      const r = await verified(api, 'errs');
      for (const body of [
        { ...profile, password: 'short' },
        { ...profile, firstName: '   ' },
        { ...profile, phone: '0170 1234' },
        { firstName: 'A', lastName: 'B' },
        { ...profile, role: 'admin' },
      ]) {
        expectError(await api.call('POST', path(r, 'profile'), { token: r.token, body }), 400, 'invalid_request');
      }
      expect((await api.call('POST', path(r, 'profile'), { token: r.token, body: profile })).status).to.equal(200);
      expectError(
        await api.call('POST', path(r, 'devices'), { token: r.token, body: { platform: 'blackberry' } }),
        400,
        'invalid_request',
      );
      expectError(
        await api.call('POST', path(r, 'devices'), { token: r.token, body: { platform: 'macos' } }),
        409,
        'platform_not_available',
      );
      expectError(
        await api.call('POST', path(r, 'devices'), {
          token: r.token,
          body: { platform: 'android', phone: '+447700900123' },
        }),
        409,
        'platform_not_available',
      );
      expect(
        await system().db.models.Device.count({
          where: { userId: (await system().db.models.User.findOne({ where: { email: r.email } }))?.id },
        }),
      ).to.equal(0);
    });
  });
});
