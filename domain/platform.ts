/** The platforms owners enrol, and what a device's record can say about it: shared by every layer. */

export const PLATFORMS = ['android', 'ios', 'macos', 'windows'] as const;
export type Platform = (typeof PLATFORMS)[number];

/**
 * Where the SMS of a device whose link goes by SMS stands: a code went to a number not yet proven for the account,
 * which the owner types to have the link sent there; or the link itself went.
 */
export type SmsState = 'code-sent' | 'link-sent';

/** `unenrolled`: an MDM-managed device that checked out (its management profile was removed on the device). */
export type DeviceState = 'link-issued' | 'enrolled' | 'link-expired' | 'removed' | 'unenrolled';

/** Whether the device template's settings are on an MDM-managed device: queued, answered yes, or answered no. */
export type SettingsStatus = 'pending' | 'applied' | 'failed';

export interface IssuedDevice {
  id: string;
  platform: Platform;
  /** Which link of this device; the API derives the link token from the device id and this number. */
  linkNumber: number;
  expiresAt: string;
}
