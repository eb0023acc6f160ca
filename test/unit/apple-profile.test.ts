import { expect } from 'chai';
import { type PlistObject, type PlistValue, parse } from 'plist';
import {
  commandUuid,
  enrolmentProfile,
  enrolmentProfileIdentifier,
  installProfileCommand,
  removeProfileCommand,
  settingsProfile,
} from '../../platforms/apple/profiles';
import { type AppleManagement, appleManagement, redactAppleManagement } from '../../platforms/apple/settings';
import { checkCommand, checkPayload, checkProfile } from '../support/apple-schema';

/** The profiles and commands of platforms/apple/profiles.ts, held against Apple's published schema (vendored YAML). */

const ENROLMENT_ID = '6f1c2a9e-3b4d-4c5e-8f70-1a2b3c4d5e6f.1.Q2hhbGxlbmdlTWFjQWJjZA';
const OTHER_ENROLMENT_ID = '6f1c2a9e-3b4d-4c5e-8f70-1a2b3c4d5e6f.2.T3RoZXJNYWNWYWx1ZTEyMw';
const WIFI_PASSWORD = 'correct horse battery staple';
const UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-8[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/;

const enrolmentInput = (enrolmentId = ENROLMENT_ID) => ({
  enrolmentId,
  deviceName: "Alex's iPhone",
  organisationName: 'Acme & Co',
  scep: { url: 'https://setup.example.com/mdm/scep', challenge: 'c2NlcC1jaGFsbGVuZ2U', subject: enrolmentId },
  mdm: {
    serverUrl: `https://setup.example.com/mdm/connect?enrolment=${encodeURIComponent(enrolmentId)}`,
    checkInUrl: `https://setup.example.com/mdm/checkin?enrolment=${encodeURIComponent(enrolmentId)}`,
    topic: 'com.apple.mgmt.External.3f1c9b52-8a6d-4e0b-9c2f-7d5e4a3b2c1d',
  },
});

const MANAGEMENT: AppleManagement = {
  passcode: {
    minLength: 8,
    requireAlphanumeric: true,
    allowSimple: false,
    minComplexChars: 1,
    maxInactivityMinutes: 5,
    maxFailedAttempts: 10,
    maxPasscodeAgeDays: 365,
    pinHistory: 5,
  },
  wifi: { ssid: 'Acme Staff', security: 'WPA2', password: WIFI_PASSWORD, hidden: false, autoJoin: true },
  restrictions: {
    allowCamera: false,
    allowScreenShot: false,
    allowAppInstallation: true,
    allowCloudBackup: false,
    forceEncryptedBackup: true,
  },
};

const settingsInput = (management: AppleManagement = MANAGEMENT, enrolmentId = ENROLMENT_ID) => ({
  enrolmentId,
  organisationName: 'Acme & Co',
  templateName: 'Corporate iPhone',
  management,
});

const dict = (value: PlistValue | undefined): PlistObject => {
  expect(value, 'a dictionary').to.be.an('object');
  return value as PlistObject;
};
const payloads = (profile: PlistObject) => profile.PayloadContent as PlistObject[];
const payloadOf = (profile: PlistObject, type: string) => {
  const found = payloads(profile).find((item) => item.PayloadType === type);
  expect(found, type).to.not.equal(undefined);
  return found as PlistObject;
};
const refusals = (input: unknown) => {
  const result = appleManagement.safeParse(input);
  expect(result.success, 'refused').to.equal(false);
  return (result.error?.issues ?? []).map((issue) =>
    issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
  );
};

describe('Apple profiles', () => {
  describe('the enrolment profile', () => {
    const xml = enrolmentProfile(enrolmentInput());
    const profile = dict(parse(xml));

    it("has every key Apple's schema requires, of the right type and range", () => {
      expect(checkProfile(profile)).to.deep.equal([]);
      expect(payloads(profile).map((item) => item.PayloadType)).to.deep.equal([
        'com.apple.security.scep',
        'com.apple.mdm',
      ]);
    });

    it('asks SCEP for a certificate named after the enrolment, which the MDM payload uses as identity', () => {
      expect(profile).to.include({
        PayloadType: 'Configuration',
        PayloadVersion: 1,
        PayloadIdentifier: enrolmentProfileIdentifier(ENROLMENT_ID),
        PayloadOrganization: 'Acme & Co',
      });
      const scep = payloadOf(profile, 'com.apple.security.scep');
      expect(scep.PayloadContent).to.deep.equal({
        URL: 'https://setup.example.com/mdm/scep',
        Name: 'self-service-setup',
        Subject: [[['CN', ENROLMENT_ID]]],
        Challenge: 'c2NlcC1jaGFsbGVuZ2U',
        Keysize: 2048,
        'Key Type': 'RSA',
        'Key Usage': 5,
      });
      const mdm = payloadOf(profile, 'com.apple.mdm');
      expect(mdm).to.include({
        IdentityCertificateUUID: scep.PayloadUUID,
        Topic: enrolmentInput().mdm.topic,
        ServerURL: enrolmentInput().mdm.serverUrl,
        CheckInURL: enrolmentInput().mdm.checkInUrl,
        SignMessage: true,
        AccessRights: 8191,
        CheckOutWhenRemoved: true,
      });
      expect(mdm.ServerCapabilities).to.deep.equal(['com.apple.mdm.per-user-connections']);
    });

    it('has distinct, valid upper-case UUIDs and identifiers unique within the profile', () => {
      const uuids = [profile, ...payloads(profile)].map((item) => item.PayloadUUID as string);
      for (const uuid of uuids) expect(uuid).to.match(UUID);
      expect(new Set(uuids).size).to.equal(uuids.length);
      const identifiers = [profile, ...payloads(profile)].map((item) => item.PayloadIdentifier as string);
      expect(new Set(identifiers).size).to.equal(identifiers.length);
    });

    it('escapes what it is given (an apostrophe, an ampersand) instead of breaking the XML', () => {
      expect(xml).to.include('Acme &amp; Co');
      expect(profile.PayloadDisplayName).to.equal("Acme & Co: Alex's iPhone");
    });
  });

  describe('the settings profile', () => {
    const profile = dict(parse(settingsProfile(settingsInput()) as string));

    it("has every key Apple's schema requires, of the right type and range, a payload per part", () => {
      expect(checkProfile(profile)).to.deep.equal([]);
      expect(payloads(profile).map((item) => item.PayloadType)).to.deep.equal([
        'com.apple.mobiledevice.passwordpolicy',
        'com.apple.wifi.managed',
        'com.apple.applicationaccess',
      ]);
      expect(profile).to.include({ PayloadDisplayName: 'Corporate iPhone', PayloadOrganization: 'Acme & Co' });
    });

    it("names the template's settings with Apple's keys", () => {
      expect(payloadOf(profile, 'com.apple.mobiledevice.passwordpolicy')).to.include({
        minLength: 8,
        requireAlphanumeric: true,
        allowSimple: false,
        minComplexChars: 1,
        maxInactivity: 5,
        maxFailedAttempts: 10,
        maxPINAgeInDays: 365,
        pinHistory: 5,
      });
      expect(payloadOf(profile, 'com.apple.wifi.managed')).to.include({
        SSID_STR: 'Acme Staff',
        EncryptionType: 'WPA2',
        Password: WIFI_PASSWORD,
        HIDDEN_NETWORK: false,
        AutoJoin: true,
      });
      expect(payloadOf(profile, 'com.apple.applicationaccess')).to.include(MANAGEMENT.restrictions);
    });

    it('passes the schema for each part alone, at the edges of the ranges, and leaves unset keys out', () => {
      const parts: AppleManagement[] = [
        { passcode: {} },
        {
          passcode: {
            minLength: 16,
            minComplexChars: 4,
            maxInactivityMinutes: 15,
            maxFailedAttempts: 2,
            maxPasscodeAgeDays: 730,
            pinHistory: 50,
          },
        },
        { wifi: { ssid: 'Guest', security: 'None' } },
        { wifi: { ssid: 'x'.repeat(32), security: 'WPA3', password: '~'.repeat(63), hidden: true } },
        { restrictions: { allowCamera: true } },
      ];
      for (const management of parts) {
        const single = dict(parse(settingsProfile(settingsInput(management)) as string));
        expect(checkProfile(single), JSON.stringify(management)).to.deep.equal([]);
        expect(payloads(single)).to.have.length(1);
      }
      const open = payloads(dict(parse(settingsProfile(settingsInput(parts[2])) as string)))[0];
      expect(Object.keys(open ?? {}).sort()).to.deep.equal([
        'EncryptionType',
        'PayloadDisplayName',
        'PayloadIdentifier',
        'PayloadType',
        'PayloadUUID',
        'PayloadVersion',
        'SSID_STR',
      ]);
    });

    it('is undefined when the template has nothing to install', () => {
      expect(settingsProfile(settingsInput({}))).to.equal(undefined);
    });
  });

  describe('the MDM commands', () => {
    const settingsXml = settingsProfile(settingsInput()) as string;

    it("InstallProfile carries the profile's bytes as data and passes Apple's schema", () => {
      const uuid = commandUuid('install-settings', ENROLMENT_ID);
      const command = dict(parse(installProfileCommand(uuid, settingsXml)));
      expect(checkCommand(command)).to.deep.equal([]);
      expect(command.CommandUUID).to.equal(uuid);
      const body = dict(command.Command);
      expect(body.RequestType).to.equal('InstallProfile');
      expect(Buffer.isBuffer(body.Payload)).to.equal(true);
      expect((body.Payload as Buffer).toString('utf8')).to.equal(settingsXml);
    });

    it("RemoveProfile names the enrolment profile and passes Apple's schema", () => {
      const uuid = commandUuid('remove-enrolment', ENROLMENT_ID);
      const command = dict(parse(removeProfileCommand(uuid, enrolmentProfileIdentifier(ENROLMENT_ID))));
      expect(checkCommand(command)).to.deep.equal([]);
      expect(command).to.deep.equal({
        CommandUUID: uuid,
        Command: { RequestType: 'RemoveProfile', Identifier: enrolmentProfileIdentifier(ENROLMENT_ID) },
      });
    });

    it('have a UUID per kind and enrolment, the same every time', () => {
      const uuids = [
        commandUuid('install-settings', ENROLMENT_ID),
        commandUuid('remove-enrolment', ENROLMENT_ID),
        commandUuid('install-settings', OTHER_ENROLMENT_ID),
      ];
      for (const uuid of uuids) expect(uuid).to.match(UUID);
      expect(new Set(uuids).size).to.equal(3);
      expect(commandUuid('install-settings', ENROLMENT_ID)).to.equal(uuids[0]);
    });
  });

  describe('the schema checker', () => {
    it('reports a missing required key, a wrong type, a value out of range and an unknown key', () => {
      const profile = dict(parse(enrolmentProfile(enrolmentInput())));
      const broken = structuredClone(profile) as Record<string, unknown>;
      delete broken.PayloadUUID;
      const [scep, mdm] = broken.PayloadContent as Array<Record<string, Record<string, unknown>>>;
      if (!scep?.PayloadContent || !mdm) throw new Error('the profile lost its payloads');
      delete scep.PayloadContent.URL;
      scep.PayloadContent.Keysize = 3000;
      scep.PayloadContent.Subject = [[['CN']]];
      mdm.SignMessage = 'yes' as unknown as Record<string, unknown>;
      mdm.ServerURL = 'http://setup.example.com/mdm/connect' as unknown as Record<string, unknown>;
      mdm.IdentityCertificateUUIDs = scep.PayloadUUID as Record<string, unknown>;
      expect(checkProfile(broken as PlistObject)).to.have.members([
        "PayloadUUID: required by Apple's schema, missing",
        "PayloadContent[0].PayloadContent.URL: required by Apple's schema, missing",
        'PayloadContent[0].PayloadContent.Subject[0][0]: 1 items, expected 2–2',
        'PayloadContent[0].PayloadContent.Keysize: 3000 is not one of [1024,2048,4096]',
        'PayloadContent[1].ServerURL: "http://setup.example.com/mdm/connect" does not match ^https://.*$',
        'PayloadContent[1].SignMessage: expected <boolean>, got string "yes"',
        "PayloadContent[1].IdentityCertificateUUIDs: not in Apple's schema",
      ]);
    });

    it('reports a passcode outside Apple’s range and a payload type it has no schema for', () => {
      expect(
        checkPayload({
          PayloadType: 'com.apple.mobiledevice.passwordpolicy',
          PayloadVersion: 1,
          PayloadIdentifier: 'x.passcode',
          PayloadUUID: '00000000-0000-8000-8000-000000000000',
          minLength: 17,
        }),
      ).to.deep.equal(['payload.minLength: 17 is outside 0–16']);
      expect(checkPayload({ PayloadType: 'com.example.unknown' })).to.deep.equal([
        'payload.PayloadType: no schema for "com.example.unknown"',
      ]);
    });
  });

  describe('determinism', () => {
    it('gives byte-identical output for the same input', () => {
      expect(enrolmentProfile(enrolmentInput())).to.equal(enrolmentProfile(enrolmentInput()));
      expect(settingsProfile(settingsInput())).to.equal(settingsProfile(settingsInput()));
      const command = () => installProfileCommand(commandUuid('install-settings', ENROLMENT_ID), 'x');
      expect(command()).to.equal(command());
    });

    it('gives another enrolment other identifiers and UUIDs', () => {
      const ids = (profile: PlistObject) =>
        [profile, ...payloads(profile)].flatMap((item) => [item.PayloadIdentifier, item.PayloadUUID]);
      const first = [
        ...ids(dict(parse(enrolmentProfile(enrolmentInput())))),
        ...ids(dict(parse(settingsProfile(settingsInput()) as string))),
      ];
      const second = [
        ...ids(dict(parse(enrolmentProfile(enrolmentInput(OTHER_ENROLMENT_ID))))),
        ...ids(dict(parse(settingsProfile(settingsInput(MANAGEMENT, OTHER_ENROLMENT_ID)) as string))),
      ];
      expect(first.filter((id) => second.includes(id))).to.deep.equal([]);
    });
  });

  describe('the Wi-Fi password', () => {
    it('appears only inside the InstallProfile payload data', () => {
      const settingsXml = settingsProfile(settingsInput()) as string;
      const command = installProfileCommand(commandUuid('install-settings', ENROLMENT_ID), settingsXml);
      expect(command).to.not.include(WIFI_PASSWORD);
      const payload = dict(dict(parse(command)).Command).Payload as Buffer;
      expect(payload.toString('utf8')).to.include(`<string>${WIFI_PASSWORD}</string>`);
      expect(enrolmentProfile(enrolmentInput())).to.not.include(WIFI_PASSWORD);
      expect(JSON.stringify(redactAppleManagement(MANAGEMENT))).to.not.include(WIFI_PASSWORD);
    });

    it('is shown back as whether one is set', () => {
      expect(redactAppleManagement(MANAGEMENT)).to.deep.equal({
        ...MANAGEMENT,
        wifi: { ssid: 'Acme Staff', security: 'WPA2', hidden: false, autoJoin: true, passwordSet: true },
      });
      expect(redactAppleManagement({ wifi: { ssid: 'Guest', security: 'None' } })).to.deep.equal({
        wifi: { ssid: 'Guest', security: 'None', passwordSet: false },
      });
      expect(redactAppleManagement({ passcode: { minLength: 6 } })).to.deep.equal({ passcode: { minLength: 6 } });
    });
  });

  describe('appleManagement', () => {
    it('accepts a full template and an empty one', () => {
      expect(appleManagement.parse(MANAGEMENT)).to.deep.equal(MANAGEMENT);
      expect(appleManagement.parse({})).to.deep.equal({});
    });

    it('refuses an SSID longer than 32 bytes, counted in UTF-8, or empty', () => {
      // 17 characters, 34 bytes.
      expect(refusals({ wifi: { ssid: 'é'.repeat(17), security: 'None' } })).to.deep.equal([
        'wifi.ssid: at most 32 bytes (an accented letter counts 2, an emoji 4)',
      ]);
      expect(refusals({ wifi: { ssid: '', security: 'None' } })).to.deep.equal(['wifi.ssid: required']);
    });

    it('refuses WPA2 without a password, a password too short, and one for an open network', () => {
      expect(refusals({ wifi: { ssid: 'Acme Staff', security: 'WPA2' } })).to.deep.equal([
        'wifi.password: required for a WPA2 network',
      ]);
      expect(refusals({ wifi: { ssid: 'Acme Staff', security: 'WPA3', password: 'short' } })).to.deep.equal([
        'wifi.password: 8 to 63 characters: letters, digits, spaces and ASCII punctuation',
      ]);
      expect(refusals({ wifi: { ssid: 'Guest', security: 'None', password: WIFI_PASSWORD } })).to.deep.equal([
        'wifi.password: an open network (security None) has none',
      ]);
      expect(refusals({ wifi: { ssid: 'Acme Staff', security: 'WEP', password: WIFI_PASSWORD } })).to.deep.equal([
        'wifi.security: None, WPA2 or WPA3',
      ]);
    });

    it('refuses unknown keys, at the top and in a part', () => {
      expect(refusals({ vpn: {} })).to.deep.equal(['Unrecognized key: "vpn"']);
      expect(refusals({ restrictions: { allowScreenshot: false } })).to.deep.equal([
        'restrictions: Unrecognized key: "allowScreenshot"',
      ]);
    });

    it("refuses passcode settings outside Apple's ranges", () => {
      expect(refusals({ passcode: { minLength: 17, maxFailedAttempts: 1, pinHistory: 2.5 } })).to.deep.equal([
        'passcode.minLength: from 0 to 16',
        'passcode.maxFailedAttempts: from 2 to 11',
        'passcode.pinHistory: a whole number',
      ]);
    });
  });
});
