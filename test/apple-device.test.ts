import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { build, type PlistObject, type PlistValue, parse } from 'plist';
import { DeviceHttpError, type MdmCommand, SimulatedAppleDevice, selfSignedIdentity } from './support/apple-device';

/**
 * The simulated Apple device against the real engines, started here by hand (no product code): scepserver issues
 * the identity, NanoMDM takes the check-ins and commands and posts its webhook to a local recorder, and a tiny server
 * hands out hand-made enrolment profiles.
 */

const BIN = path.join(__dirname, '..', '.tools', 'bin');
const CHALLENGE = 'secret';
const API_KEY = 'key';
const WEBHOOK_KEY = 'k';
const TOPIC = 'com.apple.mgmt.External.test';

interface WebhookEvent {
  topic: string;
  checkin_event?: { udid?: string; url_params?: Record<string, string>; raw_payload: string };
  acknowledge_event?: {
    udid?: string;
    status: string;
    command_uuid?: string;
    url_params?: Record<string, string>;
    raw_payload: string;
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually<T>(probe: () => T | undefined, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

async function listen(handler: (request: IncomingMessage, body: Buffer, response: ServerResponse) => void) {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handler(request, Buffer.concat(chunks), response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** The engines and the local servers of this test, started and stopped together. */
class Engines {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'apple-engines-test-'));
  readonly children: ChildProcess[] = [];
  readonly servers: Server[] = [];
  readonly webhook: WebhookEvent[] = [];
  readonly webhookFailures: string[] = [];
  readonly profiles = new Map<string, { contentType: string; body: string | Buffer; status?: number }>();
  scepUrl = '';
  nanomdmUrl = '';
  profilesUrl = '';

  async start(): Promise<void> {
    const depot = path.join(this.dir, 'depot');
    await this.#runToEnd(path.join(BIN, 'scepserver'), ['ca', '-init', '-depot', depot, '-keySize', '2048']);

    const hook = await listen((request, body, response) => {
      const expected = createHmac('sha256', WEBHOOK_KEY).update(body).digest('base64');
      if (request.headers['x-hmac-signature'] !== expected) this.webhookFailures.push('bad X-Hmac-Signature');
      this.webhook.push(JSON.parse(body.toString('utf8')) as WebhookEvent);
      response.end();
    });
    this.servers.push(hook.server);

    const profiles = await listen((request, _body, response) => {
      const profile = this.profiles.get(new URL(request.url ?? '/', 'http://x').pathname);
      if (!profile) {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('no such link');
        return;
      }
      response.writeHead(profile.status ?? 200, { 'content-type': profile.contentType }).end(profile.body);
    });
    this.servers.push(profiles.server);
    this.profilesUrl = profiles.url;

    const scepPort = await freePort();
    this.#spawn('scepserver', ['-depot', depot, '-port', String(scepPort), '-challenge', CHALLENGE]);
    this.scepUrl = `http://127.0.0.1:${scepPort}/scep`;

    const nanomdmPort = await freePort();
    this.#spawn('nanomdm', [
      '-ca',
      path.join(depot, 'ca.pem'),
      '-api',
      API_KEY,
      '-checkin',
      '-listen',
      `127.0.0.1:${nanomdmPort}`,
      '-storage',
      'filekv',
      '-storage-dsn',
      path.join(this.dir, 'nanomdm'),
      '-webhook-url',
      `${hook.url}/hook`,
      '-webhook-hmac-key',
      WEBHOOK_KEY,
    ]);
    this.nanomdmUrl = `http://127.0.0.1:${nanomdmPort}`;

    await this.#up(`${this.scepUrl}?operation=GetCACaps`);
    await this.#up(`${this.nanomdmUrl}/version`);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children
        .filter((child) => child.exitCode === null && child.signalCode === null)
        .map((child) => {
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          return exited;
        }),
    );
    await Promise.all(this.servers.map((server) => new Promise((resolve) => server.close(resolve))));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Serves an enrolment profile at /enrol/<name>; returns its link. */
  serveProfile(
    name: string,
    options: { challenge?: string; signMessage?: boolean; checkOutWhenRemoved?: boolean; enrolment?: string } = {},
  ): string {
    const enrolment = options.enrolment ?? 'e1';
    const scepUuid = randomUUID().toUpperCase();
    const profile: PlistObject = {
      PayloadType: 'Configuration',
      PayloadVersion: 1,
      PayloadIdentifier: `test.enrolment.${name}`,
      PayloadUUID: randomUUID().toUpperCase(),
      PayloadDisplayName: 'Test enrolment',
      PayloadContent: [
        {
          PayloadType: 'com.apple.security.scep',
          PayloadVersion: 1,
          PayloadIdentifier: `test.enrolment.${name}.scep`,
          PayloadUUID: scepUuid,
          PayloadContent: {
            URL: this.scepUrl,
            Challenge: options.challenge ?? CHALLENGE,
            Subject: [[['CN', `device-${name}`]]],
            Keysize: 2048,
            'Key Type': 'RSA',
            'Key Usage': 5,
          },
        },
        {
          PayloadType: 'com.apple.mdm',
          PayloadVersion: 1,
          PayloadIdentifier: `test.enrolment.${name}.mdm`,
          PayloadUUID: randomUUID().toUpperCase(),
          IdentityCertificateUUID: scepUuid,
          Topic: TOPIC,
          CheckInURL: `${this.nanomdmUrl}/checkin?enrolment=${enrolment}`,
          ServerURL: `${this.nanomdmUrl}/mdm?enrolment=${enrolment}`,
          SignMessage: options.signMessage ?? true,
          CheckOutWhenRemoved: options.checkOutWhenRemoved ?? true,
          AccessRights: 8191,
          ServerCapabilities: ['com.apple.mdm.per-user-connections'],
        },
      ],
    };
    this.profiles.set(`/enrol/${name}`, { contentType: 'application/x-apple-aspen-config', body: build(profile) });
    return `${this.profilesUrl}/enrol/${name}`;
  }

  /** Queues a command for the device through NanoMDM's API, without a push. */
  async enqueue(udid: string, command: PlistObject): Promise<string> {
    const commandUuid = randomUUID();
    const response = await fetch(`${this.nanomdmUrl}/v1/enqueue/${udid}?nopush=1`, {
      method: 'PUT',
      headers: { authorization: `Basic ${Buffer.from(`nanomdm:${API_KEY}`).toString('base64')}` },
      body: build({ CommandUUID: commandUuid, Command: command }),
    });
    expect(response.status, await response.text()).to.equal(200);
    return commandUuid;
  }

  /** The first webhook event on this topic matching the predicate, once it has come. */
  event(topic: string, matches: (event: WebhookEvent) => boolean = () => true): Promise<WebhookEvent> {
    return eventually(() => this.webhook.find((event) => event.topic === topic && matches(event)), `webhook ${topic}`);
  }

  #spawn(name: string, args: string[]): void {
    const child = spawn(path.join(BIN, name), args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString('utf8')).slice(-20_000);
    });
    child.once('exit', (code, signal) => {
      if (signal !== 'SIGTERM') process.stderr.write(`${name} exited (${code ?? signal}):\n${log}\n`);
    });
    this.children.push(child);
  }

  async #runToEnd(file: string, args: string[]): Promise<void> {
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString('utf8');
    });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`${file} ${args.join(' ')}: exit ${code}: ${log}`);
  }

  async #up(url: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ok = await fetch(url).then(
        (response) => response.ok,
        () => false,
      );
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`${url} did not come up`);
      await sleep(50);
    }
  }
}

/** The raw payload of a webhook event, parsed. */
function rawPayload(raw: string): PlistObject {
  return parse(Buffer.from(raw, 'base64').toString('utf8')) as PlistObject;
}

describe('the simulated Apple device against NanoMDM and scepserver', () => {
  const engines = new Engines();
  const devices: SimulatedAppleDevice[] = [];
  const newDevice = (options?: ConstructorParameters<typeof SimulatedAppleDevice>[0]) => {
    const device = new SimulatedAppleDevice(options);
    devices.push(device);
    return device;
  };

  before(async function () {
    this.timeout(60_000);
    await engines.start();
  });
  after(async () => {
    await engines.stop();
    for (const device of devices) device.cleanup();
  });
  afterEach(() => expect(engines.webhookFailures, 'webhook HMAC').to.deep.equal([]));

  describe('an enrolled iPhone', () => {
    const device = newDevice();
    before(async () => {
      await device.enrol(engines.serveProfile('iphone'));
    });

    it('enrols: Authenticate and TokenUpdate answered 200, NanoMDM reports both with the URL parameters', async () => {
      expect(device.enrolled).to.equal(true);
      expect(device.certificate?.subject).to.equal('CN=device-iphone');
      const authenticate = await engines.event('mdm.Authenticate', (e) => e.checkin_event?.udid === device.udid);
      expect(authenticate.checkin_event?.url_params).to.deep.equal({ enrolment: 'e1' });
      const message = rawPayload(authenticate.checkin_event?.raw_payload ?? '');
      expect(message).to.include({
        MessageType: 'Authenticate',
        UDID: device.udid,
        Topic: TOPIC,
        SerialNumber: device.serialNumber,
        ProductName: 'iPhone15,2',
      });
      expect(message, 'Model is macOS-only in Authenticate').not.to.have.property('Model');

      const tokenUpdate = await engines.event('mdm.TokenUpdate', (e) => e.checkin_event?.udid === device.udid);
      expect(tokenUpdate.checkin_event?.url_params).to.deep.equal({ enrolment: 'e1' });
      const update = rawPayload(tokenUpdate.checkin_event?.raw_payload ?? '');
      expect(update).to.include({
        MessageType: 'TokenUpdate',
        PushMagic: device.pushMagic,
        AwaitingConfiguration: false,
      });
      expect(Buffer.compare(update.Token as Buffer, device.pushToken)).to.equal(0);
    });

    it('answers a queued command (Acknowledged), and NanoMDM reports it', async () => {
      const uuid = await engines.enqueue(device.udid, { RequestType: 'ProfileList' });
      const commands = await device.processCommands();
      expect(commands.map((command) => command.CommandUUID)).to.deep.equal([uuid]);
      expect(commands[0].Command.RequestType).to.equal('ProfileList');
      const connect = await engines.event('mdm.Connect', (e) => e.acknowledge_event?.command_uuid === uuid);
      expect(connect.acknowledge_event).to.include({ status: 'Acknowledged', udid: device.udid });
      expect(connect.acknowledge_event?.url_params).to.deep.equal({ enrolment: 'e1' });
      const report = rawPayload(connect.acknowledge_event?.raw_payload ?? '');
      const list = report.ProfileList as PlistObject[];
      expect(list.map((profile) => profile.PayloadIdentifier)).to.deep.equal(['test.enrolment.iphone']);
      expect(await device.processCommands(), 'nothing more').to.deep.equal([]);
    });

    it('reports an Error when told to', async () => {
      const uuid = await engines.enqueue(device.udid, { RequestType: 'ProfileList' });
      const errorChain = [{ ErrorCode: 12_345, ErrorDomain: 'TestDomain', LocalizedDescription: 'Nope' }];
      const commands = await device.processCommands(() => ({ errorChain }));
      expect(commands).to.have.length(1);
      const connect = await engines.event('mdm.Connect', (e) => e.acknowledge_event?.command_uuid === uuid);
      expect(connect.acknowledge_event?.status).to.equal('Error');
      expect(rawPayload(connect.acknowledge_event?.raw_payload ?? '').ErrorChain).to.deep.equal(errorChain);
    });

    it('installs and removes a profile by command', async () => {
      const settings = {
        PayloadType: 'Configuration',
        PayloadVersion: 1,
        PayloadIdentifier: 'test.settings',
        PayloadUUID: randomUUID().toUpperCase(),
        PayloadContent: [
          {
            PayloadType: 'com.apple.mobiledevice.passwordpolicy',
            PayloadVersion: 1,
            PayloadIdentifier: 'test.settings.passcode',
            PayloadUUID: randomUUID().toUpperCase(),
            minLength: 6,
          },
        ],
      };
      const install = await engines.enqueue(device.udid, {
        RequestType: 'InstallProfile',
        Payload: Buffer.from(build(settings)),
      });
      const remove = await engines.enqueue(device.udid, { RequestType: 'RemoveProfile', Identifier: 'test.other' });
      const seen: MdmCommand[] = [];
      await device.processCommands((command) => {
        seen.push(command);
        return 'Acknowledged';
      });
      expect(seen.map((command) => command.CommandUUID)).to.deep.equal([install, remove]);
      expect(device.installedProfiles.get('test.settings')?.PayloadContent[0]).to.include({ minLength: 6 });

      await engines.enqueue(device.udid, { RequestType: 'RemoveProfile', Identifier: 'test.settings' });
      await device.processCommands();
      expect(device.installedProfiles.has('test.settings')).to.equal(false);
      expect(device.enrolled, 'still enrolled').to.equal(true);
    });

    it('removed by the owner: CheckOut, reported by NanoMDM', async () => {
      const answer = await device.removeProfile();
      expect(answer?.status).to.equal(200);
      expect(device.enrolled).to.equal(false);
      const checkOut = await engines.event('mdm.CheckOut', (e) => e.checkin_event?.udid === device.udid);
      expect(checkOut.checkin_event?.url_params).to.deep.equal({ enrolment: 'e1' });
      expect(rawPayload(checkOut.checkin_event?.raw_payload ?? '')).to.include({
        MessageType: 'CheckOut',
        Topic: TOPIC,
      });
    });
  });

  it('a Mac sends its model and name in Authenticate, and no UnlockToken', async () => {
    const mac = newDevice({ productName: 'MacBookPro18,3' });
    await mac.enrol(engines.serveProfile('mac', { enrolment: 'e2' }));
    const authenticate = await engines.event('mdm.Authenticate', (e) => e.checkin_event?.udid === mac.udid);
    expect(authenticate.checkin_event?.url_params).to.deep.equal({ enrolment: 'e2' });
    expect(rawPayload(authenticate.checkin_event?.raw_payload ?? '')).to.include({
      Model: 'MacBookPro18,3',
      ModelName: 'MacBook Pro',
      DeviceName: mac.deviceName,
    });
    const tokenUpdate = await engines.event('mdm.TokenUpdate', (e) => e.checkin_event?.udid === mac.udid);
    expect(rawPayload(tokenUpdate.checkin_event?.raw_payload ?? '')).not.to.have.property('UnlockToken');
  });

  it('RemoveProfile of the enrolment profile: acknowledged, then CheckOut, and no more commands', async () => {
    const device = newDevice();
    await device.enrol(engines.serveProfile('removed-by-command', { enrolment: 'e3' }));
    const remove = await engines.enqueue(device.udid, {
      RequestType: 'RemoveProfile',
      Identifier: 'test.enrolment.removed-by-command',
    });
    await engines.enqueue(device.udid, { RequestType: 'ProfileList' });
    const commands = await device.processCommands();
    expect(commands.map((command) => command.CommandUUID)).to.deep.equal([remove]);
    const connect = await engines.event('mdm.Connect', (e) => e.acknowledge_event?.command_uuid === remove);
    expect(connect.acknowledge_event?.status).to.equal('Acknowledged');
    await engines.event('mdm.CheckOut', (e) => e.checkin_event?.udid === device.udid);
    expect(device.enrolled).to.equal(false);
  });

  it('no CheckOut when the profile does not ask for one', async () => {
    const device = newDevice();
    await device.enrol(engines.serveProfile('quiet', { checkOutWhenRemoved: false }));
    expect(await device.removeProfile()).to.equal(undefined);
  });

  it('a wrong challenge: scepserver refuses, getIdentity throws', async () => {
    const device = newDevice();
    await device.openLink(engines.serveProfile('wrong-challenge', { challenge: 'wrong' }));
    let error: Error | undefined;
    await device.getIdentity().catch((e: Error) => {
      error = e;
    });
    expect(error?.message).to.match(/SCEP enrolment refused/);
    expect(device.certificate).to.equal(undefined);
  });

  it('a self-made certificate, not from the CA: NanoMDM refuses the check-in', async () => {
    const device = newDevice();
    await device.openLink(engines.serveProfile('forged'));
    device.useIdentity(await selfSignedIdentity('forged'));
    const answer = await device.checkIn('Authenticate');
    expect(answer.status).to.equal(400);
    expect(engines.webhook.some((event) => event.checkin_event?.udid === device.udid)).to.equal(false);
  });

  it('a profile without SignMessage: the device sends no Mdm-Signature, NanoMDM refuses', async () => {
    const device = newDevice();
    let error: unknown;
    await device.enrol(engines.serveProfile('unsigned', { signMessage: false })).catch((e: unknown) => {
      error = e;
    });
    expect(error).to.be.instanceOf(DeviceHttpError);
    expect((error as DeviceHttpError).status).to.equal(400);
  });

  it('another device identity: NanoMDM refuses (500) a certificate bound to another enrolment', async () => {
    const owner = newDevice();
    await owner.enrol(engines.serveProfile('owner', { enrolment: 'e4' }));
    const thief = newDevice();
    await thief.openLink(engines.serveProfile('owner', { enrolment: 'e4' }));
    thief.useIdentity(owner.identity as { keyPem: string; certificatePem: string });
    // certauth's ErrNoCertReuse is no HTTPStatusError: NanoMDM answers 500, not a 4xx.
    const answer = await thief.checkIn('Authenticate');
    expect(answer.status).to.equal(500);
  });

  describe('the link', () => {
    it('throws with the status and body on a non-200', async () => {
      const device = newDevice();
      let error: unknown;
      await device.openLink(`${engines.profilesUrl}/enrol/nothing`).catch((e: unknown) => {
        error = e;
      });
      expect(error).to.be.instanceOf(DeviceHttpError);
      expect(error).to.include({ status: 404, body: 'no such link' });
    });

    it('throws on another Content-Type (Safari would show the file, not install it)', async () => {
      engines.profiles.set('/enrol/html', { contentType: 'text/html', body: '<html></html>' });
      const device = newDevice();
      let error: Error | undefined;
      await device.openLink(`${engines.profilesUrl}/enrol/html`).catch((e: Error) => {
        error = e;
      });
      expect(error?.message).to.match(/Content-Type text\/html/);
    });

    it('reads a signed profile (CMS SignedData around the plist)', async () => {
      const link = engines.serveProfile('signed', { enrolment: 'e5' });
      const plain = engines.profiles.get('/enrol/signed')?.body ?? '';
      const signer = await selfSignedIdentity('profile-signer');
      const dir = mkdtempSync(path.join(os.tmpdir(), 'apple-signed-profile-'));
      try {
        writeFileSync(path.join(dir, 'key.pem'), signer.keyPem);
        writeFileSync(path.join(dir, 'cert.pem'), signer.certificatePem);
        const signed = execFileSync(
          'openssl',
          ['cms', '-sign', '-nodetach', '-binary', '-outform', 'DER', '-signer', 'cert.pem', '-inkey', 'key.pem'],
          { cwd: dir, input: plain },
        );
        engines.profiles.set('/enrol/signed', { contentType: 'application/x-apple-aspen-config', body: signed });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const device = newDevice();
      await device.enrol(link);
      expect(device.profile?.PayloadIdentifier).to.equal('test.enrolment.signed');
      await engines.event('mdm.TokenUpdate', (e) => e.checkin_event?.udid === device.udid);
    });

    it('throws on a profile the device would call invalid', async () => {
      const body = build({ PayloadType: 'Configuration', PayloadVersion: 1 } as Record<string, PlistValue>);
      engines.profiles.set('/enrol/invalid', { contentType: 'application/x-apple-aspen-config', body });
      const device = newDevice();
      let error: Error | undefined;
      await device.openLink(`${engines.profilesUrl}/enrol/invalid`).catch((e: Error) => {
        error = e;
      });
      expect(error?.message).to.match(/invalid profile/);
    });
  });
});
