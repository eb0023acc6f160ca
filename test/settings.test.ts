import { expect } from 'chai';
import { emailMeetsRequirement } from '../domain/email-requirement';
import { atDevice, expectError, path as route, uniqueEmail, verified } from './support/flow';
import { expectSpec, openApi } from './support/openapi';
import { type HttpAnswer, SUPERVISOR_TOKEN, system } from './support/system';

const accountTemplate = {
  name: 'Staff',
  locale: 'en-GB',
  timeZone: 'Europe/London',
  role: 'employee',
  groups: ['staff'],
  validityDays: 90,
  attributes: { department: 'sales' },
};
const deviceTemplate = (platform: string) => ({
  name: `Corporate ${platform}`,
  platform,
  groups: ['fleet'],
  description: `${platform} devices`,
  // Apple templates are typed settings (MDM payloads); the others are free-form.
  management: ['ios', 'macos'].includes(platform)
    ? { passcode: { minLength: 6 }, restrictions: { allowCamera: false } }
    : { wifi: { ssid: 'corp' } },
});

/** A call to the settings API, checked against the OpenAPI document on the way. */
async function call(method: string, path: string, template: string, token: string | undefined, body?: unknown) {
  const answer = await system().api.call(method, path, { token, body });
  await expectSpec(method, template, answer);
  return answer;
}

describe('settings API', () => {
  const as = (token: string | undefined) => ({
    token,
    get: (path: string, template = path) => call('GET', path, template, token),
    put: (path: string, body: unknown, template = path) => call('PUT', path, template, token, body),
    post: (path: string, body: unknown, template = path) => call('POST', path, template, token, body),
    delete: (path: string, template = path) => call('DELETE', path, template, token),
  });
  const supervisor = as(SUPERVISOR_TOKEN);
  let managerA: ReturnType<typeof as>;
  let managerB: ReturnType<typeof as>;
  let revoked: ReturnType<typeof as>;
  let ids: { account: number; ios: number; windows: number; revokedToken: number };

  /** Sets up organisation `slug` through the API as a supervisor would: templates, configuration, enabled. */
  async function configure(slug: string) {
    expect((await supervisor.post('/api/organisations', { slug, name: `Organisation ${slug}` })).status).to.equal(201);
    const base = `/api/organisations/${slug}`;
    const account = await supervisor.post(
      `${base}/account-templates`,
      accountTemplate,
      '/api/organisations/{slug}/account-templates',
    );
    const ios = await supervisor.post(
      `${base}/device-templates`,
      deviceTemplate('ios'),
      '/api/organisations/{slug}/device-templates',
    );
    const windows = await supervisor.post(
      `${base}/device-templates`,
      deviceTemplate('windows'),
      '/api/organisations/{slug}/device-templates',
    );
    const setup = await supervisor.put(
      `${base}/device-setup`,
      {
        enabled: true,
        emailRequirement: null,
        accountTemplate: account.body.id,
        deviceTemplates: { ios: ios.body.id, windows: windows.body.id },
      },
      '/api/organisations/{slug}/device-setup',
    );
    expect(setup.status, setup.text).to.equal(200);
    return { account: account.body.id as number, ios: ios.body.id as number, windows: windows.body.id as number };
  }

  before(async () => {
    const configured = await configure('set-a');
    await configure('set-b');
    const issue = async (slug: string) =>
      (
        await supervisor.post(
          `/api/organisations/${slug}/managers`,
          { label: `${slug} admin` },
          '/api/organisations/{slug}/managers',
        )
      ).body;
    managerA = as((await issue('set-a')).token);
    managerB = as((await issue('set-b')).token);
    const toRevoke = await issue('set-a');
    revoked = as(toRevoke.token);
    ids = { ...configured, revokedToken: toRevoke.id };
    expect((await supervisor.delete(`/api/tokens/${toRevoke.id}`, '/api/tokens/{id}')).status).to.equal(204);
  });

  it('serves one OpenAPI 3.1 document with every endpoint, request schemas from the validating schemas', async () => {
    const doc = await openApi();
    expect(doc.openapi).to.equal('3.1.0');
    expect(Object.keys(doc.paths)).to.include.members([
      '/api/setup/registrations',
      '/api/setup/registrations/{id}/devices',
      '/api/provision/{token}/checkin',
      '/api/settings/system',
      '/api/organisations/{slug}/device-setup',
      '/api/organisations/{slug}/device-templates/{id}',
    ]);
    const put = doc.paths['/api/organisations/{slug}/device-setup'].put.requestBody.content['application/json'].schema;
    expect(put.required).to.have.members(['enabled', 'emailRequirement', 'accountTemplate', 'deviceTemplates']);
    expect(put.additionalProperties).to.equal(false);
  });

  describe('who may do what', () => {
    const orgA = (rest = '') => `/api/organisations/set-a${rest}`;
    // The configuration organisation A already has: writing it again changes nothing, so its templates stay in use.
    const fullSetupA = () => ({
      enabled: true,
      emailRequirement: null,
      accountTemplate: ids.account,
      deviceTemplates: { ios: ids.ios, windows: ids.windows },
    });
    const endpoints = (): Array<[string, string, string, unknown?]> => [
      ['GET', '/api/settings/system', '/api/settings/system'],
      [
        'PUT',
        '/api/settings/system',
        '/api/settings/system',
        { deviceSetupEnabled: true, defaultOrganisation: null, platforms: {} },
      ],
      ['GET', '/api/organisations', '/api/organisations'],
      ['POST', '/api/organisations', '/api/organisations', { slug: 'never-made', name: 'Never' }],
      ['GET', orgA('/managers'), '/api/organisations/{slug}/managers'],
      ['POST', orgA('/managers'), '/api/organisations/{slug}/managers', {}],
      ['DELETE', `/api/tokens/${ids.revokedToken}`, '/api/tokens/{id}'],
      ['GET', orgA('/device-setup'), '/api/organisations/{slug}/device-setup'],
      ['PUT', orgA('/device-setup'), '/api/organisations/{slug}/device-setup', fullSetupA()],
      ['GET', orgA('/account-templates'), '/api/organisations/{slug}/account-templates'],
      ['POST', orgA('/account-templates'), '/api/organisations/{slug}/account-templates', accountTemplate],
      ['GET', orgA(`/account-templates/${ids.account}`), '/api/organisations/{slug}/account-templates/{id}'],
      [
        'PUT',
        orgA(`/account-templates/${ids.account}`),
        '/api/organisations/{slug}/account-templates/{id}',
        accountTemplate,
      ],
      ['DELETE', orgA(`/account-templates/${ids.account}`), '/api/organisations/{slug}/account-templates/{id}'],
      ['GET', orgA('/device-templates'), '/api/organisations/{slug}/device-templates'],
      ['POST', orgA('/device-templates'), '/api/organisations/{slug}/device-templates', deviceTemplate('ios')],
      ['GET', orgA(`/device-templates/${ids.ios}`), '/api/organisations/{slug}/device-templates/{id}'],
      [
        'PUT',
        orgA(`/device-templates/${ids.ios}`),
        '/api/organisations/{slug}/device-templates/{id}',
        deviceTemplate('ios'),
      ],
      ['DELETE', orgA(`/device-templates/${ids.ios}`), '/api/organisations/{slug}/device-templates/{id}'],
      ['GET', orgA('/registrations'), '/api/organisations/{slug}/registrations'],
      ['GET', orgA('/devices'), '/api/organisations/{slug}/devices'],
    ];
    const supervisorOnly = (path: string) => !path.startsWith('/api/organisations/') || path.endsWith('/managers');

    it('answers 401 to no token, a wrong token and a revoked token on every endpoint', async () => {
      for (const [method, path, template, body] of endpoints()) {
        for (const token of [undefined, 'not-a-real-token-at-all', revoked.token]) {
          expectError(await call(method, path, template, token, body), 401, 'unauthorized');
        }
      }
    });

    it("answers 403 to the manager of another organisation on every endpoint of this one and on the system's", async () => {
      for (const [method, path, template, body] of endpoints()) {
        expectError(await call(method, path, template, managerB.token, body), 403, 'forbidden');
      }
    });

    it("lets the organisation's manager read and change its organisation, not the system settings", async () => {
      for (const [method, path, template, body] of endpoints()) {
        const answer = await call(method, path, template, managerA.token, body);
        if (supervisorOnly(path) || path.startsWith('/api/tokens')) expectError(answer, 403, 'forbidden');
        else if (method === 'DELETE') expectError(answer, 409, 'template_in_use');
        else expect(answer.status, `${method} ${path}: ${answer.text}`).to.be.oneOf([200, 201]);
      }
    });

    it('lets the supervisor do everything; an unknown organisation is 404 for a supervisor, 403 for a manager', async () => {
      for (const [method, path, template] of endpoints().filter(([m]) => m === 'GET')) {
        expect((await call(method, path, template, SUPERVISOR_TOKEN)).status, path).to.equal(200);
      }
      expectError(
        await supervisor.get('/api/organisations/nowhere/device-setup', '/api/organisations/{slug}/device-setup'),
        404,
        'organisation_not_found',
      );
      expectError(
        await managerA.get('/api/organisations/nowhere/device-setup', '/api/organisations/{slug}/device-setup'),
        403,
        'forbidden',
      );
    });
  });

  describe('validation', () => {
    const setup = (body: unknown) =>
      supervisor.put('/api/organisations/set-b/device-setup', body, '/api/organisations/{slug}/device-setup');
    let b: { account: number; ios: number };

    before(async () => {
      const current = await supervisor.get(
        '/api/organisations/set-b/device-setup',
        '/api/organisations/{slug}/device-setup',
      );
      b = { account: current.body.accountTemplate, ios: current.body.deviceTemplates.ios };
    });

    it('refuses unknown fields, wrong types, bad time zones and locales with invalid_request, oversize bodies with 413', async () => {
      expectError(
        await setup({
          enabled: true,
          emailRequirement: null,
          accountTemplate: b.account,
          deviceTemplates: {},
          extra: 1,
        }),
        400,
        'invalid_request',
      );
      expectError(
        await setup({ enabled: 'yes', emailRequirement: null, accountTemplate: b.account, deviceTemplates: {} }),
        400,
        'invalid_request',
      );
      expectError(
        await setup({
          enabled: true,
          emailRequirement: null,
          accountTemplate: b.account,
          deviceTemplates: { blackberry: 1 },
        }),
        400,
        'invalid_request',
      );
      const post = (body: unknown) =>
        supervisor.post(
          '/api/organisations/set-b/account-templates',
          body,
          '/api/organisations/{slug}/account-templates',
        );
      expectError(await post({ ...accountTemplate, timeZone: 'Mars/Olympus' }), 400, 'invalid_request');
      expectError(await post({ ...accountTemplate, locale: 'not a locale!' }), 400, 'invalid_request');
      const huge = await system().api.call('POST', '/api/organisations/set-b/device-templates', {
        token: SUPERVISOR_TOKEN,
        body: { ...deviceTemplate('ios'), management: { blob: 'x'.repeat(100_000) } },
      });
      expectError(huge, 413, 'payload_too_large');
    });

    it('types Apple templates: refusals name the setting; a Wi-Fi password is never shown back and kept on replace', async () => {
      const path = '/api/organisations/set-b/device-templates';
      const template = '/api/organisations/{slug}/device-templates';
      const refused = async (management: unknown, field: string) => {
        const answer = await supervisor.post(path, { ...deviceTemplate('ios'), management }, template);
        expectError(answer, 400, 'invalid_request');
        expect(answer.body.error.message).to.include(field);
      };
      await refused({ wifi: { ssid: 'corp', security: 'WPA2' } }, 'management.wifi.password');
      await refused({ wifi: { ssid: 'x'.repeat(33), security: 'None' } }, 'management.wifi.ssid');
      await refused({ passcode: { minLength: 40 } }, 'management.passcode.minLength');
      await refused({ camera: false }, 'management');
      // The same free-form settings stay fine for a platform that is not managed through Apple's MDM.
      expect(
        (await supervisor.post(path, { ...deviceTemplate('windows'), management: { camera: false } }, template)).status,
      ).to.equal(201);

      const wifi = { ssid: 'corp', security: 'WPA2', password: 'corp-wifi-secret' };
      const made = await supervisor.post(path, { ...deviceTemplate('ios'), management: { wifi } }, template);
      expect(made.status, made.text).to.equal(201);
      expect(made.text).not.to.include(wifi.password);
      expect(made.body.management.wifi).to.deep.equal({ ssid: 'corp', security: 'WPA2', passwordSet: true });
      const one = `${path}/${made.body.id}`;
      const replaced = await supervisor.put(
        one,
        { ...deviceTemplate('ios'), name: 'Renamed', management: { wifi: { ssid: 'corp', security: 'WPA2' } } },
        `${template}/{id}`,
      );
      expect(replaced.status, replaced.text).to.equal(200);
      const stored = await system().db.models.DeviceTemplate.findByPk(made.body.id);
      expect(stored?.management).to.deep.equal({ wifi });
      // Another network needs its own password.
      const otherNetwork = await supervisor.put(
        one,
        { ...deviceTemplate('ios'), management: { wifi: { ssid: 'guest', security: 'WPA2' } } },
        `${template}/{id}`,
      );
      expectError(otherNetwork, 400, 'invalid_request');
      expect((await supervisor.delete(one, `${template}/{id}`)).status).to.equal(204);
    });

    it('will not enable an organisation without an account template', async () => {
      const answer = await setup({ enabled: true, emailRequirement: null, accountTemplate: null, deviceTemplates: {} });
      expectError(answer, 400, 'invalid_request');
      expect(answer.body.error.message).to.include('accountTemplate');
    });

    it('takes only templates of the same organisation and the matching platform', async () => {
      const wrongPlatform = await setup({
        enabled: true,
        emailRequirement: null,
        accountTemplate: b.account,
        deviceTemplates: { macos: b.ios },
      });
      expectError(wrongPlatform, 400, 'invalid_request');
      expect(wrongPlatform.body.error.message).to.include('is a ios template');
      const foreign = await setup({
        enabled: true,
        emailRequirement: null,
        accountTemplate: b.account,
        deviceTemplates: { ios: ids.ios },
      });
      expectError(foreign, 400, 'invalid_request');
      expectError(
        await setup({ enabled: true, emailRequirement: null, accountTemplate: ids.account, deviceTemplates: {} }),
        400,
        'invalid_request',
      );
    });

    it('needs the default organisation to exist, and refuses a second organisation of the same slug', async () => {
      const answer = await supervisor.put('/api/settings/system', {
        deviceSetupEnabled: true,
        defaultOrganisation: 'ghost',
        platforms: {},
      });
      expectError(answer, 400, 'invalid_request');
      expect(answer.body.error.message).to.include('ghost');
      expectError(
        await supervisor.post('/api/organisations', { slug: 'set-b', name: 'Again' }),
        409,
        'organisation_exists',
      );
      const reserved = await supervisor.post('/api/organisations', { slug: 'verify', name: 'Clash' });
      expectError(reserved, 400, 'invalid_request');
      expect(reserved.body.error.message).to.include('reserved');
    });

    it('refuses to delete or re-platform a template in use, saying where it is used', async () => {
      const account = await supervisor.delete(
        `/api/organisations/set-b/account-templates/${b.account}`,
        '/api/organisations/{slug}/account-templates/{id}',
      );
      expectError(account, 409, 'template_in_use');
      expect(account.body.error.message).to.include('account template of Organisation set-b');
      const device = await supervisor.delete(
        `/api/organisations/set-b/device-templates/${b.ios}`,
        '/api/organisations/{slug}/device-templates/{id}',
      );
      expectError(device, 409, 'template_in_use');
      expect(device.body.error.message).to.include('ios device template');
      expectError(
        await supervisor.put(
          `/api/organisations/set-b/device-templates/${b.ios}`,
          deviceTemplate('macos'),
          '/api/organisations/{slug}/device-templates/{id}',
        ),
        409,
        'template_in_use',
      );
      const spare = await supervisor.post(
        '/api/organisations/set-b/device-templates',
        deviceTemplate('macos'),
        '/api/organisations/{slug}/device-templates',
      );
      expect(
        (
          await supervisor.delete(
            `/api/organisations/set-b/device-templates/${spare.body.id}`,
            '/api/organisations/{slug}/device-templates/{id}',
          )
        ).status,
      ).to.equal(204);
      expectError(
        await supervisor.get(
          `/api/organisations/set-b/device-templates/${spare.body.id}`,
          '/api/organisations/{slug}/device-templates/{id}',
        ),
        404,
        'not_found',
      );
    });

    it('refuses e-mail requirements that could hang the service, and matches long input in bounded time', async () => {
      const requirement = (emailRequirement: string) =>
        setup({ enabled: true, emailRequirement, accountTemplate: b.account, deviceTemplates: { ios: b.ios } });
      for (const catastrophic of ['^(a+)+$', '^(a|a)*$', '^([a-z0-9]+\\.?)+@example\\.com$', '(x+x+)+y']) {
        const answer = await requirement(catastrophic);
        expectError(answer, 400, 'invalid_request');
        expect(answer.body.error.message, catastrophic).to.include('catastrophic backtracking');
      }
      for (const unsupported of ['(?=.*@)x', '(a)\\1', '[']) {
        expectError(await requirement(unsupported), 400, 'invalid_request');
      }
      const fine = await requirement('^[a-z0-9._%+-]+@(sales\\.)?example\\.com$');
      expect(fine.status, fine.text).to.equal(200);
      // Matching runs on RE2: even a pattern that would explode a backtracking engine is linear there.
      const long = `${'a'.repeat(100_000)}!`;
      expect(emailMeetsRequirement('^(a+)+$', long)).to.equal(false);
      expect(emailMeetsRequirement('^[a-z0-9._%+-]+@(sales\\.)?example\\.com$', `${long}@example.com`)).to.equal(false);
      expect(emailMeetsRequirement('^[a-z0-9._%+-]+@(sales\\.)?example\\.com$', 'jo@sales.example.com')).to.equal(true);
      await requirement('');
    });
  });

  describe('changes reach registrations already running', () => {
    const setupA = (body: object) =>
      supervisor.put(
        '/api/organisations/set-a/device-setup',
        {
          enabled: true,
          emailRequirement: null,
          accountTemplate: ids.account,
          deviceTemplates: { ios: ids.ios, windows: ids.windows },
          ...body,
        },
        '/api/organisations/{slug}/device-setup',
      );
    afterEach(() => setupA({}));

    it('a disabled organisation or a stricter e-mail requirement refuses the next step', async () => {
      const { api } = system();
      const r = await verified(api, 'set-a');
      await setupA({ enabled: false });
      const profile = { firstName: 'A', lastName: 'B', password: 'a long passphrase' };
      expectError(
        await api.call('POST', route(r, 'profile'), { token: r.token, body: profile }),
        403,
        'organisation_disabled',
      );
      await setupA({ emailRequirement: '@nowhere\\.example$' });
      expectError(
        await api.call('POST', route(r, 'profile'), { token: r.token, body: profile }),
        403,
        'email_not_allowed',
      );
      await setupA({});
      expect((await api.call('POST', route(r, 'profile'), { token: r.token, body: profile })).status).to.equal(200);
    });

    it('a platform whose template was withdrawn is refused; a template edit leaves existing accounts alone', async () => {
      const { api, db } = system();
      const r = await atDevice(api, 'set-a');
      await setupA({ deviceTemplates: { ios: ids.ios } });
      expectError(
        await api.call('POST', route(r, 'devices'), { token: r.token, body: { platform: 'windows' } }),
        409,
        'platform_not_available',
      );
      const edited = await supervisor.put(
        `/api/organisations/set-a/account-templates/${ids.account}`,
        { ...accountTemplate, role: 'contractor', groups: ['temps'] },
        '/api/organisations/{slug}/account-templates/{id}',
      );
      expect(edited.body.role).to.equal('contractor');
      const user = await db.models.User.findOne({ where: { email: r.email } });
      expect(user).to.deep.include({ role: 'employee' });
      expect(user?.groups).to.deep.equal(['staff']);
      await supervisor.put(
        `/api/organisations/set-a/account-templates/${ids.account}`,
        accountTemplate,
        '/api/organisations/{slug}/account-templates/{id}',
      );
    });

    it("lists the organisation's registrations with their step from Temporal, and its devices", async () => {
      const { api } = system();
      const r = await verified(api, 'set-a', uniqueEmail('listed'));
      const deadline = Date.now() + 10_000;
      let listed: HttpAnswer;
      do {
        listed = await managerA.get(
          '/api/organisations/set-a/registrations',
          '/api/organisations/{slug}/registrations',
        );
      } while (
        !listed.body.registrations.some(
          (x: { email: string; step: string }) => x.email === r.email && x.step === 'profile',
        ) &&
        Date.now() < deadline
      );
      expect(listed.body.registrations).to.deep.include.members([
        {
          registrationId: r.id,
          email: r.email,
          step: 'profile',
          status: 'RUNNING',
          startedAt: listed.body.registrations.find((x: { email: string }) => x.email === r.email).startedAt,
        },
      ]);
      const d = await atDevice(api, 'set-a');
      const chosen = await api.call('POST', route(d, 'devices'), { token: d.token, body: { platform: 'ios' } });
      const devices = await managerA.get('/api/organisations/set-a/devices', '/api/organisations/{slug}/devices');
      expect(devices.body.devices.find((x: { id: string }) => x.id === chosen.body.device.id)).to.include({
        owner: d.email,
        state: 'link-issued',
        platform: 'ios',
      });
      expectError(
        await managerB.get('/api/organisations/set-a/devices', '/api/organisations/{slug}/devices'),
        403,
        'forbidden',
      );
    });
  });
});
