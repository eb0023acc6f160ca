import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Actor } from '../../domain/actor';
import type { DeviceState, IssuedDevice, SmsState } from '../../domain/platform';
import type { CodeRules } from '../../domain/timings';

/** A device's messages (its link, check-in, phone proof and removal), shared by the device's runs and the API. */

export interface DeviceInput {
  organisation: string;
  email: string;
  device: IssuedDevice;
  /** Set when the device record already exists: the registration made it before starting this run as its child. */
  deviceName?: string;
  /** Set when the platform enrols through an SMS with the link (Android). */
  smsPhone?: string;
  /**
   * Set when `smsPhone` is not proven for the owner's account yet: a code goes to it first, and the link only once the
   * owner has typed the code (`provePhone`). Absent in runs before phone numbers were proven.
   */
  phoneCode?: CodeRules;
  /**
   * A run a signed-in owner started makes its record first: a new device of that owner, or a new link for one whose
   * link expired. A refusal (limit reached, platform withdrawn) fails the `link` update and ends the run.
   */
  record?: { kind: 'create'; userId: number } | { kind: 'relink' };
  /** When to remind the owner before the link expires; absent in runs started before reminders. */
  reminderBeforeMs?: number;
  /** MDM-managed devices: how long to wait for the device's answer to the settings command before saying so. */
  settingsTimeoutMs?: number;
  /** The operator who gave the owner this link (the admin console's address); absent when the owner asked, and in older runs. */
  requestedBy?: string;
}

export interface DeviceOutcome {
  /** `refused`: a run that was to make the record could not (see `DeviceInput.record`). */
  state: DeviceState | 'refused';
}

export const checkInUpdate = defineUpdate<DeviceOutcome, [{ deviceInfo?: Record<string, unknown> }]>('checkIn');
export const deviceStateQuery = defineQuery<DeviceState>('deviceState');
/** The owner's proof of the SMS number: the keyed hash of the code sent to it. The link then goes there by SMS. */
export const provePhoneUpdate = defineUpdate<{ sms: SmsState }, [{ codeHash: string }]>('provePhone');
/** Where the run's SMS stands; undefined for a platform that sends none. */
export const smsStateQuery = defineQuery<SmsState | undefined>('smsState');
/** The run's link once its record is ready: what the API asks with update-with-start when an owner adds a device. */
export const deviceLinkUpdate = defineUpdate<{ device: IssuedDevice; deviceName: string }>('link');
/**
 * The owner or an operator removes the device: its link dies at once and the run ends. An operator's removal names
 * them (`by`), kept in the history as the update's argument; the owner's names no one, and removals before operators
 * had no argument at all (their handlers take it as optional).
 */
export const removeDeviceUpdate = defineUpdate<DeviceOutcome, [Partial<Actor>]>('remove');
