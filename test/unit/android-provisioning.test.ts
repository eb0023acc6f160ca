import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import QRCode from 'qrcode';
import {
  type AndroidManagement,
  androidCheckInInfo,
  androidLocale,
  androidManagement,
  dpcSettings,
  personalEnrolmentLink,
  provisioningQrPayload,
  redactAndroidManagement,
} from '../../platforms/android/settings';
import { decodeQrPng } from '../support/qr';

/** platforms/android/settings.ts: the Android device template, the set-up wizard's QR code, the DPC's app link and its check-in. */

const CHECKSUM = createHash('sha256').update('the DPC signing certificate').digest('base64url');
const TOKEN = randomBytes(32).toString('base64url');
const PUBLIC_URL = 'https://setup.example.com';
const CHECK_IN_URL = `${PUBLIC_URL}/api/provision/${TOKEN}/checkin`;
const WIFI_PASSWORD = 'correct horse battery staple';
const EXTRA = 'android.app.extra.PROVISIONING_';

const DPC = {
  componentName: 'com.example.dpc/.AdminReceiver',
  packageDownloadUrl: 'https://downloads.example.com/dpc/latest.apk',
  signatureChecksum: CHECKSUM,
};

const COMPANY: AndroidManagement = {
  dpc: DPC,
  ownership: 'company',
  setupWifi: { ssid: 'Acme Setup', security: 'WPA', password: 'set-up-only-pass', hidden: true },
  password: { quality: 'alphanumeric', minLength: 8 },
  wifi: { ssid: 'Acme Staff', security: 'WPA', password: WIFI_PASSWORD },
  apps: ['com.microsoft.teams', 'com.example.timesheets'],
};

const PERSONAL: AndroidManagement = { dpc: DPC, ownership: 'personal', apps: ['com.example.mail'] };

/** Each refusal as "path: message", the form an administrator reads. */
function refusals(input: unknown): string[] {
  const result = androidManagement.safeParse(input);
  expect(result.success, 'expected a refusal').to.equal(false);
  return (result.error?.issues ?? []).map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

const checkInRefusals = (input: unknown): string[] => {
  const result = androidCheckInInfo.safeParse(input);
  expect(result.success, 'expected a refusal').to.equal(false);
  return (result.error?.issues ?? []).map((issue) => `${issue.path.join('.')}: ${issue.message}`);
};

const withDpc = (change: Partial<typeof DPC>) => ({ ...COMPANY, dpc: { ...DPC, ...change } });

/** Android's Intent.parseUri for the intent: scheme, as Chrome calls it: fragment split at ';' and '=', values decoded. */
function parseIntentUri(uri: string) {
  const hash = uri.lastIndexOf('#');
  expect(uri.startsWith('#Intent;', hash), 'an #Intent; fragment').to.equal(true);
  const intent = { data: uri.slice(0, hash), action: '', package: '', extras: {} as Record<string, string> };
  let i = hash + '#Intent;'.length;
  while (i >= 0 && !uri.startsWith('end', i)) {
    const eq = uri.indexOf('=', i);
    const semi = uri.indexOf(';', i);
    const value = decodeURIComponent(uri.slice(eq + 1, semi));
    if (uri.startsWith('action=', i)) intent.action = value;
    else if (uri.startsWith('package=', i)) intent.package = value;
    else if (uri.startsWith('S.', i)) intent.extras[decodeURIComponent(uri.slice(i + 2, eq))] = value;
    else throw new Error(`unexpected part at ${i}: ${uri.slice(i, semi)}`);
    i = semi + 1;
  }
  expect(uri.slice(i), 'ends with end').to.equal('end');
  return intent;
}

describe('Android device template (androidManagement)', () => {
  it('accepts a company-owned and a personal template', () => {
    expect(androidManagement.parse(COMPANY)).to.deep.equal(COMPANY);
    expect(androidManagement.parse(PERSONAL)).to.deep.equal(PERSONAL);
  });

  it('accepts both forms of component name, nested classes included', () => {
    for (const componentName of [
      'com.example.dpc/.AdminReceiver',
      'com.example.dpc/com.example.dpc.AdminReceiver',
      'com.example.dpc/.receivers.Admin$Receiver',
      'com.google.android.apps.work.clouddpc/.receivers.CloudDeviceAdminReceiver',
    ]) {
      expect(androidManagement.safeParse(withDpc({ componentName })).success, componentName).to.equal(true);
    }
  });

  it('refuses a component name that is not package/class', () => {
    for (const componentName of [
      'com.example.dpc',
      'com.example.dpc/',
      '/.AdminReceiver',
      'dpc/.AdminReceiver',
      'com.1example.dpc/.AdminReceiver',
      'com.example.dpc/.Admin Receiver',
      'com.example.dpc/..AdminReceiver',
      'com.example.dpc/.AdminReceiver/',
    ]) {
      expect(refusals(withDpc({ componentName })), componentName).to.deep.equal([
        "dpc.componentName: the DPC's device admin receiver as package/class, such as com.example.dpc/.AdminReceiver or com.example.dpc/com.example.dpc.AdminReceiver",
      ]);
    }
  });

  it("refuses a signature checksum that is not 43 URL-safe base64 characters, saying it is Android's", () => {
    const shape = refusals(withDpc({ signatureChecksum: CHECKSUM.slice(1) }));
    expect(shape).to.have.length(1);
    expect(shape[0]).to.match(/^dpc\.signatureChecksum: Android's PROVISIONING_DEVICE_ADMIN_SIGNATURE_CHECKSUM: /);
    expect(shape[0]).to.contain('exactly 43 characters of A-Z, a-z, 0-9, - and _');
    expect(refusals(withDpc({ signatureChecksum: `${CHECKSUM}A` }))).to.deep.equal(shape);
    expect(refusals(withDpc({ signatureChecksum: `${CHECKSUM.slice(1)}!` }))).to.deep.equal(shape);
    // The hex that apksigner prints is the right digest in the wrong encoding.
    expect(refusals(withDpc({ signatureChecksum: createHash('sha256').update('x').digest('hex') }))).to.deep.equal(
      shape,
    );
  });

  it('says what to change in the two usual near-misses: padding and the standard base64 alphabet', () => {
    expect(refusals(withDpc({ signatureChecksum: `${CHECKSUM}=` }))).to.deep.equal([
      "dpc.signatureChecksum: 43 characters without the trailing '=' (Android's PROVISIONING_DEVICE_ADMIN_SIGNATURE_CHECKSUM, no padding)",
    ]);
    const standard = `${'+/'.repeat(21)}A`;
    expect(refusals(withDpc({ signatureChecksum: standard }))).to.deep.equal([
      "dpc.signatureChecksum: URL-safe base64: - and _ instead of + and / (Android's PROVISIONING_DEVICE_ADMIN_SIGNATURE_CHECKSUM, 43 characters)",
    ]);
  });

  it('refuses a download location that is not https', () => {
    for (const packageDownloadUrl of ['http://downloads.example.com/dpc.apk', 'ftp://example.com/dpc.apk', 'dpc.apk']) {
      expect(refusals(withDpc({ packageDownloadUrl })), packageDownloadUrl).to.deep.equal([
        'dpc.packageDownloadUrl: an https:// address of the DPC app (APK)',
      ]);
    }
    expect(refusals(withDpc({ packageDownloadUrl: `https://example.com/${'a'.repeat(1000)}` }))).to.deep.equal([
      'dpc.packageDownloadUrl: at most 1000 characters',
    ]);
  });

  it('refuses set-up Wi-Fi on a personal template, saying why', () => {
    expect(refusals({ ...PERSONAL, setupWifi: COMPANY.setupWifi })).to.deep.equal([
      "setupWifi: only for company-owned devices: the set-up wizard's QR code uses it, and a personal device is already set up and online when its owner installs the app",
    ]);
  });

  it("refuses a Wi-Fi network whose password does not fit its security, in Android's security names", () => {
    const setupWifi = (network: object) => refusals({ ...COMPANY, setupWifi: network });
    expect(setupWifi({ ssid: 'Acme', security: 'WPA' })).to.deep.equal([
      'setupWifi.password: required for a WPA network',
    ]);
    expect(refusals({ ...COMPANY, wifi: { ssid: 'Acme', security: 'WEP' } })).to.deep.equal([
      'wifi.password: required for a WEP network',
    ]);
    expect(setupWifi({ ssid: 'Acme', security: 'NONE', password: 'whatever1' })).to.deep.equal([
      'setupWifi.password: an open network (security NONE) has none',
    ]);
    expect(setupWifi({ ssid: 'Acme', security: 'WPA', password: 'short' })).to.deep.equal([
      'setupWifi.password: 8 to 63 characters: letters, digits, spaces and ASCII punctuation',
    ]);
    expect(setupWifi({ ssid: 'Acme', security: 'WEP', password: 'sixsix' })).to.deep.equal([
      'setupWifi.password: a WEP key: 5 or 13 characters, or 10 or 26 hexadecimal digits',
    ]);
    expect(setupWifi({ ssid: 'Acme', security: 'EAP', password: WIFI_PASSWORD })).to.deep.equal([
      "setupWifi.security: NONE, WPA or WEP (Android's PROVISIONING_WIFI_SECURITY_TYPE)",
    ]);
    expect(setupWifi({ ssid: 'é'.repeat(17), security: 'NONE' })).to.deep.equal([
      'setupWifi.ssid: at most 32 bytes (an accented letter counts 2, an emoji 4)',
    ]);
    expect(
      androidManagement.safeParse({ ...COMPANY, setupWifi: { ssid: 'é'.repeat(16), security: 'NONE' } }).success,
    ).to.equal(true);
    expect(
      androidManagement.safeParse({ ...COMPANY, wifi: { ssid: 'Lab', security: 'WEP', password: 'a1b2c3d4e5' } })
        .success,
    ).to.equal(true);
  });

  it('refuses a screen lock Android would not apply as written', () => {
    expect(refusals({ ...COMPANY, password: { quality: 'alphanumeric', minLength: 3 } })).to.deep.equal([
      'password.minLength: from 4 to 16',
    ]);
    expect(refusals({ ...COMPANY, password: { quality: 'numeric', minLength: 17 } })).to.deep.equal([
      'password.minLength: from 4 to 16',
    ]);
    expect(refusals({ ...COMPANY, password: { quality: 'something', minLength: 6 } })).to.deep.equal([
      'password.minLength: Android ignores a minimum length unless the quality is numeric or stronger: choose one, or leave it out',
    ]);
    expect(refusals({ ...COMPANY, password: { quality: 'strong' } })).to.deep.equal([
      'password.quality: something, numeric, numeric-complex, alphabetic, alphanumeric or complex',
    ]);
  });

  it('refuses apps that are not package names, listed twice, or too many', () => {
    for (const name of ['chrome', 'com..example', '1com.example', 'com.example.app!', 'com.example.', '.com.example']) {
      expect(refusals({ ...COMPANY, apps: ['com.example.ok', name] }), name).to.deep.equal([
        'apps.1: an Android package name such as com.example.app',
      ]);
    }
    expect(refusals({ ...COMPANY, apps: ['com.example.a', 'com.example.b', 'com.example.a'] })).to.deep.equal([
      'apps.2: com.example.a is listed twice',
    ]);
    const many = Array.from({ length: 51 }, (_, n) => `com.example.app${n}`);
    expect(refusals({ ...COMPANY, apps: many })).to.deep.equal(['apps: at most 50 apps']);
    expect(androidManagement.safeParse({ ...COMPANY, apps: many.slice(0, 50) }).success).to.equal(true);
  });

  it('refuses unknown keys and a missing DPC or ownership', () => {
    expect(refusals({ ...COMPANY, kiosk: true })).to.deep.equal([': Unrecognized key: "kiosk"']);
    expect(refusals({ ...COMPANY, ownership: 'shared' })).to.deep.equal([
      'ownership: company (fully managed) or personal (work profile)',
    ]);
    expect(refusals({ ownership: 'company' })[0]).to.match(/^dpc: /);
  });

  it('redacts both Wi-Fi passwords to whether there is one', () => {
    const redacted = redactAndroidManagement(COMPANY);
    expect(redacted).to.deep.equal({
      dpc: DPC,
      ownership: 'company',
      setupWifi: { ssid: 'Acme Setup', security: 'WPA', hidden: true, passwordSet: true },
      password: COMPANY.password,
      wifi: { ssid: 'Acme Staff', security: 'WPA', passwordSet: true },
      apps: COMPANY.apps,
    });
    expect(JSON.stringify(redacted)).not.to.contain(WIFI_PASSWORD).and.not.to.contain('set-up-only-pass');
    expect(redactAndroidManagement(PERSONAL)).to.deep.equal(PERSONAL);
    expect(redactAndroidManagement({ ...PERSONAL, wifi: { ssid: 'Guest', security: 'NONE' } }).wifi).to.deep.equal({
      ssid: 'Guest',
      security: 'NONE',
      passwordSet: false,
    });
  });
});

describe('provisioning QR code (provisioningQrPayload)', () => {
  const input = { management: COMPANY, enrolmentToken: TOKEN, checkInUrl: CHECK_IN_URL, serviceUrl: PUBLIC_URL };

  it("holds Android's PROVISIONING_* keys with the extras' types, and the admin extras bundle the DPC gets", () => {
    const payload = JSON.parse(provisioningQrPayload({ ...input, locale: 'en-GB', timeZone: 'Europe/London' }));
    expect(payload).to.deep.equal({
      [`${EXTRA}DEVICE_ADMIN_COMPONENT_NAME`]: 'com.example.dpc/.AdminReceiver',
      [`${EXTRA}DEVICE_ADMIN_PACKAGE_DOWNLOAD_LOCATION`]: 'https://downloads.example.com/dpc/latest.apk',
      [`${EXTRA}DEVICE_ADMIN_SIGNATURE_CHECKSUM`]: CHECKSUM,
      [`${EXTRA}WIFI_SSID`]: 'Acme Setup',
      [`${EXTRA}WIFI_SECURITY_TYPE`]: 'WPA',
      [`${EXTRA}WIFI_PASSWORD`]: 'set-up-only-pass',
      [`${EXTRA}WIFI_HIDDEN`]: true,
      [`${EXTRA}LOCALE`]: 'en_GB',
      [`${EXTRA}TIME_ZONE`]: 'Europe/London',
      [`${EXTRA}ADMIN_EXTRAS_BUNDLE`]: {
        enrolment_token: TOKEN,
        check_in_url: CHECK_IN_URL,
        service_url: PUBLIC_URL,
      },
    });
    // The settings the DPC gets at check-in are not in the code anyone can photograph.
    const text = provisioningQrPayload(input);
    expect(text).not.to.contain(WIFI_PASSWORD).and.not.to.contain('com.microsoft.teams');
  });

  it('leaves out what the template and account do not set', () => {
    const { setupWifi: _, ...noWifi } = COMPANY;
    expect(Object.keys(JSON.parse(provisioningQrPayload({ ...input, management: noWifi })))).to.deep.equal([
      `${EXTRA}DEVICE_ADMIN_COMPONENT_NAME`,
      `${EXTRA}DEVICE_ADMIN_PACKAGE_DOWNLOAD_LOCATION`,
      `${EXTRA}DEVICE_ADMIN_SIGNATURE_CHECKSUM`,
      `${EXTRA}ADMIN_EXTRAS_BUNDLE`,
    ]);
    const open = JSON.parse(
      provisioningQrPayload({ ...input, management: { ...COMPANY, setupWifi: { ssid: 'Lobby', security: 'NONE' } } }),
    );
    expect(open[`${EXTRA}WIFI_SECURITY_TYPE`]).to.equal('NONE');
    expect(open[`${EXTRA}WIFI_HIDDEN`]).to.equal(false);
    expect(open).not.to.have.property(`${EXTRA}WIFI_PASSWORD`);
  });

  it("writes the locale as Android's language_COUNTRY", () => {
    expect(androidLocale('en-GB')).to.equal('en_GB');
    expect(androidLocale('en-gb')).to.equal('en_GB');
    expect(androidLocale('de')).to.equal('de');
    expect(androidLocale('zh-Hant-TW')).to.equal('zh_TW');
    expect(androidLocale('pt-BR-u-ca-gregory')).to.equal('pt_BR');
  });

  it('is refused for a personal template (it would make the owner’s own device fully managed)', () => {
    expect(() => provisioningQrPayload({ ...input, management: PERSONAL })).to.throw(/company-owned/);
  });

  it('survives the trip through a QR code image: rendered with qrcode, read back with jsQR', async () => {
    const unicode = {
      ...COMPANY,
      setupWifi: { ssid: 'Café Münster ☕', security: 'WPA' as const, password: 'pässword-ok?' },
    };
    for (const management of [COMPANY, unicode]) {
      const text = provisioningQrPayload({ ...input, management, locale: 'de-DE', timeZone: 'Europe/Berlin' });
      const png = await QRCode.toBuffer(text, { type: 'png' });
      expect(decodeQrPng(png)).to.equal(text);
    }
  });

  it('still fits one QR code at the largest template the schema accepts', async () => {
    // The longest of everything: a 1000-character download location, 32-byte SSID, 63-character passphrase.
    const largest = androidManagement.parse({
      ...COMPANY,
      dpc: { ...DPC, packageDownloadUrl: `https://downloads.example.com/${'d'.repeat(970)}` },
      setupWifi: { ssid: 'S'.repeat(32), security: 'WPA', password: '~'.repeat(63), hidden: true },
    });
    const text = provisioningQrPayload({
      ...input,
      management: largest,
      checkInUrl: `https://device-setup.example-organisation.com/api/provision/${TOKEN}/checkin`,
      serviceUrl: 'https://device-setup.example-organisation.com',
      locale: 'en-GB',
      timeZone: 'America/Argentina/ComodRivadavia',
    });
    const bytes = Buffer.byteLength(text, 'utf8');
    // Byte mode at qrcode's default error correction (M) holds 2331 bytes in the largest code (version 40).
    expect(bytes).to.be.below(2331);
    const qr = QRCode.create(text, {});
    expect(qr.version).to.be.at.most(40);
    const png = await QRCode.toBuffer(text, { type: 'png' });
    expect(decodeQrPng(png)).to.equal(text);
    // Past the limit qrcode refuses rather than drawing something unreadable.
    expect(() => QRCode.create('x'.repeat(2332), { errorCorrectionLevel: 'M' })).to.throw(/too big/);
  });
});

describe('personal enrolment link (personalEnrolmentLink)', () => {
  it('opens the DPC with the token and check-in URL as string extras, falling back to its Play Store page', () => {
    // Characters that would end a part (';', '='), the fragment ('#') or an escape ('%') if not encoded.
    const checkInUrl = `${CHECK_IN_URL}?a=1&b=x;y#z%`;
    const link = personalEnrolmentLink({ management: PERSONAL, enrolmentToken: TOKEN, checkInUrl });
    expect(link)
      .to.match(/^intent:#Intent;/)
      .and.match(/;end$/);
    const intent = parseIntentUri(link);
    expect(intent).to.deep.equal({
      data: 'intent:',
      action: 'android.intent.action.VIEW',
      package: 'com.example.dpc',
      extras: {
        enrolment_token: TOKEN,
        check_in_url: checkInUrl,
        browser_fallback_url: 'https://play.google.com/store/apps/details?id=com.example.dpc',
      },
    });
    expect(link).to.contain(
      `S.browser_fallback_url=${encodeURIComponent('https://play.google.com/store/apps/details?id=com.example.dpc')};`,
    );
  });

  it('names the package of a fully qualified component name too', () => {
    const management = { ...PERSONAL, dpc: { ...DPC, componentName: 'org.acme.agent/org.acme.agent.Admin' } };
    const intent = parseIntentUri(
      personalEnrolmentLink({ management, enrolmentToken: TOKEN, checkInUrl: CHECK_IN_URL }),
    );
    expect(intent.package).to.equal('org.acme.agent');
    expect(intent.extras.browser_fallback_url).to.equal('https://play.google.com/store/apps/details?id=org.acme.agent');
  });
});

describe('DPC check-in (androidCheckInInfo, dpcSettings)', () => {
  const DEVICE = {
    serialNumber: 'R58M12ABCDE',
    model: 'Pixel 8',
    manufacturer: 'Google',
    androidVersion: '14',
    sdkInt: 34,
  };

  it('accepts any one identifier', () => {
    expect(androidCheckInInfo.parse(DEVICE)).to.deep.equal(DEVICE);
    const { serialNumber: _, ...rest } = DEVICE;
    expect(androidCheckInInfo.safeParse({ ...rest, imei: '490154203237518' }).success).to.equal(true);
    expect(androidCheckInInfo.safeParse({ ...rest, enrollmentSpecificId: 'A1B2-C3D4-E5F6-G7H8' }).success).to.equal(
      true,
    );
    expect(
      androidCheckInInfo.safeParse({ serialNumber: 'X1', model: 'Tab', androidVersion: '8.1.0' }).success,
    ).to.equal(true);
  });

  it('refuses a report without an identifier, saying which are accepted', () => {
    const { serialNumber: _, ...rest } = DEVICE;
    expect(checkInRefusals(rest)).to.deep.equal([
      ': at least one identifier: serialNumber, imei or enrollmentSpecificId',
    ]);
  });

  it('refuses unknown keys, bad identifiers and a missing model or version', () => {
    expect(checkInRefusals({ ...DEVICE, macAddress: '02:00:00:00:00:00' })).to.deep.equal([
      ': Unrecognized key: "macAddress"',
    ]);
    expect(checkInRefusals({ ...DEVICE, imei: '49015420323751' })).to.deep.equal(['imei: an IMEI: 15 digits']);
    expect(checkInRefusals({ ...DEVICE, serialNumber: 'unknown' })).to.deep.equal([
      "serialNumber: Android's placeholder 'unknown' is no serial number: leave it out",
    ]);
    expect(checkInRefusals({ ...DEVICE, serialNumber: 'R58 M12' })).to.deep.equal([
      'serialNumber: 1 to 64 letters, digits or ASCII punctuation, no spaces',
    ]);
    expect(checkInRefusals({ ...DEVICE, enrollmentSpecificId: '' })[0]).to.match(
      /^enrollmentSpecificId: .*setOrganizationId/,
    );
    expect(checkInRefusals({ ...DEVICE, model: 'x'.repeat(101) })).to.deep.equal(['model: at most 100 characters']);
    expect(checkInRefusals({ ...DEVICE, model: 'Pixel\u0007' })).to.deep.equal(['model: no control characters']);
    expect(checkInRefusals({ ...DEVICE, model: undefined })[0]).to.match(/^model: /);
    expect(checkInRefusals({ ...DEVICE, androidVersion: 'fourteen!' })).to.deep.equal([
      "androidVersion: Android's version, such as 14 or 8.1.0",
    ]);
    expect(checkInRefusals({ ...DEVICE, androidVersion: undefined })[0]).to.match(/^androidVersion: /);
    expect(checkInRefusals({ ...DEVICE, sdkInt: 0 })).to.deep.equal(['sdkInt: from 1 to 1000']);
  });

  it('answers with the typed settings, the Wi-Fi password in clear for the device to use', () => {
    expect(dpcSettings(COMPANY)).to.deep.equal({
      password: { quality: 'alphanumeric', minLength: 8 },
      wifi: { ssid: 'Acme Staff', security: 'WPA', password: WIFI_PASSWORD },
      apps: ['com.microsoft.teams', 'com.example.timesheets'],
    });
    expect(dpcSettings({ dpc: DPC, ownership: 'personal' })).to.deep.equal({ apps: [] });
  });
});
