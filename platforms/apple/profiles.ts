import { createHash } from 'node:crypto';
import { build, type PlistObject, type PlistValue } from 'plist';
import type { AppleManagement } from './settings';

/**
 * The property lists Apple devices get from us: the enrolment profile behind a provisioning link, the profile of a
 * device template's settings, and the MDM commands that install and remove profiles. Every identifier and UUID is
 * derived from the enrolment id, so the same enrolment always yields the same bytes: a profile downloaded twice replaces
 * itself instead of installing twice, and a retried activity queues a command the device already knows.
 */

// Fixed rather than taken from PUBLIC_URL: after a change of URL, RemoveProfile must still name what was installed.
const ID_ROOT = 'self-service-setup';

export interface EnrolmentProfileInput {
  enrolmentId: string;
  deviceName: string;
  organisationName: string;
  scep: { url: string; challenge: string /** the certificate's CN */; subject: string };
  mdm: { serverUrl: string; checkInUrl: string; topic: string };
}

export interface SettingsProfileInput {
  enrolmentId: string;
  organisationName: string;
  templateName: string;
  management: AppleManagement;
}

export type CommandKind = 'install-settings' | 'remove-enrolment';

/** The enrolment profile's PayloadIdentifier: what RemoveProfile names to unenrol the device. */
export function enrolmentProfileIdentifier(enrolmentId: string): string {
  return `${ID_ROOT}.enrolment.${enrolmentId}`;
}

export function enrolmentProfile({
  enrolmentId,
  deviceName,
  organisationName,
  scep,
  mdm,
}: EnrolmentProfileInput): string {
  const identifier = enrolmentProfileIdentifier(enrolmentId);
  const scepUuid = nameUuid('enrolment-scep', enrolmentId);
  return profile({
    identifier,
    uuid: nameUuid('enrolment-profile', enrolmentId),
    displayName: `${organisationName}: ${deviceName}`,
    organisationName,
    description: `Lets ${organisationName} manage this device (${deviceName}): it gets its own certificate, then checks in with ${organisationName}'s device management. Removing this profile ends it.`,
    payloads: [
      payload('com.apple.security.scep', `${identifier}.scep`, scepUuid, 'Device identity', {
        PayloadContent: {
          URL: scep.url,
          Name: ID_ROOT,
          Subject: [[['CN', scep.subject]]],
          Challenge: scep.challenge,
          Keysize: 2048,
          'Key Type': 'RSA',
          // Signing (1) for the Mdm-Signature header, encryption (4) for profiles encrypted to the device.
          'Key Usage': 5,
        },
      }),
      payload('com.apple.mdm', `${identifier}.mdm`, nameUuid('enrolment-mdm', enrolmentId), 'Device management', {
        IdentityCertificateUUID: scepUuid,
        Topic: mdm.topic,
        ServerURL: mdm.serverUrl,
        CheckInURL: mdm.checkInUrl,
        // Our API forwards to NanoMDM without the TLS client certificate; the signature header carries the identity.
        SignMessage: true,
        AccessRights: 8191,
        // The CheckOut is how we learn the owner removed the profile.
        CheckOutWhenRemoved: true,
        // Without it a Mac opens no user channel (Apple: required for macOS and Shared iPad).
        ServerCapabilities: ['com.apple.mdm.per-user-connections'],
      }),
    ],
  });
}

/** The template's settings as one profile, a payload per part; undefined when the template sets nothing. */
export function settingsProfile({
  enrolmentId,
  organisationName,
  templateName,
  management,
}: SettingsProfileInput): string | undefined {
  const identifier = `${ID_ROOT}.settings.${enrolmentId}`;
  const part = (name: string, type: string, displayName: string, keys: Record<string, PlistValue | undefined>) =>
    payload(type, `${identifier}.${name}`, nameUuid(`settings-${name}`, enrolmentId), displayName, keys);
  const { passcode, wifi, restrictions } = management;
  const payloads = [
    passcode && part('passcode', 'com.apple.mobiledevice.passwordpolicy', 'Passcode', passcodeKeys(passcode)),
    wifi && part('wifi', 'com.apple.wifi.managed', `Wi-Fi ${wifi.ssid}`, wifiKeys(wifi)),
    restrictions && part('restrictions', 'com.apple.applicationaccess', 'Restrictions', { ...restrictions }),
  ].filter((item) => item !== undefined);
  if (payloads.length === 0) return undefined;
  return profile({
    identifier,
    uuid: nameUuid('settings-profile', enrolmentId),
    displayName: templateName,
    organisationName,
    description: `Settings ${organisationName} manages on this device.`,
    payloads,
  });
}

export function commandUuid(kind: CommandKind, enrolmentId: string): string {
  return nameUuid(`command-${kind}`, enrolmentId);
}

export function installProfileCommand(commandUuid: string, profileXml: string): string {
  return build({
    CommandUUID: commandUuid,
    Command: { RequestType: 'InstallProfile', Payload: Buffer.from(profileXml, 'utf8') },
  });
}

export function removeProfileCommand(commandUuid: string, identifier: string): string {
  return build({ CommandUUID: commandUuid, Command: { RequestType: 'RemoveProfile', Identifier: identifier } });
}

type Passcode = NonNullable<AppleManagement['passcode']>;
type Wifi = NonNullable<AppleManagement['wifi']>;

const passcodeKeys = (passcode: Passcode) => ({
  minLength: passcode.minLength,
  requireAlphanumeric: passcode.requireAlphanumeric,
  allowSimple: passcode.allowSimple,
  minComplexChars: passcode.minComplexChars,
  maxInactivity: passcode.maxInactivityMinutes,
  maxFailedAttempts: passcode.maxFailedAttempts,
  maxPINAgeInDays: passcode.maxPasscodeAgeDays,
  pinHistory: passcode.pinHistory,
});

const wifiKeys = (wifi: Wifi) => ({
  SSID_STR: wifi.ssid,
  EncryptionType: wifi.security,
  Password: wifi.password,
  HIDDEN_NETWORK: wifi.hidden,
  AutoJoin: wifi.autoJoin,
});

function profile(top: {
  identifier: string;
  uuid: string;
  displayName: string;
  organisationName: string;
  description: string;
  payloads: PlistObject[];
}): string {
  return build({
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: top.identifier,
    PayloadUUID: top.uuid,
    PayloadDisplayName: top.displayName,
    PayloadOrganization: top.organisationName,
    PayloadDescription: top.description,
    PayloadContent: top.payloads,
  });
}

function payload(
  type: string,
  identifier: string,
  uuid: string,
  displayName: string,
  keys: Record<string, PlistValue | undefined>,
): PlistObject {
  return {
    PayloadType: type,
    PayloadVersion: 1,
    PayloadIdentifier: identifier,
    PayloadUUID: uuid,
    PayloadDisplayName: displayName,
    ...defined(keys),
  };
}

// plist writes an undefined value as a <key> with no value after it, which devices refuse.
function defined(keys: Record<string, PlistValue | undefined>): PlistObject {
  return Object.fromEntries(
    Object.entries(keys).filter((entry): entry is [string, PlistValue] => entry[1] !== undefined),
  );
}

/**
 * A name-based UUID: version 8 (RFC 9562, its SHA-256 example) of the label and enrolment id, upper case as Apple's
 * tools write them. Stable for the same pair, unrelated between pairs.
 */
function nameUuid(label: string, enrolmentId: string): string {
  const bytes = createHash('sha256').update(`${label}\0${enrolmentId}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x80;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex').toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
