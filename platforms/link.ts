import type { IssuedDevice, Platform, SmsState } from '../domain/platform';
import type { Secrets } from '../lib/secrets';
import { instructionsFor } from '.';
import { provisioningUrl } from './urls';

/** What every platform's provisioning link is: its URL, how the device starts enrolling, and what the owner is shown. */

/**
 * How a device starts enrolling from its link: Apple devices install the profile the link delivers; a Windows PC opens
 * Settings' work-account enrolment with Windows' own deep link; a company-owned Android device scans the provisioning
 * QR code in its set-up wizard; a personal one opens the organisation's device policy app with the token.
 */
export type EnrolmentStart =
  | { kind: 'apple-profile' }
  | { kind: 'windows'; url: string }
  | { kind: 'android-qr'; qrPayload: string }
  | { kind: 'android-app'; url: string };

export interface ProvisioningLink {
  id: string;
  platform: Platform;
  provisioningUrl: string;
  instructions: string[];
  expiresAt: string;
  /** How the device starts enrolling; absent when the organisation's settings for it are missing now. */
  start?: EnrolmentStart;
  /** A platform whose link goes by SMS: whether a code went first, to prove the number, or the link itself. */
  sms?: SmsState;
}

/** What the owner is shown for an issued link: the URL (derived from the device id and link number) and the steps. */
export function provisioningLink(
  publicUrl: string,
  secrets: Pick<Secrets, 'linkToken'>,
  { id, platform, linkNumber, expiresAt }: IssuedDevice,
  start?: EnrolmentStart,
): ProvisioningLink {
  return {
    id,
    platform,
    provisioningUrl: provisioningUrl(publicUrl, secrets.linkToken(id, linkNumber)),
    instructions: instructionsFor(platform, start),
    expiresAt,
    start,
  };
}

export interface EnrolmentPayload {
  contentType: string;
  fileName: string;
  body: Buffer;
}
