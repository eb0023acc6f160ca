import { domainError } from '../domain/errors';
import type { Platform } from '../domain/platform';
import { ANDROID_TRAITS } from './android/traits';
import { APPLE_TRAITS } from './apple/traits';
import { WINDOWS_TRAITS } from './windows/traits';

/**
 * What each platform is, in pure data and functions (no I/O, no Node built-ins): what the workflows, the database's
 * settings rules and the pages need to know about a platform without reaching its engines. A platform's server side
 * (how its link starts enrolment, what it delivers, its engines) is its home, in platforms/index.ts.
 */
export interface PlatformTraits {
  /**
   * Enrolled and then managed through Apple's MDM protocol by this service's engines (NanoMDM): its check-ins come
   * from there (never from a device app or an organisation's MDM), and a managed-device run follows its enrolment.
   */
  mdmManaged: boolean;
  /** Its link also goes by SMS (enrolment starts on the phone itself): why a phone number is needed, when missing. */
  linkBySms?: { phoneRequired: string };
  /** Whether an organisation that has a device template for it can offer it now (what else it needs). */
  offered(context: OfferContext): boolean;
  /** What `offered` asks, in the words of the admin console. */
  offeredWhen: string;
  /** How its owners know it: a name and a line of text about how it enrols. */
  choice: { name: string; text: string };
}

export interface OfferContext {
  /** The system settings' per-platform part (`SystemSettings.platforms`). */
  systemPlatforms: { android?: { useSmsInstallationCode?: boolean } };
  organisation: { windowsMdmDiscoveryUrl?: string | null };
  /** What this server can enrol at all: Apple devices need NanoMDM and a SCEP server. */
  engines: { apple: boolean };
}

/** Every platform, by name: a new platform is a folder under platforms/ and one line here (and in platforms/index.ts). */
const TRAITS: Record<Platform, PlatformTraits> = {
  android: ANDROID_TRAITS,
  ios: APPLE_TRAITS.ios,
  macos: APPLE_TRAITS.macos,
  windows: WINDOWS_TRAITS,
};

export const traitsOf = (platform: Platform): PlatformTraits => TRAITS[platform];

/**
 * The mobile number a platform's link goes to by SMS: the first one known (typed now, or the account's), or undefined
 * for a platform that sends none; a platform that needs one and has none is refused with `phone_required`.
 */
export function smsPhoneFor(platform: Platform, ...known: Array<string | null | undefined>): string | undefined {
  const { linkBySms } = TRAITS[platform];
  if (!linkBySms) return undefined;
  const phone = known.find((candidate) => candidate);
  if (!phone) throw domainError('phone_required', linkBySms.phoneRequired);
  return phone;
}
