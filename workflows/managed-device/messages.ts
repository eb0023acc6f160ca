import { defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DeviceOutcome } from '../device/messages';

export interface ManagedDeviceInput {
  organisation: string;
  email: string;
  deviceId: string;
  /** The link the device enrolled through: its enrolment id, and its commands' UUIDs, derive from it. */
  linkNumber: number;
  /** How long to wait for the device's answer to the settings command (and for its check-out after a removal). */
  settingsTimeoutMs: number;
  /**
   * Started to take over a device whose run an operator ended (its removal must still reach the device): the settings
   * were that run's business, so this one only waits for the device to leave.
   */
  takeOver?: boolean;
}

/** An MDM-managed device checked out (NanoMDM took its CheckOut): it is unenrolled and its run ends. */
export const checkOutUpdate = defineUpdate<DeviceOutcome>('checkOut');
/** The device's answer to the settings command (NanoMDM's webhook): Acknowledged, or Error with Apple's error chain. */
export interface SettingsResult {
  commandUuid: string;
  status: 'Acknowledged' | 'Error';
  errorChain?: unknown[];
}
export const settingsResultSignal = defineSignal<[SettingsResult]>('settingsResult');
