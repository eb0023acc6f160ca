import { spawn } from 'node:child_process';
import { createPrivateKey, generateKeyPair, randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build, type PlistObject, type PlistValue, parse } from 'plist';

/**
 * A simulated Apple device (iPhone or Mac) enrolling in MDM the way the real one does, against the real engines
 * (NanoMDM, micromdm/scep's scepserver) or anything in front of them:
 *
 * 1. Safari opens the provisioning link and receives the enrolment profile (`application/x-apple-aspen-config`);
 * 2. installing it, the device generates a key and gets its identity certificate by SCEP (the real `scepclient`)
 *    from the profile's `com.apple.security.scep` payload;
 * 3. it checks in to the `com.apple.mdm` payload's CheckInURL (ServerURL if none): Authenticate, then TokenUpdate;
 * 4. woken by a push, it connects to ServerURL and answers commands until the server has none left;
 * 5. when the profile is removed (by the owner or by a RemoveProfile command), it sends CheckOut if the payload says
 *    CheckOutWhenRemoved.
 *
 * Messages carry the `Mdm-Signature` header (a detached CMS SignedData over the exact body, signed with the identity,
 * its certificate included, no signed attributes: the shape real devices send) only when the MDM payload says
 * `SignMessage`, as on a real device; without it a real device authenticates by TLS client certificate instead, which
 * this one (and our plain-HTTP setup) has not. Message keys per platform follow apple/device-management
 * (mdm/checkin/*.yaml): an iPhone's Authenticate has no Model, ModelName or DeviceName (macOS only); its TokenUpdate
 * has an UnlockToken, a Mac's has not.
 *
 * Not simulated: https and certificate pinning (the tests run plain http; a real device refuses an http ServerURL),
 * profile signatures' trust (a signed profile is unwrapped, its signature checked but not its chain), push, the user
 * channel (beyond a check-in with its keys, `checkIn`'s `extra`), access rights beyond the profile commands.
 */

export type Platform = 'iOS' | 'macOS';

export interface SimulatedAppleDeviceOptions {
  udid?: string;
  serialNumber?: string;
  /** The device's model (Authenticate `Model` on macOS, e.g. `MacBookPro18,3`; `MQ0T3` on an iPhone). */
  model?: string;
  /** `iPhone15,2`, `MacBookPro18,3`…: also decides the platform (iPhone, iPad, iPod: iOS; otherwise macOS). */
  productName?: string;
  /** `iPhone`, `MacBook Pro`… */
  modelName?: string;
  osVersion?: string;
  buildVersion?: string;
  deviceName?: string;
  /** Where the keys, certificates and scepclient's files go; a new temporary directory by default. */
  workDir?: string;
}

/** One payload of a configuration profile (`PayloadContent` item). */
export interface ProfilePayload extends PlistObject {
  readonly PayloadType: string;
  readonly PayloadIdentifier: string;
  readonly PayloadUUID: string;
  readonly PayloadVersion: number;
}

/** A configuration profile (top level `PayloadType` `Configuration`). */
export interface ConfigurationProfile extends PlistObject {
  readonly PayloadType: string;
  readonly PayloadIdentifier: string;
  readonly PayloadUUID: string;
  readonly PayloadVersion: number;
  readonly PayloadContent: readonly ProfilePayload[];
}

/** The enrolment profile: a configuration profile with a `com.apple.mdm` payload and its identity's SCEP payload. */
export type EnrolmentProfile = ConfigurationProfile;

/** A command as the server sends it. */
export interface MdmCommand extends PlistObject {
  readonly CommandUUID: string;
  readonly Command: PlistObject & { readonly RequestType: string };
}

export interface ErrorChainItem extends PlistObject {
  readonly ErrorCode: number;
  readonly ErrorDomain: string;
  readonly LocalizedDescription: string;
}

export type CommandReport =
  | { status: 'Idle' }
  | { status: 'Acknowledged'; commandUuid: string }
  | { status: 'NotNow'; commandUuid: string }
  | { status: 'Error'; commandUuid: string; errorChain: ErrorChainItem[] };

/** How the device answers a command: acknowledged (and carried out), not now, or an error. */
export type CommandAnswer = 'Acknowledged' | 'NotNow' | { errorChain: ErrorChainItem[] };

export type CheckInMessageType = 'Authenticate' | 'TokenUpdate' | 'CheckOut';

export interface HttpAnswer {
  status: number;
  body: string;
}

/** An HTTP answer the device could not go on with; carries the status and the body. */
export class DeviceHttpError extends Error {
  readonly status: number;
  readonly body: string;
  constructor(what: string, status: number, body: string) {
    super(`${what}: HTTP ${status}${body ? ` ${body.slice(0, 1000)}` : ''}`);
    this.name = 'DeviceHttpError';
    this.status = status;
    this.body = body;
  }
}

const PROFILE_CONTENT_TYPE = 'application/x-apple-aspen-config';
const CHECKIN_CONTENT_TYPE = 'application/x-apple-aspen-mdm-checkin';
const CONNECT_CONTENT_TYPE = 'application/x-apple-aspen-mdm';
const MDM_USER_AGENT = 'MDM/1.0';
/** A bound on one processCommands round, against a server that keeps answering with commands. */
const MAX_COMMANDS_PER_ROUND = 200;
const SCEPCLIENT_TIMEOUT_MS = 30_000;

/** AccessRights bits (com.apple.mdm.yaml). */
const ACCESS_INSPECT_PROFILES = 1;
const ACCESS_INSTALL_REMOVE_PROFILES = 2;

/** scepclient's flag for each subject attribute Apple's `Subject` may name (short name or OID). */
const SUBJECT_FLAGS: Readonly<Record<string, string>> = {
  CN: '-cn',
  '2.5.4.3': '-cn',
  O: '-organization',
  '2.5.4.10': '-organization',
  OU: '-ou',
  '2.5.4.11': '-ou',
  L: '-locality',
  '2.5.4.7': '-locality',
  ST: '-province',
  '2.5.4.8': '-province',
  C: '-country',
  '2.5.4.6': '-country',
};

function scepclientPath(): string {
  try {
    const { findAppleEngines } = require('../../scripts/apple-engines-path.js') as {
      findAppleEngines(): { scepclient?: string };
    };
    const found = findAppleEngines().scepclient;
    if (found) return found;
  } catch {
    // the shared lookup is not there: the project-local build below
  }
  return path.join(__dirname, '..', '..', '.tools', 'bin', 'scepclient');
}

interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs a program to its end (killed after timeoutMs), feeding it input; never throws for a non-zero exit. */
function run(file: string, args: string[], options: { input?: Buffer; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => {
      // the program may exit before reading all of its input; its exit code tells
    });
    child.stdin.end(options.input ?? Buffer.alloc(0));
  });
}

function isDict(value: PlistValue | undefined): value is PlistObject {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !Buffer.isBuffer(value) &&
    !(value instanceof Date)
  );
}

/** The plist inside a profile body: plain XML, or the content of a CMS SignedData (a signed profile). */
async function profileXml(body: Buffer): Promise<string> {
  const head = body
    .subarray(0, 64)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  if (head.startsWith('<')) return body.toString('utf8');
  if (head.startsWith('bplist')) throw new Error('binary property lists are not supported by the simulated device');
  if (body[0] === 0x30) {
    const verified = await run('openssl', ['cms', '-verify', '-noverify', '-binary', '-inform', 'DER'], {
      input: body,
    });
    if (verified.code !== 0) throw new Error(`the signed profile does not verify: ${verified.stderr.trim()}`);
    return verified.stdout.toString('utf8');
  }
  throw new Error('not a property list nor a signed profile');
}

/** Parses and checks a configuration profile as the device's profile installer would; throws when it is invalid. */
export async function parseProfile(body: Buffer): Promise<ConfigurationProfile> {
  let value: PlistValue;
  try {
    value = parse(await profileXml(body));
  } catch (error) {
    throw new Error(`invalid profile: ${(error as Error).message}`);
  }
  if (!isDict(value)) throw new Error('invalid profile: not a dictionary');
  const missing = (dict: PlistObject, where: string) => {
    for (const key of ['PayloadType', 'PayloadIdentifier', 'PayloadUUID']) {
      if (typeof dict[key] !== 'string' || dict[key] === '') throw new Error(`invalid profile: ${where} has no ${key}`);
    }
    if (dict.PayloadVersion !== 1) throw new Error(`invalid profile: ${where}'s PayloadVersion is not 1`);
  };
  missing(value, 'the profile');
  if (value.PayloadType !== 'Configuration') throw new Error('invalid profile: PayloadType is not Configuration');
  const content = value.PayloadContent ?? [];
  if (!Array.isArray(content)) throw new Error('invalid profile: PayloadContent is not an array');
  for (const [index, payload] of content.entries()) {
    if (!isDict(payload)) throw new Error(`invalid profile: payload ${index} is not a dictionary`);
    missing(payload, `payload ${index}`);
  }
  return { ...value, PayloadContent: content } as unknown as ConfigurationProfile;
}

/** The MDM and SCEP payloads of an enrolment profile, checked as the device does before installing it. */
function enrolmentPayloads(profile: EnrolmentProfile): { mdm: ProfilePayload; scep: PlistObject } {
  const mdm = profile.PayloadContent.filter((payload) => payload.PayloadType === 'com.apple.mdm');
  if (mdm.length !== 1) throw new Error(`the profile has ${mdm.length} com.apple.mdm payloads, not one`);
  const [payload] = mdm;
  for (const key of ['Topic', 'ServerURL', 'IdentityCertificateUUID']) {
    if (typeof payload[key] !== 'string' || payload[key] === '') {
      throw new Error(`the com.apple.mdm payload has no ${key}`);
    }
  }
  if (!(payload.Topic as string).startsWith('com.apple.mgmt.')) {
    throw new Error(`the MDM Topic ${payload.Topic} does not start with com.apple.mgmt.`);
  }
  if (payload.AccessRights !== undefined && (typeof payload.AccessRights !== 'number' || payload.AccessRights <= 0)) {
    throw new Error('the com.apple.mdm payload has an invalid AccessRights');
  }
  const identity = profile.PayloadContent.find((item) => item.PayloadUUID === payload.IdentityCertificateUUID);
  if (!identity) throw new Error('no payload of the profile has the MDM IdentityCertificateUUID');
  if (identity.PayloadType !== 'com.apple.security.scep') {
    throw new Error(`the identity payload is ${identity.PayloadType}: only com.apple.security.scep is simulated`);
  }
  const scep = identity.PayloadContent;
  if (!isDict(scep) || typeof scep.URL !== 'string') throw new Error('the SCEP payload has no URL');
  return { mdm: payload, scep };
}

/** scepclient's subject flags from the SCEP payload's `Subject` (`[[["CN", "x"]], [["O", "y"]]]`). */
function subjectFlags(subject: PlistValue | undefined): string[] {
  // scepclient puts its own defaults (O scep-client, OU MDM, C US) where no value is given: blank them.
  const values = new Map<string, string>([
    ['-cn', ''],
    ['-organization', ''],
    ['-ou', ''],
    ['-country', ''],
  ]);
  const seen = new Set<string>();
  if (subject !== undefined) {
    if (!Array.isArray(subject)) throw new Error('the SCEP Subject is not an array');
    for (const rdn of subject) {
      if (!Array.isArray(rdn)) throw new Error('the SCEP Subject holds a non-array');
      for (const pair of rdn) {
        if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
          throw new Error('the SCEP Subject holds a pair that is not two strings');
        }
        const flag = SUBJECT_FLAGS[pair[0]];
        if (!flag) throw new Error(`the SCEP Subject attribute ${pair[0]} is not supported by scepclient`);
        if (seen.has(flag)) throw new Error(`the SCEP Subject repeats ${pair[0]}: not supported by scepclient`);
        seen.add(flag);
        values.set(flag, pair[1]);
      }
    }
  }
  return [...values].flat();
}

function randomSerialNumber(): string {
  const alphabet = 'CDFGHJKLMNPQRTVWXY0123456789';
  return Array.from(randomBytes(10), (byte) => alphabet[byte % alphabet.length]).join('');
}

/**
 * A self-signed identity (key and certificate, PEM) made with openssl: not issued by any SCEP CA. A device's by
 * default (client authentication); another extension makes it, say, a root (`basicConstraints=critical,CA:TRUE`).
 */
export async function selfSignedIdentity(
  cn = 'forged-device',
  extension = 'extendedKeyUsage=clientAuth',
): Promise<{ keyPem: string; certificatePem: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'apple-forged-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    const made = await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      extension,
    ]);
    if (made.code !== 0) throw new Error(`openssl req: ${made.stderr}`);
    return { keyPem: readFileSync(keyFile, 'utf8'), certificatePem: readFileSync(certFile, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Identity {
  keyFile: string;
  certificateFile: string;
  certificate: X509Certificate;
}

export class SimulatedAppleDevice {
  readonly udid: string;
  readonly serialNumber: string;
  readonly platform: Platform;
  readonly productName: string;
  readonly model: string;
  readonly modelName: string;
  readonly osVersion: string;
  readonly buildVersion: string;
  readonly deviceName: string;
  readonly workDir: string;
  /** The push token and magic the device reports in TokenUpdate (stable for the device's life). */
  readonly pushToken: Buffer = randomBytes(32);
  readonly pushMagic: string = randomUUID().toUpperCase();
  readonly unlockToken: Buffer | undefined;

  /** The profile the last openLink downloaded (the enrolment profile, once installed). */
  profile: EnrolmentProfile | undefined;
  /** Whether the enrolment profile is installed (a TokenUpdate answered 200, no removal since). */
  enrolled = false;
  /** Profiles installed by InstallProfile commands, by PayloadIdentifier. */
  readonly installedProfiles = new Map<string, ConfigurationProfile>();

  #identity: Identity | undefined;
  #ownsWorkDir: boolean;
  #attempt = 0;

  constructor(options: SimulatedAppleDeviceOptions = {}) {
    const productName = options.productName ?? 'iPhone15,2';
    this.productName = productName;
    this.platform = /^(iPhone|iPad|iPod)/.test(productName) ? 'iOS' : 'macOS';
    const ios = this.platform === 'iOS';
    this.udid =
      options.udid ?? (ios ? `00008120-${randomBytes(8).toString('hex').toUpperCase()}` : randomUUID().toUpperCase());
    this.serialNumber = options.serialNumber ?? randomSerialNumber();
    this.model = options.model ?? (ios ? 'MQ0T3' : productName);
    this.modelName =
      options.modelName ?? (ios ? (productName.match(/^(iPhone|iPad|iPod)/)?.[1] ?? 'iPhone') : 'MacBook Pro');
    this.osVersion = options.osVersion ?? (ios ? '17.5.1' : '14.5');
    this.buildVersion = options.buildVersion ?? (ios ? '21F90' : '23F79');
    this.deviceName = options.deviceName ?? (ios ? this.modelName : `Test ${this.modelName}`);
    this.unlockToken = ios ? randomBytes(64) : undefined;
    this.#ownsWorkDir = options.workDir === undefined;
    this.workDir = options.workDir ?? mkdtempSync(path.join(os.tmpdir(), 'apple-device-'));
    mkdirSync(this.workDir, { recursive: true });
  }

  /** The identity certificate (after getIdentity), as NanoMDM sees it in Mdm-Signature. */
  get certificate(): X509Certificate | undefined {
    return this.#identity?.certificate;
  }

  /** The identity as PEM, to hand to another device (a copied identity) or inspect. */
  get identity(): { keyPem: string; certificatePem: string } | undefined {
    const identity = this.#identity;
    if (!identity) return undefined;
    return {
      keyPem: readFileSync(identity.keyFile, 'utf8'),
      certificatePem: readFileSync(identity.certificateFile, 'utf8'),
    };
  }

  /** GETs the provisioning link as Safari does; keeps and returns the profile. */
  async openLink(url: string): Promise<EnrolmentProfile> {
    const response = await fetch(url, {
      headers: {
        'User-Agent':
          this.platform === 'iOS'
            ? `Mozilla/5.0 (iPhone; CPU iPhone OS ${this.osVersion.replaceAll('.', '_')} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1`
            : 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
        Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
      },
    });
    const body = Buffer.from(await response.arrayBuffer());
    if (response.status !== 200) throw new DeviceHttpError(`GET ${url}`, response.status, body.toString('utf8'));
    const type = (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (type !== PROFILE_CONTENT_TYPE) {
      throw new Error(`GET ${url}: Content-Type ${type || '(none)'}, not ${PROFILE_CONTENT_TYPE}: Safari shows it`);
    }
    this.profile = await parseProfile(body);
    return this.profile;
  }

  /**
   * Gets the identity the profile's SCEP payload describes: a new RSA key (Keysize, 1024 by default as on Apple
   * devices) and a certificate from the real scepclient. Throws when the SCEP server gives no certificate.
   */
  async getIdentity(): Promise<void> {
    const profile = this.#requireProfile();
    const { scep } = enrolmentPayloads(profile);
    const keysize = scep.Keysize ?? 1024;
    if (keysize !== 1024 && keysize !== 2048 && keysize !== 4096) throw new Error(`SCEP Keysize ${keysize} invalid`);
    if (scep['Key Type'] !== undefined && scep['Key Type'] !== 'RSA') throw new Error('SCEP Key Type is not RSA');
    const flags = subjectFlags(scep.Subject);
    const altNames = scep.SubjectAltName;
    if (isDict(altNames) && typeof altNames.dNSName === 'string') flags.push('-dnsname', altNames.dNSName);

    // A fresh directory each time: scepclient reuses a csr.pem it finds, and renews when the certificate exists.
    this.#attempt += 1;
    const dir = path.join(this.workDir, `identity-${this.#attempt}`);
    mkdirSync(dir, { recursive: true });
    const keyFile = path.join(dir, 'key.pem');
    const certificateFile = path.join(dir, 'cert.pem');
    const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: keysize });
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });

    const args = ['-server-url', scep.URL as string, '-private-key', keyFile, '-certificate', certificateFile];
    args.push('-keySize', String(keysize), ...flags);
    if (typeof scep.Challenge === 'string' && scep.Challenge !== '') args.push('-challenge', scep.Challenge);
    const result = await run(scepclientPath(), args, { timeoutMs: SCEPCLIENT_TIMEOUT_MS });
    if (result.code !== 0 || !existsSync(certificateFile)) {
      const output = `${result.stdout.toString('utf8')}${result.stderr}`.trim();
      throw new Error(`SCEP enrolment refused (scepclient exit ${result.code}): ${output}`);
    }
    this.#setIdentity(keyFile, certificateFile);
  }

  /** Uses another identity (PEM key and certificate): a copied one, or a self-made one (selfSignedIdentity). */
  useIdentity(identity: { keyPem: string; certificatePem: string }): void {
    this.#attempt += 1;
    const dir = path.join(this.workDir, `identity-${this.#attempt}`);
    mkdirSync(dir, { recursive: true });
    const keyFile = path.join(dir, 'key.pem');
    const certificateFile = path.join(dir, 'cert.pem');
    writeFileSync(keyFile, identity.keyPem, { mode: 0o600 });
    writeFileSync(certificateFile, identity.certificatePem);
    this.#setIdentity(keyFile, certificateFile);
  }

  /**
   * PUTs one check-in message to the profile's CheckInURL (ServerURL if none), signed if the profile says so; `extra`
   * adds keys (a Mac's user channel: UserID, UserShortName, UserLongName).
   */
  async checkIn(messageType: CheckInMessageType, extra: Record<string, PlistValue> = {}): Promise<HttpAnswer> {
    const profile = this.#requireProfile();
    const { mdm } = enrolmentPayloads(profile);
    const message: Record<string, PlistValue> = {
      MessageType: messageType,
      Topic: mdm.Topic as string,
      UDID: this.udid,
    };
    if (messageType === 'Authenticate') {
      Object.assign(message, {
        SerialNumber: this.serialNumber,
        ProductName: this.productName,
        OSVersion: this.osVersion,
        BuildVersion: this.buildVersion,
      });
      // Model, ModelName and DeviceName are macOS-only in Authenticate (authenticate.yaml: iOS n/a).
      if (this.platform === 'macOS') {
        Object.assign(message, { Model: this.model, ModelName: this.modelName, DeviceName: this.deviceName });
      }
    } else if (messageType === 'TokenUpdate') {
      Object.assign(message, { Token: this.pushToken, PushMagic: this.pushMagic, AwaitingConfiguration: false });
      if (this.unlockToken) message.UnlockToken = this.unlockToken;
    }
    Object.assign(message, extra);
    const url = (typeof mdm.CheckInURL === 'string' && mdm.CheckInURL) || (mdm.ServerURL as string);
    const answer = await this.#put(url, CHECKIN_CONTENT_TYPE, message);
    if (messageType === 'TokenUpdate' && extra.UserID === undefined && answer.status === 200) this.enrolled = true;
    return answer;
  }

  /** Installs the profile at the link: openLink, getIdentity, Authenticate and TokenUpdate (each must answer 200). */
  async enrol(url: string): Promise<void> {
    await this.openLink(url);
    await this.getIdentity();
    for (const messageType of ['Authenticate', 'TokenUpdate'] as const) {
      const answer = await this.checkIn(messageType);
      if (answer.status !== 200) throw new DeviceHttpError(`${messageType} check-in`, answer.status, answer.body);
    }
  }

  /** One signed PUT to ServerURL reporting a status; returns the next command (none on an empty body). */
  async connect(
    report: CommandReport,
    extra: Record<string, PlistValue> = {},
  ): Promise<HttpAnswer & { command?: MdmCommand }> {
    const profile = this.#requireProfile();
    const { mdm } = enrolmentPayloads(profile);
    const message: Record<string, PlistValue> = { ...extra, UDID: this.udid, Status: report.status };
    if (report.status !== 'Idle') message.CommandUUID = report.commandUuid;
    if (report.status === 'Error') message.ErrorChain = report.errorChain;
    const answer = await this.#put(mdm.ServerURL as string, CONNECT_CONTENT_TYPE, message);
    if (answer.status !== 200 || answer.body.trim() === '') return answer;
    return { ...answer, command: parseCommand(answer.body) };
  }

  /**
   * Polls like a device woken by a push: Idle, then answers each command (answer(command), Acknowledged by default)
   * until the server has no more; returns the commands received. Carries out what it acknowledges: InstallProfile
   * (kept in installedProfiles), RemoveProfile (of the enrolment profile: unenrols and sends CheckOut if
   * CheckOutWhenRemoved, and stops, as a real device does), ProfileList and DeviceInformation (answered with data).
   * Throws on a non-200 answer, on an InstallProfile payload that is no valid profile, and on a profile command the
   * enrolment profile's AccessRights do not allow.
   */
  async processCommands(
    answer: (command: MdmCommand) => CommandAnswer | Promise<CommandAnswer> = () => 'Acknowledged',
  ): Promise<MdmCommand[]> {
    const received: MdmCommand[] = [];
    let report: CommandReport = { status: 'Idle' };
    let extra: Record<string, PlistValue> = {};
    for (;;) {
      const reply = await this.connect(report, extra);
      if (reply.status !== 200) throw new DeviceHttpError(`connect (${report.status})`, reply.status, reply.body);
      const command = reply.command;
      if (!command) return received;
      received.push(command);
      if (received.length > MAX_COMMANDS_PER_ROUND) {
        throw new Error(`more than ${MAX_COMMANDS_PER_ROUND} commands in one round: the server repeats itself?`);
      }
      const decision = await answer(command);
      const uuid = command.CommandUUID;
      extra = {};
      if (decision === 'NotNow') {
        report = { status: 'NotNow', commandUuid: uuid };
        continue;
      }
      if (decision !== 'Acknowledged') {
        report = { status: 'Error', commandUuid: uuid, errorChain: decision.errorChain };
        continue;
      }
      report = { status: 'Acknowledged', commandUuid: uuid };
      const removesEnrolment =
        command.Command.RequestType === 'RemoveProfile' &&
        command.Command.Identifier === this.#requireProfile().PayloadIdentifier;
      if (removesEnrolment) {
        // The device acknowledges, then removes the MDM profile (and what it installed) and checks out: no more
        // commands from this server whatever its answer.
        const acknowledged = await this.connect(report);
        if (acknowledged.status !== 200) {
          throw new DeviceHttpError('connect (Acknowledged)', acknowledged.status, acknowledged.body);
        }
        await this.#unenrol();
        return received;
      }
      extra = await this.#carryOut(command);
    }
  }

  /**
   * The owner removes the management profile in Settings: the device sends CheckOut when the profile says
   * CheckOutWhenRemoved (returning the answer; undefined when it sends none) and forgets the enrolment.
   */
  async removeProfile(): Promise<HttpAnswer | undefined> {
    if (!this.enrolled) throw new Error('no management profile is installed');
    return this.#unenrol();
  }

  /** Removes the work directory if the device made it. */
  cleanup(): void {
    if (this.#ownsWorkDir) rmSync(this.workDir, { recursive: true, force: true });
  }

  async #unenrol(): Promise<HttpAnswer | undefined> {
    const { mdm } = enrolmentPayloads(this.#requireProfile());
    const answer = mdm.CheckOutWhenRemoved === true ? await this.checkIn('CheckOut') : undefined;
    this.enrolled = false;
    this.installedProfiles.clear();
    this.#identity = undefined;
    return answer;
  }

  /** Carries out an acknowledged command; returns the keys its report adds (ProfileList, QueryResponses). */
  async #carryOut(command: MdmCommand): Promise<Record<string, PlistValue>> {
    const { mdm } = enrolmentPayloads(this.#requireProfile());
    const rights = typeof mdm.AccessRights === 'number' ? mdm.AccessRights : undefined;
    const requireRight = (bit: number) => {
      if (rights !== undefined && (rights & bit) === 0) {
        throw new Error(`${command.Command.RequestType}: the enrolment profile's AccessRights (${rights}) lack ${bit}`);
      }
    };
    const request = command.Command;
    switch (request.RequestType) {
      case 'InstallProfile': {
        requireRight(ACCESS_INSTALL_REMOVE_PROFILES);
        if (!Buffer.isBuffer(request.Payload))
          throw new Error(`InstallProfile ${command.CommandUUID}: no Payload data`);
        const profile = await parseProfile(request.Payload).catch((error: Error) => {
          throw new Error(`InstallProfile ${command.CommandUUID}: ${error.message}`);
        });
        this.installedProfiles.set(profile.PayloadIdentifier, profile);
        return {};
      }
      case 'RemoveProfile':
        requireRight(ACCESS_INSTALL_REMOVE_PROFILES);
        if (typeof request.Identifier === 'string') this.installedProfiles.delete(request.Identifier);
        return {};
      case 'ProfileList': {
        requireRight(ACCESS_INSPECT_PROFILES);
        // The enrolment profile was installed by the owner (not managed); the others by MDM.
        const profiles = [
          profileListItem(this.#requireProfile(), false),
          ...[...this.installedProfiles.values()].map((profile) => profileListItem(profile, true)),
        ];
        return { ProfileList: profiles };
      }
      case 'DeviceInformation': {
        const known: Record<string, PlistValue> = {
          UDID: this.udid,
          SerialNumber: this.serialNumber,
          ProductName: this.productName,
          Model: this.model,
          ModelName: this.modelName,
          OSVersion: this.osVersion,
          BuildVersion: this.buildVersion,
          DeviceName: this.deviceName,
        };
        const queries = Array.isArray(request.Queries) ? request.Queries : Object.keys(known);
        const responses: Record<string, PlistValue> = {};
        for (const query of queries) {
          if (typeof query === 'string' && query in known) responses[query] = known[query];
        }
        return { QueryResponses: responses };
      }
      default:
        return {};
    }
  }

  #setIdentity(keyFile: string, certificateFile: string): void {
    const certificate = new X509Certificate(readFileSync(certificateFile));
    if (!certificate.checkPrivateKey(createPrivateKey(readFileSync(keyFile)))) {
      throw new Error('the identity certificate is not for the identity key');
    }
    this.#identity = { keyFile, certificateFile, certificate };
  }

  #requireProfile(): EnrolmentProfile {
    if (!this.profile) throw new Error('no enrolment profile: openLink first');
    return this.profile;
  }

  /** Detached CMS SignedData over body with the identity, certificate included, no signed attributes (DER). */
  async #sign(body: Buffer): Promise<Buffer> {
    const identity = this.#identity;
    if (!identity) throw new Error('no identity: getIdentity first');
    const signed = await run(
      'openssl',
      [
        'cms',
        '-sign',
        '-binary',
        '-noattr',
        '-md',
        'sha256',
        '-signer',
        identity.certificateFile,
        '-inkey',
        identity.keyFile,
        '-outform',
        'DER',
      ],
      { input: body },
    );
    if (signed.code !== 0) throw new Error(`openssl cms -sign: ${signed.stderr.trim()}`);
    return signed.stdout;
  }

  async #put(url: string, contentType: string, message: Record<string, PlistValue>): Promise<HttpAnswer> {
    const profile = this.#requireProfile();
    const { mdm } = enrolmentPayloads(profile);
    if (!this.#identity) throw new Error('no identity: getIdentity first');
    const body = Buffer.from(build(message), 'utf8');
    const headers: Record<string, string> = { 'Content-Type': contentType, 'User-Agent': MDM_USER_AGENT };
    if (mdm.SignMessage === true) headers['Mdm-Signature'] = (await this.#sign(body)).toString('base64');
    const response = await fetch(url, { method: 'PUT', headers, body });
    return { status: response.status, body: await response.text() };
  }
}

function parseCommand(body: string): MdmCommand {
  let value: PlistValue;
  try {
    value = parse(body);
  } catch (error) {
    throw new Error(`the server's command is not a property list: ${(error as Error).message}`);
  }
  if (!isDict(value) || typeof value.CommandUUID !== 'string' || !isDict(value.Command)) {
    throw new Error(`the server's answer is not a command: ${body.slice(0, 500)}`);
  }
  if (typeof value.Command.RequestType !== 'string') throw new Error('the command has no RequestType');
  return value as MdmCommand;
}

/** A ProfileList item (profilelist.yaml): the profile's metadata and its payloads' identities. */
function profileListItem(profile: ConfigurationProfile, managed: boolean): PlistObject {
  const item: Record<string, PlistValue> = {
    PayloadIdentifier: profile.PayloadIdentifier,
    PayloadUUID: profile.PayloadUUID,
    PayloadVersion: profile.PayloadVersion,
    IsManaged: managed,
    PayloadContent: profile.PayloadContent.map((payload) => ({
      PayloadIdentifier: payload.PayloadIdentifier,
      PayloadType: payload.PayloadType,
      PayloadVersion: payload.PayloadVersion,
      ...(typeof payload.PayloadDisplayName === 'string' && { PayloadDisplayName: payload.PayloadDisplayName }),
    })),
  };
  for (const key of ['PayloadDisplayName', 'PayloadDescription', 'PayloadOrganization', 'PayloadRemovalDisallowed']) {
    if (profile[key] !== undefined) item[key] = profile[key];
  }
  return item;
}

/** A maker of simulated devices for a mocha suite (call it inside the `describe`): each is cleaned up after the suite. */
export function simulatedDevices(): (options?: SimulatedAppleDeviceOptions) => SimulatedAppleDevice {
  const made: SimulatedAppleDevice[] = [];
  after(() => {
    for (const device of made) device.cleanup();
  });
  return (options) => {
    const device = new SimulatedAppleDevice(options);
    made.push(device);
    return device;
  };
}
