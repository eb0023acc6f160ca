import { z } from 'zod';
import { noControlCharacters, ssid, WPA_PASSPHRASE, WPA_PASSPHRASE_RULE } from '../wifi';

/**
 * Android Enterprise enrolment: the `management` of an Android device template (which device policy controller, the
 * DPC, enrols the devices and what it applies), what the set-up wizard reads from the provisioning QR code of a
 * company-owned device, the link that opens the DPC on a personal one, and what the DPC reports and gets back at
 * check-in. Names in capitals are Android's own DevicePolicyManager constants.
 */

const whole = (min: number, max: number) =>
  z.int({ error: 'a whole number' }).min(min, `from ${min} to ${max}`).max(max, `from ${min} to ${max}`);

// Android's rule for an application id: two or more dot-separated parts, each a letter then letters, digits or '_'.
const PACKAGE = '[a-zA-Z][a-zA-Z0-9_]*(?:\\.[a-zA-Z][a-zA-Z0-9_]*)+';
const PACKAGE_NAME = new RegExp(`^${PACKAGE}$`);
// A Java class name: dot-separated identifiers, '$' for a nested class. ".AdminReceiver" is relative to the package.
const CLASS = '\\.?[A-Za-z_$][A-Za-z0-9_$]*(?:\\.[A-Za-z_$][A-Za-z0-9_$]*)*';
const COMPONENT_NAME = new RegExp(`^(${PACKAGE})/(${CLASS})$`);

const packageName = z
  .string()
  .max(255, 'at most 255 characters')
  .regex(PACKAGE_NAME, 'an Android package name such as com.example.app');

/**
 * → PROVISIONING_DEVICE_ADMIN_SIGNATURE_CHECKSUM: the URL-safe base64 SHA-256 of the DPC's signing certificate. A
 * SHA-256 is 32 bytes, 43 characters without padding. Android would decode a padded or a standard-alphabet value too,
 * but one exact form keeps stored templates comparable; the messages say how to turn the usual forms into it.
 */
const signatureChecksum = z.string().superRefine((value, context) => {
  const fail = (message: string) => context.addIssue({ code: 'custom', message });
  if (/^[A-Za-z0-9_-]{43}$/.test(value)) return;
  if (/^[A-Za-z0-9_-]{43}=$/.test(value)) fail(CHECKSUM_HELP.padded);
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) fail(CHECKSUM_HELP.alphabet);
  else fail(CHECKSUM_HELP.shape);
});

const CHECKSUM_HELP = {
  shape:
    "Android's PROVISIONING_DEVICE_ADMIN_SIGNATURE_CHECKSUM: the URL-safe base64 SHA-256 of the DPC's signing certificate, exactly 43 characters of A-Z, a-z, 0-9, - and _",
  padded: "43 characters without the trailing '=' (Android's PROVISIONING_DEVICE_ADMIN_SIGNATURE_CHECKSUM, no padding)",
  alphabet:
    "URL-safe base64: - and _ instead of + and / (Android's PROVISIONING_DEVICE_ADMIN_SIGNATURE_CHECKSUM, 43 characters)",
};

const dpc = z.strictObject({
  // → PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME: the DPC's DeviceAdminReceiver, as Android writes a ComponentName.
  componentName: z
    .string()
    .max(500, 'at most 500 characters')
    .regex(
      COMPONENT_NAME,
      "the DPC's device admin receiver as package/class, such as com.example.dpc/.AdminReceiver or com.example.dpc/com.example.dpc.AdminReceiver",
    ),
  // → PROVISIONING_DEVICE_ADMIN_PACKAGE_DOWNLOAD_LOCATION. https because the device installs what it downloads as its
  // owner; the bound keeps the QR code small enough to scan from a screen.
  packageDownloadUrl: z
    .url({ protocol: /^https$/, error: 'an https:// address of the DPC app (APK)' })
    .max(1000, 'at most 1000 characters'),
  signatureChecksum,
});

/**
 * A network as Android's PROVISIONING_WIFI_* keys describe it; the check-in's `wifi` uses the same shape. EAP is left
 * out: it needs PROVISIONING_WIFI_EAP_METHOD, an identity and certificates besides.
 */
const wifi = z
  .strictObject({
    ssid,
    security: z.enum(['NONE', 'WPA', 'WEP'], "NONE, WPA or WEP (Android's PROVISIONING_WIFI_SECURITY_TYPE)"),
    password: z.string().optional(),
    hidden: z.boolean().optional(),
  })
  .superRefine(({ security, password }, context) => {
    const fail = (message: string) => context.addIssue({ code: 'custom', path: ['password'], message });
    if (security === 'NONE') {
      if (password !== undefined) fail('an open network (security NONE) has none');
    } else if (password === undefined) {
      fail(`required for a ${security} network`);
    } else if (security === 'WPA' && !WPA_PASSPHRASE.test(password)) {
      // Android hands it to the Wi-Fi stack as a passphrase (quoted), so a 64-digit raw key would not work either.
      fail(WPA_PASSPHRASE_RULE);
    } else if (security === 'WEP' && !WEP_KEY.test(password)) {
      fail('a WEP key: 5 or 13 characters, or 10 or 26 hexadecimal digits');
    }
  });

// Android takes 10 or 26 hex digits as a raw WEP key and anything else as ASCII, which WEP allows at 5 or 13.
const WEP_KEY = /^(?:[ -~]{5}|[ -~]{13}|[0-9A-Fa-f]{10}|[0-9A-Fa-f]{26})$/;

/**
 * The screen lock the DPC requires, DevicePolicyManager's PASSWORD_QUALITY_* from weakest to strongest. Android applies
 * a minimum length only from numeric up, so 'something' (any lock) takes none.
 */
const devicePassword = z
  .strictObject({
    quality: z.enum(
      ['something', 'numeric', 'numeric-complex', 'alphabetic', 'alphanumeric', 'complex'],
      'something, numeric, numeric-complex, alphabetic, alphanumeric or complex',
    ),
    minLength: whole(4, 16).optional(),
  })
  .superRefine(({ quality, minLength }, context) => {
    if (quality === 'something' && minLength !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['minLength'],
        message:
          'Android ignores a minimum length unless the quality is numeric or stronger: choose one, or leave it out',
      });
    }
  });

const apps = z
  .array(packageName)
  .max(50, 'at most 50 apps')
  .superRefine((list, context) => {
    const seen = new Set<string>();
    list.forEach((name, index) => {
      if (seen.has(name)) context.addIssue({ code: 'custom', path: [index], message: `${name} is listed twice` });
      seen.add(name);
    });
  });

export const androidManagement = z
  .strictObject({
    dpc,
    ownership: z.enum(['company', 'personal'], 'company (fully managed) or personal (work profile)'),
    // The network the set-up wizard joins to download the DPC; it travels in the QR code, so in clear on paper or screen.
    setupWifi: wifi.optional(),
    // What the DPC applies once enrolled; the check-in hands it over (dpcSettings).
    password: devicePassword.optional(),
    wifi: wifi.optional(),
    apps: apps.optional(),
  })
  .superRefine(({ ownership, setupWifi }, context) => {
    if (ownership === 'personal' && setupWifi !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['setupWifi'],
        message:
          "only for company-owned devices: the set-up wizard's QR code uses it, and a personal device is already set up and online when its owner installs the app",
      });
    }
  });

export type AndroidManagement = z.infer<typeof androidManagement>;

type Wifi = NonNullable<AndroidManagement['wifi']>;
type RedactedWifi = Omit<Wifi, 'password'> & { passwordSet: boolean };

/** A template's settings as shown back to an administrator: each Wi-Fi password becomes whether there is one. */
export type RedactedAndroidManagement = Omit<AndroidManagement, 'setupWifi' | 'wifi'> & {
  setupWifi?: RedactedWifi;
  wifi?: RedactedWifi;
};

export function redactAndroidManagement(management: AndroidManagement): RedactedAndroidManagement {
  const { setupWifi, wifi, ...rest } = management;
  return {
    ...rest,
    ...(setupWifi && { setupWifi: redactWifi(setupWifi) }),
    ...(wifi && { wifi: redactWifi(wifi) }),
  };
}

function redactWifi({ password, ...shown }: Wifi): RedactedWifi {
  return { ...shown, passwordSet: password !== undefined };
}

/** The package of the DPC: the part of its component name before the '/'. */
export function dpcPackage(management: AndroidManagement): string {
  return management.dpc.componentName.split('/')[0];
}

export interface ProvisioningQrInput {
  management: AndroidManagement;
  enrolmentToken: string;
  checkInUrl: string;
  serviceUrl: string;
  /** BCP 47, such as en-GB (the account template's). */
  locale?: string;
  /** IANA, such as Europe/London. */
  timeZone?: string;
}

const EXTRA = 'android.app.extra.PROVISIONING_';

/**
 * The text of the QR code that Android's set-up wizard scans on a new or reset company-owned device (six taps on the
 * welcome screen): JSON whose keys are DevicePolicyManager's EXTRA_PROVISIONING_* values. The wizard turns each into the
 * typed extra ManagedProvisioning reads, so the JSON types are the extras' types: strings, a boolean for
 * PROVISIONING_WIFI_HIDDEN (read with getBooleanExtra, which would fall back to false for the string "true"), and an
 * object for PROVISIONING_ADMIN_EXTRAS_BUNDLE, which becomes the PersistableBundle the DPC gets in its
 * GET_PROVISIONING_MODE and ADMIN_POLICY_COMPLIANCE intents. PROVISIONING_LEAVE_ALL_SYSTEM_APPS_ENABLED is left out:
 * Android's default (non-essential system apps off) suits a managed device, and the DPC can enable apps later.
 */
export function provisioningQrPayload({
  management,
  enrolmentToken,
  checkInUrl,
  serviceUrl,
  locale,
  timeZone,
}: ProvisioningQrInput): string {
  if (management.ownership !== 'company') {
    // Scanned in the set-up wizard it would make the owner's own device fully managed.
    throw new Error('the provisioning QR code is for company-owned devices; personal ones enrol with the app link');
  }
  const { dpc, setupWifi } = management;
  const payload: Record<string, string | boolean | Record<string, string>> = {
    [`${EXTRA}DEVICE_ADMIN_COMPONENT_NAME`]: dpc.componentName,
    [`${EXTRA}DEVICE_ADMIN_PACKAGE_DOWNLOAD_LOCATION`]: dpc.packageDownloadUrl,
    [`${EXTRA}DEVICE_ADMIN_SIGNATURE_CHECKSUM`]: dpc.signatureChecksum,
  };
  if (setupWifi) {
    payload[`${EXTRA}WIFI_SSID`] = setupWifi.ssid;
    payload[`${EXTRA}WIFI_SECURITY_TYPE`] = setupWifi.security;
    if (setupWifi.password !== undefined) payload[`${EXTRA}WIFI_PASSWORD`] = setupWifi.password;
    payload[`${EXTRA}WIFI_HIDDEN`] = setupWifi.hidden ?? false;
  }
  if (locale) payload[`${EXTRA}LOCALE`] = androidLocale(locale);
  if (timeZone) payload[`${EXTRA}TIME_ZONE`] = timeZone;
  // Strings only, so the DPC reads each with PersistableBundle.getString whatever the wizard's conversion.
  payload[`${EXTRA}ADMIN_EXTRAS_BUNDLE`] = {
    enrolment_token: enrolmentToken,
    check_in_url: checkInUrl,
    service_url: serviceUrl,
  };
  return JSON.stringify(payload);
}

/**
 * Android documents PROVISIONING_LOCALE as language_COUNTRY (en_GB) and writes locales so itself; a BCP 47 tag's
 * script or variants have no place there and are dropped.
 */
export function androidLocale(tag: string): string {
  const { language, region } = new Intl.Locale(tag);
  return region ? `${language}_${region}` : language;
}

export interface PersonalEnrolmentInput {
  management: AndroidManagement;
  enrolmentToken: string;
  checkInUrl: string;
}

/**
 * A link that opens the DPC on a personal device with the enrolment token and check-in URL as string extras, in
 * Chrome's intent: syntax (Android's Intent.parseUri): no data, the DPC's package, ACTION_VIEW. The DPC takes it with an
 * activity whose intent filter has that action and the DEFAULT and BROWSABLE categories (Chrome opens only BROWSABLE
 * ones). Without the app Chrome follows browser_fallback_url, the DPC's Play Store page, and strips that extra before
 * the app sees the intent. Android splits the fragment at ';' and '=' and then percent-decodes each value, so every
 * value is encoded whole; encodeURIComponent leaves only characters that mean nothing there.
 */
export function personalEnrolmentLink({ management, enrolmentToken, checkInUrl }: PersonalEnrolmentInput): string {
  const pkg = dpcPackage(management);
  const playStore = `https://play.google.com/store/apps/details?id=${encodeURIComponent(pkg)}`;
  const parts = [
    `package=${pkg}`,
    'action=android.intent.action.VIEW',
    `S.enrolment_token=${encodeURIComponent(enrolmentToken)}`,
    `S.check_in_url=${encodeURIComponent(checkInUrl)}`,
    `S.browser_fallback_url=${encodeURIComponent(playStore)}`,
  ];
  return `intent:#Intent;${parts.join(';')};end`;
}

const printable = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'required')
    .max(max, `at most ${max} characters`)
    .refine(noControlCharacters, 'no control characters');

/**
 * The `deviceInfo` a DPC sends with its check-in. Which identifier it can read depends on the mode and the Android
 * version: a device owner reads the serial number and IMEI, a work profile from Android 12 on only the
 * enrollment-specific id (DevicePolicyManager.getEnrollmentSpecificId).
 */
export const androidCheckInInfo = z
  .strictObject({
    serialNumber: z
      .string()
      .regex(/^[!-~]{1,64}$/, '1 to 64 letters, digits or ASCII punctuation, no spaces')
      // Build.UNKNOWN: what Android gives an app that may not read the serial number.
      .refine(
        (value) => value.toLowerCase() !== 'unknown',
        "Android's placeholder 'unknown' is no serial number: leave it out",
      )
      .optional(),
    imei: z
      .string()
      .regex(/^\d{15}$/, 'an IMEI: 15 digits')
      .optional(),
    enrollmentSpecificId: z
      .string()
      // Empty is what getEnrollmentSpecificId returns before the DPC has called setOrganizationId.
      .regex(
        /^[!-~]{1,128}$/,
        '1 to 128 letters, digits or ASCII punctuation, no spaces (empty until the DPC has called setOrganizationId)',
      )
      .optional(),
    model: printable(100),
    manufacturer: printable(100).optional(),
    // Build.VERSION.RELEASE: "14", "8.1.0", or a preview's code name.
    androidVersion: z
      .string()
      .max(32, 'at most 32 characters')
      .regex(/^[0-9A-Za-z]+(?:\.[0-9A-Za-z]+)*$/, "Android's version, such as 14 or 8.1.0"),
    sdkInt: whole(1, 1000).optional(),
  })
  .refine(
    (info) => info.serialNumber !== undefined || info.imei !== undefined || info.enrollmentSpecificId !== undefined,
    'at least one identifier: serialNumber, imei or enrollmentSpecificId',
  );

export type AndroidCheckInInfo = z.infer<typeof androidCheckInInfo>;

/**
 * What the check-in answers to the DPC: the template's management settings. The Wi-Fi password stays in clear here,
 * the device being what joins the network; apps is always a list so the DPC need not tell absent from empty.
 */
export interface DpcSettings {
  password?: AndroidManagement['password'];
  wifi?: Wifi;
  apps: string[];
}

export function dpcSettings(management: AndroidManagement): DpcSettings {
  const { password, wifi, apps = [] } = management;
  return { ...(password && { password }), ...(wifi && { wifi }), apps };
}
