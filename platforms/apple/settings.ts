import { z } from 'zod';
import { ssid, WPA_PASSPHRASE, WPA_PASSPHRASE_RULE } from '../wifi';

/**
 * The `management` field of an iPhone/iPad or Mac device template: what its devices get once enrolled, each part one
 * payload of the settings profile (platforms/apple/profiles.ts). Bounds are those of Apple's published schema
 * (apple/device-management, mdm/profiles), so a template accepted here is one a device accepts.
 */

const whole = (min: number, max: number) =>
  z.int({ error: 'a whole number' }).min(min, `from ${min} to ${max}`).max(max, `from ${min} to ${max}`);

/** → com.apple.mobiledevice.passwordpolicy. Even an empty one makes the device ask for a passcode. */
const passcode = z.strictObject({
  minLength: whole(0, 16).optional(),
  requireAlphanumeric: z.boolean().optional(),
  allowSimple: z.boolean().optional(),
  minComplexChars: whole(0, 4).optional(),
  // Apple's iOS bound; macOS would take up to 60, but one bound keeps a template valid on both.
  maxInactivityMinutes: whole(0, 15).optional(),
  maxFailedAttempts: whole(2, 11).optional(),
  maxPasscodeAgeDays: whole(1, 730).optional(),
  pinHistory: whole(1, 50).optional(),
});

const passphrase = z.string().regex(WPA_PASSPHRASE, WPA_PASSPHRASE_RULE);

/**
 * → com.apple.wifi.managed. `security` uses Apple's EncryptionType names: WPA2 joins WPA2 or WPA3 networks (iOS 16,
 * macOS 13 and later), WPA3 only WPA3 ones.
 */
const wifi = z
  .strictObject({
    ssid,
    security: z.enum(['None', 'WPA2', 'WPA3'], 'None, WPA2 or WPA3'),
    password: passphrase.optional(),
    hidden: z.boolean().optional(),
    autoJoin: z.boolean().optional(),
  })
  .superRefine(({ security, password }, context) => {
    if (security !== 'None' && password === undefined) {
      context.addIssue({ code: 'custom', path: ['password'], message: `required for a ${security} network` });
    }
    if (security === 'None' && password !== undefined) {
      context.addIssue({ code: 'custom', path: ['password'], message: 'an open network (security None) has none' });
    }
  });

/**
 * → com.apple.applicationaccess, under Apple's own key names. On iPhones and iPads enrolled without supervision (as
 * self-service ones are) iOS ignores allowAppInstallation and is phasing out allowCamera and allowCloudBackup.
 */
const restrictions = z.strictObject({
  allowCamera: z.boolean().optional(),
  allowScreenShot: z.boolean().optional(),
  allowAppInstallation: z.boolean().optional(),
  allowCloudBackup: z.boolean().optional(),
  forceEncryptedBackup: z.boolean().optional(),
});

export const appleManagement = z.strictObject({
  passcode: passcode.optional(),
  wifi: wifi.optional(),
  restrictions: restrictions.optional(),
});

export type AppleManagement = z.infer<typeof appleManagement>;

type Wifi = NonNullable<AppleManagement['wifi']>;

/** A template's settings as shown back to an administrator: the Wi-Fi password becomes whether there is one. */
export type RedactedAppleManagement = Omit<AppleManagement, 'wifi'> & {
  wifi?: Omit<Wifi, 'password'> & { passwordSet: boolean };
};

export function redactAppleManagement(management: AppleManagement): RedactedAppleManagement {
  const { wifi, ...rest } = management;
  if (!wifi) return rest;
  const { password, ...shown } = wifi;
  return { ...rest, wifi: { ...shown, passwordSet: password !== undefined } };
}
