import { execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { expect } from 'chai';
import plist from 'plist';
import { openProfileSigner } from '../platforms/apple/profile-signing';
import {
  type DeviceHttpError,
  type MdmCommand,
  type SimulatedAppleDevice,
  selfSignedIdentity,
  simulatedDevices,
} from './support/apple-device';
import { eventually, expectError, expectProblemPage, path, registrationHandle, withDevice } from './support/flow';
import { expectSpec } from './support/openapi';
import { verifiedProfile } from './support/signed-profile';
import { APPLE_KEYS, type ApiUnderTest, SUPERVISOR_TOKEN, system } from './support/system';

const ORG = 'apple-org';
const WIFI_PASSWORD = 'corp-wifi-passphrase-42';
const MANAGEMENT = {
  passcode: { minLength: 6, requireAlphanumeric: true },
  wifi: { ssid: 'Corp Wi-Fi', security: 'WPA2', password: WIFI_PASSWORD },
  restrictions: { allowCamera: false },
};
const PASSWORD = 'a long passphrase';

type Dict = Record<string, unknown>;
/** A profile's payload of a type (the MDM payload's keys, or the SCEP payload's with its own PayloadContent). */
const payloadOf = (profile: { PayloadContent: readonly unknown[] }, type: string) =>
  profile.PayloadContent.find((payload) => (payload as Dict).PayloadType === type) as Dict & { PayloadContent: Dict };

/**
 * An operator's PKI, made with openssl: a root, an intermediate, and a leaf on an ECDSA key (the TLS certificate of the
 * service's host, say); the chain file holds the leaf and the intermediate, as a web server's does. Another root and
 * key stand for what is not theirs.
 */
async function operatorPki() {
  const dir = mkdtempSync(nodePath.join(os.tmpdir(), 'operator-pki-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  for (const name of ['root', 'other-root']) {
    const { keyPem, certificatePem } = await selfSignedIdentity(name, 'basicConstraints=critical,CA:TRUE');
    writeFileSync(nodePath.join(dir, `${name}.key`), keyPem);
    writeFileSync(nodePath.join(dir, `${name}.pem`), certificatePem);
  }
  const issued = (name: string, issuer: string, key: string[], extensions: string) => {
    openssl('req', '-new', ...key, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    writeFileSync(nodePath.join(dir, `${name}.ext`), extensions);
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${issuer}.pem`,
      '-CAkey',
      `${issuer}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  };
  issued(
    'intermediate',
    'root',
    ['-newkey', 'rsa:2048'],
    'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n',
  );
  issued(
    'mdm.example.test',
    'intermediate',
    ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
    'keyUsage=critical,digitalSignature\n',
  );
  const read = (file: string) => readFileSync(nodePath.join(dir, file), 'utf8');
  writeFileSync(nodePath.join(dir, 'chain.pem'), read('mdm.example.test.pem') + read('intermediate.pem'));
  return {
    chainFile: nodePath.join(dir, 'chain.pem'),
    leafKeyFile: nodePath.join(dir, 'mdm.example.test.key'),
    otherKeyFile: nodePath.join(dir, 'other-root.key'),
    rootPem: read('root.pem'),
    otherRootPem: read('other-root.pem'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** iPhones, iPads and Macs enrol for real: the simulated device against NanoMDM and scepserver. */
describe('Apple enrolment through NanoMDM and SCEP', function () {
  this.timeout(60_000);
  let api: ApiUnderTest;
  const newDevice = simulatedDevices();

  before(async () => {
    const { deviceTemplates } = await system().createOrganisation(ORG, { platforms: ['ios', 'macos', 'windows'] });
    for (const platform of ['ios', 'macos'] as const) {
      await system().db.models.DeviceTemplate.update(
        { management: MANAGEMENT },
        { where: { id: deviceTemplates.get(platform) as number } },
      );
    }
    api = await system().startDeviceFacingApi();
  });

  const managed = (deviceId: string) => system().temporal.client.workflow.getHandle(`managed-device/${deviceId}`);
  const record = (deviceId: string) => system().db.models.Device.findByPk(deviceId);

  /** An owner at the provision step with an iPhone's link, through the API. */
  const iphoneLink = () => withDevice(api, ORG, 'ios');

  const ownerSession = async (email: string) => {
    const answer = await api.call('POST', '/api/session', { body: { organisation: ORG, email, password: PASSWORD } });
    expect(answer.status, answer.text).to.equal(200);
    return answer.body.token as string;
  };

  /** An owner's iPhone link, and an iPhone that has its identity and has authenticated (not yet enrolled). */
  const authenticatedIphone = async () => {
    const r = await iphoneLink();
    const iphone = newDevice();
    await iphone.openLink(r.device.provisioningUrl);
    await iphone.getIdentity();
    expect((await iphone.checkIn('Authenticate')).status).to.equal(200);
    return { r, iphone };
  };

  /** The device takes every command queued for it, answering each as told; returns them. */
  const commandsOf = (device: SimulatedAppleDevice, answer?: Parameters<SimulatedAppleDevice['processCommands']>[0]) =>
    device.processCommands(answer);

  describe('the profile', () => {
    it('is a configuration profile with a SCEP identity and NanoMDM behind our check-in, the same at every download', async () => {
      const r = await iphoneLink();
      const response = await fetch(r.device.provisioningUrl);
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.match(/^application\/x-apple-aspen-config/);
      // Signed with the certificate `npm start` makes when none is configured: it verifies against that certificate.
      const trusted = system().apple.profileSigner.certificate.toString();
      const body = Buffer.from(await response.arrayBuffer());
      const profile = plist.parse(verifiedProfile(body, trusted)) as { PayloadContent: Dict[] };
      const [scep, mdm] = ['com.apple.security.scep', 'com.apple.mdm'].map((type) => payloadOf(profile, type));
      const enrolmentId = system().secrets.enrolmentId(r.device.id, 1);
      expect(scep.PayloadContent.URL).to.equal(`${api.url}/mdm/scep`);
      expect(scep.PayloadContent.Challenge).to.equal(system().secrets.scepChallenge(enrolmentId));
      expect(mdm.IdentityCertificateUUID).to.equal(scep.PayloadUUID);
      expect(mdm.CheckInURL).to.equal(`${api.url}/mdm/checkin?enrolment=${encodeURIComponent(enrolmentId)}`);
      expect(mdm.ServerURL).to.equal(`${api.url}/mdm/connect?enrolment=${encodeURIComponent(enrolmentId)}`);
      expect(mdm.Topic).to.equal(system().apple.topic);
      expect(mdm).to.include({ SignMessage: true, CheckOutWhenRemoved: true });
      // Downloading again gives the same profile (the same enrolment and challenge).
      const again = Buffer.from(await (await fetch(r.device.provisioningUrl)).arrayBuffer());
      expect(plist.parse(verifiedProfile(again, trusted))).to.deep.equal(profile);
    });

    it("is signed with the operator's certificate and chain: verified against their root, refused altered or against another", async () => {
      const pki = await operatorPki();
      try {
        const profileSigner = await openProfileSigner({ certificateFile: pki.chainFile, keyFile: pki.leafKeyFile });
        const operators = await system().startDeviceFacingApi({ apple: { ...system().apple, profileSigner } });
        const r = await withDevice(operators, ORG, 'ios');
        const signed = Buffer.from(await (await fetch(r.device.provisioningUrl)).arrayBuffer());
        const profile = plist.parse(verifiedProfile(signed, pki.rootPem)) as { PayloadContent: Dict[] };
        expect(payloadOf(profile, 'com.apple.mdm').CheckInURL).to.match(new RegExp(`^${operators.url}/mdm/checkin`));
        // The profile is one a real device installs: the simulated iPhone enrols with it.
        const iphone = newDevice();
        await iphone.enrol(r.device.provisioningUrl);
        expect((await record(r.device.id))?.state).to.equal('enrolled');

        expect(() => verifiedProfile(signed, pki.otherRootPem)).to.throw(/verif/i);
        const altered = Buffer.from(signed);
        const at = altered.indexOf('com.apple.mdm');
        altered.write('com.apple.mdn', at);
        expect(() => verifiedProfile(altered, pki.rootPem)).to.throw(/verif|digest/i);
        // A key that is not the certificate's stops the start instead of signing profiles nothing verifies.
        let refused: Error | undefined;
        await openProfileSigner({ certificateFile: pki.chainFile, keyFile: pki.otherKeyFile }).catch((e: Error) => {
          refused = e;
        });
        expect(refused?.message).to.equal('the profile signing key is not the key of its certificate');
      } finally {
        pki.cleanup();
      }
    });

    it('the JSON check-in no longer enrols Apple devices', async () => {
      const r = await iphoneLink();
      expectError(await api.call('POST', `/api/provision/${r.linkToken}/checkin`, { body: {} }), 409, 'wrong_step');
      expect((await record(r.device.id))?.state).to.equal('link-issued');
    });
  });

  describe('an iPhone enrols, gets its settings and leaves', () => {
    it('reaches done only through the device, then the settings are applied and shown', async () => {
      const { r, iphone } = await authenticatedIphone();
      // Authenticated is not enrolled: the registration waits for TokenUpdate.
      expect((await api.call('GET', path(r), { token: r.token })).body.step).to.equal('provision');
      expect((await iphone.checkIn('TokenUpdate')).status).to.equal(200);
      // Done: the registration's token is spent, and says so.
      const status = await eventually(
        () => api.call('GET', path(r), { token: r.token }),
        (answer) => answer.status === 410,
      );
      expectError(status, 410, 'registration_complete');
      const stored = await record(r.device.id);
      expect(stored?.state).to.equal('enrolled');
      expect(stored?.deviceInfo).to.include({ udid: iphone.udid, serialNumber: iphone.serialNumber });

      // The settings arrive as one InstallProfile with the three payloads.
      const commands = await eventually(
        () => commandsOf(iphone),
        (received) => received.length > 0,
      );
      expect(commands.map((command) => command.Command.RequestType)).to.deep.equal(['InstallProfile']);
      const installed = [...iphone.installedProfiles.values()][0];
      expect(installed.PayloadContent.map((payload: { PayloadType: string }) => payload.PayloadType)).to.have.members([
        'com.apple.mobiledevice.passwordpolicy',
        'com.apple.wifi.managed',
        'com.apple.applicationaccess',
      ]);

      const token = await ownerSession(r.email);
      const mine = await eventually(
        () => api.call('GET', '/api/me', { token }),
        (answer) => answer.body.devices?.[0]?.settings?.status === 'applied',
      );
      expect(mine.body.devices[0]).to.deep.include({ state: 'enrolled', settings: { status: 'applied' } });
      expectSpec('get', '/api/me', mine);
      const listed = await api.call('GET', `/api/organisations/${ORG}/devices`, { token: SUPERVISOR_TOKEN });
      expectSpec('get', '/api/organisations/{slug}/devices', listed);
      const row = listed.body.devices.find((device: { id: string }) => device.id === r.device.id);
      expect(row.settings).to.deep.equal({ status: 'applied', errorChain: null, error: null });
      expect(row.deviceInfo).to.include({ udid: iphone.udid });

      // Removed on the device: CheckOut, unenrolled, and the run managing it ends.
      expect((await iphone.removeProfile())?.status).to.equal(200);
      expect((await record(r.device.id))?.state).to.equal('unenrolled');
      expect((await managed(r.device.id).result()).state).to.equal('unenrolled');
      const after = await api.call('GET', '/api/me', { token });
      expect(after.body.devices[0].state).to.equal('unenrolled');
      expect(after.body.devices[0].unenrolledAt).to.be.a('string');
    });

    it('an Error answer shows as failed with the device’s own reason', async () => {
      const r = await iphoneLink();
      const iphone = newDevice();
      await iphone.enrol(r.device.provisioningUrl);
      const errorChain = [
        {
          ErrorCode: 4001,
          ErrorDomain: 'MCProfileErrorDomain',
          LocalizedDescription: 'The passcode policy is not allowed.',
        },
      ];
      await eventually(
        () => commandsOf(iphone, () => ({ errorChain })),
        (received) => received.length > 0,
      );
      const token = await ownerSession(r.email);
      const mine = await eventually(
        () => api.call('GET', '/api/me', { token }),
        (answer) => answer.body.devices?.[0]?.settings?.status === 'failed',
      );
      expect(mine.body.devices[0].settings).to.deep.equal({
        status: 'failed',
        error: 'The passcode policy is not allowed. (MCProfileErrorDomain 4001)',
      });
    });

    it('removing it in My devices sends RemoveProfile; its CheckOut then shows it let go', async () => {
      const r = await iphoneLink();
      const iphone = newDevice();
      await iphone.enrol(r.device.provisioningUrl);
      await eventually(
        () => commandsOf(iphone),
        (received) => received.length > 0,
      );
      const token = await ownerSession(r.email);
      expect((await api.call('DELETE', `/api/me/devices/${r.device.id}`, { token })).status).to.equal(204);
      expect((await record(r.device.id))?.state).to.equal('removed');
      const commands = await commandsOf(iphone);
      expect(commands.map((command: MdmCommand) => command.Command.RequestType)).to.deep.equal(['RemoveProfile']);
      expect(iphone.enrolled).to.equal(false);
      const stored = await eventually(
        () => record(r.device.id),
        (device) => Boolean(device?.unenrolledAt),
      );
      expect(stored?.state).to.equal('removed');
      expect(stored?.unenrolledAt).to.be.instanceOf(Date);
      expect((await managed(r.device.id).result()).state).to.equal('removed');
    });

    it('removed after an operator ended its managed run: a new run takes the device over and still sends RemoveProfile', async () => {
      const r = await iphoneLink();
      const iphone = newDevice();
      await iphone.enrol(r.device.provisioningUrl);
      const installed = await eventually(
        () => commandsOf(iphone),
        (received) => received.length > 0,
      );
      await eventually(
        () => record(r.device.id),
        (device) => device?.settingsStatus === 'applied',
      );
      await managed(r.device.id).terminate('an operator repairing it');
      const token = await ownerSession(r.email);
      expect((await api.call('DELETE', `/api/me/devices/${r.device.id}`, { token })).status).to.equal(204);
      expect((await record(r.device.id))?.state).to.equal('removed');
      // The device gets RemoveProfile alone (its settings were the ended run's business), lets go and checks out.
      const commands = await commandsOf(iphone);
      expect(installed.map((command) => command.Command.RequestType)).to.deep.equal(['InstallProfile']);
      expect(commands.map((command) => command.Command.RequestType)).to.deep.equal(['RemoveProfile']);
      expect(iphone.enrolled).to.equal(false);
      expect((await managed(r.device.id).result()).state).to.equal('removed');
      const stored = await record(r.device.id);
      expect(stored?.unenrolledAt).to.be.instanceOf(Date);
      expect(stored?.settingsStatus).to.equal('applied');
    });

    it('removed while NanoMDM is down: the owner is answered at once, RemoveProfile follows once NanoMDM is back', async () => {
      const r = await iphoneLink();
      const iphone = newDevice();
      await iphone.enrol(r.device.provisioningUrl);
      await eventually(
        () => commandsOf(iphone),
        (received) => received.length > 0,
      );
      const token = await ownerSession(r.email);
      await system().engines.nanomdm.stop();
      try {
        expect((await api.call('DELETE', `/api/me/devices/${r.device.id}`, { token })).status).to.equal(204);
        expect((await record(r.device.id))?.state).to.equal('removed');
      } finally {
        await system().engines.nanomdm.start();
      }
      const commands = await eventually(
        () => commandsOf(iphone),
        (received) => received.length > 0,
        20_000,
      );
      expect(commands.map((command) => command.Command.RequestType)).to.deep.equal(['RemoveProfile']);
      expect((await managed(r.device.id).result()).state).to.equal('removed');
    });

    it('a Mac enrols the same way, with its model', async () => {
      const r = await withDevice(api, ORG, 'macos');
      const mac = newDevice({ productName: 'Mac14,7' });
      await mac.enrol(r.device.provisioningUrl);
      const stored = await eventually(
        () => record(r.device.id),
        (device) => device?.state === 'enrolled',
      );
      expect(stored?.deviceInfo).to.include({ udid: mac.udid, model: mac.model });
      expect((await registrationHandle(r).result()).step).to.equal('done');
    });
  });

  describe('one link, one enrolment', () => {
    it('a second device with the same profile gets no identity', async () => {
      const r = await iphoneLink();
      const first = newDevice();
      await first.openLink(r.device.provisioningUrl);
      await first.getIdentity();
      const second = newDevice();
      second.profile = first.profile;
      const refused = await second.getIdentity().then(
        () => undefined,
        (error: Error) => error,
      );
      expect(refused, 'SCEP issued a second identity for one challenge').to.be.instanceOf(Error);
      expect(refused?.message).to.match(/badRequest/);
    });

    it('a challenge made up or taken from another link is refused', async () => {
      const r = await iphoneLink();
      const other = await iphoneLink();
      const device = newDevice();
      const profile = await device.openLink(r.device.provisioningUrl);
      const otherProfile = await newDevice().openLink(other.device.provisioningUrl);
      const scep = (p: typeof profile) => payloadOf(p, 'com.apple.security.scep').PayloadContent;
      scep(profile).Challenge = scep(otherProfile).Challenge;
      expect(
        await device.getIdentity().then(
          () => 'issued',
          () => 'refused',
        ),
      ).to.equal('refused');
    });

    it('after enrolment the link is used: a second device cannot even download the profile', async () => {
      const r = await iphoneLink();
      await newDevice().enrol(r.device.provisioningUrl);
      await eventually(
        () => record(r.device.id),
        (device) => device?.state === 'enrolled',
      );
      const error = (await newDevice()
        .openLink(r.device.provisioningUrl)
        .catch((e: DeviceHttpError) => e)) as DeviceHttpError;
      expect(error.status).to.equal(410);
    });

    it('a check-in signed for another enrolment is refused before NanoMDM sees it', async () => {
      const mine = await iphoneLink();
      const theirs = await iphoneLink();
      const device = newDevice();
      await device.openLink(mine.device.provisioningUrl);
      await device.getIdentity();
      const theirProfile = await newDevice().openLink(theirs.device.provisioningUrl);
      device.profile = theirProfile; // my identity, their check-in URL
      const answer = await device.checkIn('Authenticate');
      expect(answer.status).to.equal(403);
      expect((await record(theirs.device.id))?.deviceInfo).to.equal(null);
    });
  });

  describe('one device cannot speak for another', () => {
    it('an enrolled device answering commands under another enrolment’s id is refused', async () => {
      const mine = await iphoneLink();
      const theirs = await iphoneLink();
      const device = newDevice();
      await device.enrol(mine.device.provisioningUrl);
      const theirProfile = await newDevice().openLink(theirs.device.provisioningUrl);
      const serverUrl = payloadOf(theirProfile, 'com.apple.mdm').ServerURL;
      payloadOf(device.profile as NonNullable<typeof device.profile>, 'com.apple.mdm').ServerURL = serverUrl;
      const answer = await device.connect({ status: 'Idle' });
      expect(answer.status).to.equal(403);
    });

    it('SCEP requests are limited per client address', async () => {
      const limited = await system().startDeviceFacingApi({ scepRequestsPerMinute: 2 });
      const caps = () => fetch(`${limited.url}/mdm/scep?operation=GetCACaps`);
      expect((await caps()).status).to.equal(200);
      expect((await caps()).status).to.equal(200);
      const refused = await caps();
      expect(refused.status).to.equal(429);
      expect(refused.headers.get('retry-after')).to.equal('60');
    });
  });

  describe('nothing lost between NanoMDM and us', () => {
    it('NanoMDM down while the device checks in: it is told to retry, and its retry enrols it', async () => {
      const { r, iphone } = await authenticatedIphone();
      await system().engines.nanomdm.stop();
      try {
        const refused = await iphone.checkIn('TokenUpdate');
        expect(refused.status).to.equal(503);
        expect((await record(r.device.id))?.state).to.equal('link-issued');
      } finally {
        await system().engines.nanomdm.start();
      }
      expect((await iphone.checkIn('TokenUpdate')).status).to.equal(200);
      expect((await registrationHandle(r).result()).step).to.equal('done');
    });

    it('our API cannot record a TokenUpdate NanoMDM took: the device retries, through another API process, and it is recorded', async () => {
      const { r, iphone } = await authenticatedIphone();
      // An API process whose Temporal is gone (a scaled-out one cut off): NanoMDM takes the check-in, we cannot record it.
      const cutOff = await apiWithoutTemporal();
      try {
        const profile = iphone.profile as NonNullable<typeof iphone.profile>;
        const mdmPayload = payloadOf(profile, 'com.apple.mdm');
        const viaApi = mdmPayload.CheckInURL as string;
        mdmPayload.CheckInURL = viaApi.replace(api.url, cutOff.url);
        const lost = await iphone.checkIn('TokenUpdate');
        expect(lost.status, lost.body).to.equal(503);
        expect((await record(r.device.id))?.state).to.equal('link-issued');
        // The device tries again later (through whichever process the load balancer picks).
        mdmPayload.CheckInURL = viaApi;
        expect((await iphone.checkIn('TokenUpdate')).status).to.equal(200);
        expect((await registrationHandle(r).result()).step).to.equal('done');
      } finally {
        await cutOff.close();
      }
    });

    it('the webhook’s API down: the enrolment does not depend on it', async () => {
      // NanoMDM's webhook goes to the main test API; this device talks to another one, and that is all it needs.
      // (The SCEP server's challenge check goes to the main API too: the identity comes first.)
      const { r, iphone } = await authenticatedIphone();
      const webhookTarget = system().api;
      await webhookTarget.pause();
      try {
        expect((await iphone.checkIn('TokenUpdate')).status).to.equal(200);
        expect((await registrationHandle(r).result()).step).to.equal('done');
      } finally {
        await webhookTarget.resume();
      }
    });

    it('a worker killed between TokenUpdate and InstallProfile: the next worker sends the settings', async () => {
      const { r, iphone } = await authenticatedIphone();
      expect((await iphone.checkIn('TokenUpdate')).status).to.equal(200);
      // NanoMDM's API refuses for a moment, so InstallProfile is not queued yet when the worker goes.
      await system().engines.nanomdm.stop();
      try {
        await eventually(
          () =>
            managed(r.device.id)
              .describe()
              .then(
                () => true,
                () => false,
              ),
          Boolean,
        );
        await system().restartWorker();
      } finally {
        await system().engines.nanomdm.start();
      }
      const commands = await eventually(
        () => commandsOf(iphone),
        (received) => received.length > 0,
        40_000,
      );
      expect(commands.map((command) => command.Command.RequestType)).to.deep.equal(['InstallProfile']);
    });
  });

  describe('the webhook', () => {
    const post = (body: string, signature?: string) =>
      fetch(`${api.url}/mdm/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(signature ? { 'x-hmac-signature': signature } : {}) },
        body,
      });
    const sign = (body: string, key = APPLE_KEYS.webhookKey) => createHmac('sha256', key).update(body).digest('base64');
    const event = (overrides: Record<string, unknown> = {}) =>
      JSON.stringify({
        topic: 'mdm.Connect',
        event_id: randomUUID(),
        created_at: new Date().toISOString(),
        ...overrides,
      });

    it('refuses an unsigned or forged call', async () => {
      const body = event();
      expect((await post(body)).status).to.equal(401);
      expect((await post(body, sign(body, 'not-the-shared-key'))).status).to.equal(401);
      expect((await post(body, sign(`${body} `))).status).to.equal(401);
      expect((await post(body, sign(body))).status).to.equal(200);
    });

    it('refuses a stale or replayed answer to a settings command', async () => {
      const r = await iphoneLink();
      const iphone = newDevice();
      await iphone.enrol(r.device.provisioningUrl);
      const [install] = await eventually(
        () => commandsOf(iphone, () => 'NotNow'),
        (received) => received.length > 0,
      );
      const answer = (createdAt: Date) =>
        event({
          created_at: createdAt.toISOString(),
          acknowledge_event: {
            status: 'Acknowledged',
            command_uuid: install.CommandUUID,
            url_params: { enrolment: system().secrets.enrolmentId(r.device.id, 1) },
          },
        });
      const stale = answer(new Date(Date.now() - 10 * 60_000));
      expect((await post(stale, sign(stale))).status).to.equal(400);
      expect((await record(r.device.id))?.settingsStatus).to.equal('pending');
      const body = answer(new Date());
      expect((await post(body, sign(body))).status).to.equal(200);
      expect((await post(body, sign(body))).status).to.equal(409);
      const applied = await eventually(
        () => record(r.device.id),
        (device) => device?.settingsStatus === 'applied',
      );
      expect(applied?.settingsStatus).to.equal('applied');
    });

    it('a forged acknowledgement cannot mark settings applied; events out of order change nothing', async () => {
      const r = await iphoneLink();
      const iphone = newDevice();
      await iphone.enrol(r.device.provisioningUrl);
      const enrolmentId = system().secrets.enrolmentId(r.device.id, 1);
      const [install] = await eventually(
        () => commandsOf(iphone, () => 'NotNow'),
        (received) => received.length > 0,
      );
      expect((await record(r.device.id))?.settingsStatus).to.equal('pending');
      // Unsigned: refused, and nothing changes.
      const ack = event({
        acknowledge_event: {
          status: 'Acknowledged',
          command_uuid: install.CommandUUID,
          url_params: { enrolment: enrolmentId },
        },
      });
      expect((await post(ack)).status).to.equal(401);
      // Out of order and late: a CheckOut's and a TokenUpdate's events after the fact are only acknowledged.
      for (const topic of ['mdm.CheckOut', 'mdm.TokenUpdate', 'mdm.Authenticate']) {
        const late = event({ topic, checkin_event: { udid: iphone.udid, url_params: { enrolment: enrolmentId } } });
        expect((await post(late, sign(late))).status).to.equal(200);
      }
      expect((await record(r.device.id))?.state).to.equal('enrolled');
      expect((await record(r.device.id))?.settingsStatus).to.equal('pending');
      // The device's real answer decides.
      await eventually(
        () => commandsOf(iphone),
        (received) => received.length > 0,
      );
      const applied = await eventually(
        () => record(r.device.id),
        (device) => device?.settingsStatus === 'applied',
      );
      expect(applied?.settingsStatus).to.equal('applied');
    });
  });

  describe('privacy', () => {
    it('no challenge, private key or Wi-Fi password in any history', async () => {
      const r = await iphoneLink();
      const iphone = newDevice();
      await iphone.enrol(r.device.provisioningUrl);
      await eventually(
        () => commandsOf(iphone),
        (received) => received.length > 0,
      );
      await eventually(
        () => record(r.device.id),
        (device) => device?.settingsStatus === 'applied',
      );
      const challenge = system().secrets.scepChallenge(system().secrets.enrolmentId(r.device.id, 1));
      const keyBody = (iphone.identity?.keyPem ?? '').split('\n')[1] as string;
      for (const workflowId of [
        `device/${r.device.id}`,
        `managed-device/${r.device.id}`,
        `registration/${ORG}/${r.email}`,
      ]) {
        const history = system().rawHistory(workflowId);
        for (const secret of [challenge, keyBody, WIFI_PASSWORD, r.linkToken]) {
          expect(history, `${workflowId} holds a secret`).not.to.include(secret);
        }
      }
    });
  });

  describe('with Apple enrolment off', () => {
    it('iOS and macOS are not offered, and a live iPhone link says so', async () => {
      const live = await iphoneLink();
      const off = await system().startApi({ apple: 'off' });
      const r = await withDevice(off, ORG, 'windows');
      const status = await off.call('GET', path(r), { token: r.token });
      expect(status.body.platforms).to.have.members(['windows']);
      expectProblemPage(
        await off.call('GET', `/provision/${live.linkToken}`),
        409,
        'Apple devices cannot be enrolled at the moment.',
      );
    });
  });

  /** An API process like the others, cut off from Temporal (its address answers nothing). */
  function apiWithoutTemporal() {
    // Without the SDK's retry interceptor a call fails at once, as it does after its retries (ten, over about 10 s).
    const connection = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '1s', interceptors: [] });
    const client = new Client({ connection });
    return system().startApi({ client, publicUrl: api.url });
  }
});
