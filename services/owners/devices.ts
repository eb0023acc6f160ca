import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/common';
import { Op } from 'sequelize';
import { removeDeviceRecord } from '../../db/devices';
import type { Device } from '../../db/models';
import { assertRoomForDevice, offeredPlatforms, offeredTemplate } from '../../db/policy';
import { deviceWorkflowId, managedDeviceWorkflowId } from '../../domain/ids';
import type { DeviceState, IssuedDevice, Platform, SettingsStatus } from '../../domain/platform';
import { codeRulesOf, DEFAULT_SETTINGS_TIMEOUT_MS } from '../../domain/timings';
import { homeOf } from '../../platforms';
import type { ProvisioningLink } from '../../platforms/link';
import { smsPhoneFor, traitsOf } from '../../platforms/traits';
import { type DeviceInput, deviceLinkUpdate, removeDeviceUpdate } from '../../workflows/device/messages';
import type { device as deviceWorkflow } from '../../workflows/device/workflow';
import type { managedDevice as managedDeviceWorkflow } from '../../workflows/managed-device/workflow';
import type { ServiceDeps } from '../context';
import type { DeviceLimits } from '../device-limits';
import { HttpError } from '../errors';
import { flowStart } from '../flow-start';
import type { Owner } from './accounts';

/** Whose devices: a signed-in owner, or the owner an operator acts for (services/admin/devices.ts). */
export type DeviceOwner = Pick<Owner, 'user' | 'organisation'>;

import type { Provisioning } from '../provisioning';

export interface OwnedDevice {
  id: string;
  platform: Platform;
  name: string;
  state: DeviceState;
  enrolledAt?: string;
  linkExpiresAt?: string;
  removedAt?: string;
  unenrolledAt?: string;
  /** MDM-managed devices: whether the device template's settings are on the device; `error` is the device's reason. */
  settings?: { status: SettingsStatus; error?: string };
}

export function describe(device: Device): OwnedDevice {
  const state = device.stateNow();
  return {
    id: device.id,
    platform: device.platform,
    name: device.name,
    state,
    enrolledAt: device.enrolledAt?.toISOString(),
    linkExpiresAt: state === 'link-issued' || state === 'link-expired' ? device.linkExpiresAt.toISOString() : undefined,
    removedAt: device.removedAt?.toISOString(),
    unenrolledAt: device.unenrolledAt?.toISOString(),
    settings: device.settingsStatus
      ? { status: device.settingsStatus, error: homeOf(device.platform).settingsErrorText?.(device.settingsDetail) }
      : undefined,
  };
}

/**
 * A signed-in owner's devices: listing, adding one, a new link for one whose link expired, removing one.
 * Adding and relinking start the same device workflow a registration starts for its first device; the API only
 * checks what it can answer at once and asks the run for its link, in one round-trip (update-with-start).
 */
export function createOwnerDevices(deps: ServiceDeps, provisioning: Provisioning, limits: DeviceLimits) {
  const { client, models, config } = deps;
  const engines = { apple: Boolean(deps.apple) };

  /** One of the owner's devices that is not removed; anyone else's, or an unknown id, is simply not found. */
  const ownDevice = async (owner: DeviceOwner, id: string): Promise<Device> => {
    const device = await models.Device.findOne({ where: { id, userId: owner.user.id, state: { [Op.ne]: 'removed' } } });
    if (!device) throw new HttpError('device_not_found', 'You have no such device.');
    return device;
  };

  const newLinkOf = (id: string, platform: Platform, linkNumber: number): IssuedDevice => ({
    id,
    platform,
    linkNumber,
    expiresAt: new Date(Date.now() + config.timings.linkTtlMs).toISOString(),
  });

  /** Starts the device's run, which makes or renews the record, and answers with its link once it has. */
  const startRun = async (
    owner: DeviceOwner,
    device: IssuedDevice,
    record: DeviceInput['record'],
    more: Pick<DeviceInput, 'smsPhone' | 'requestedBy'> = {},
    proveNumber = false,
  ) => {
    const { slug } = owner.organisation;
    try {
      const answer = await client.workflow.executeUpdateWithStart(deviceLinkUpdate, {
        startWorkflowOperation: flowStart<typeof deviceWorkflow>(config.temporal.taskQueue, 'device', {
          workflowId: deviceWorkflowId(device.id),
          args: [
            {
              organisation: slug,
              email: owner.user.email,
              device,
              ...more,
              phoneCode: proveNumber ? codeRulesOf(config.timings) : undefined,
              record,
              reminderBeforeMs: config.timings.linkReminderMs,
              settingsTimeoutMs: config.timings.settingsTimeoutMs,
            },
          ],
          organisation: slug,
          email: owner.user.email,
          step: 'provision',
          conflict: 'FAIL',
        }),
      });
      return provisioning.link(answer.device);
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        throw new HttpError('busy', 'This device’s previous link is still being closed; try again in a moment.');
      }
      throw error;
    }
  };

  /** The removal itself, once counted. */
  const removeDevice = async (owner: DeviceOwner, device: Device, by?: string): Promise<void> => {
    const { id } = device;
    if (device.state === 'enrolled' && traitsOf(device.platform).mdmManaged && device.deviceInfo?.udid) {
      // Its managed run unenrols it; if an operator ended that run, a new one takes the device over to do so.
      await client.workflow.executeUpdateWithStart(removeDeviceUpdate, {
        args: [{ by }],
        startWorkflowOperation: flowStart<typeof managedDeviceWorkflow>(config.temporal.taskQueue, 'managedDevice', {
          workflowId: managedDeviceWorkflowId(id),
          args: [
            {
              organisation: owner.organisation.slug,
              email: owner.user.email,
              deviceId: id,
              linkNumber: device.linkNumber,
              settingsTimeoutMs: config.timings.settingsTimeoutMs ?? DEFAULT_SETTINGS_TIMEOUT_MS,
              takeOver: true,
            },
          ],
          organisation: owner.organisation.slug,
          email: owner.user.email,
          step: 'done',
          conflict: 'USE_EXISTING',
        }),
      });
      return;
    }
    if (device.state === 'link-issued') {
      try {
        await client.workflow.getHandle(deviceWorkflowId(id)).executeUpdate(removeDeviceUpdate, { args: [{ by }] });
        return;
      } catch (error) {
        // The run has just ended (enrolled or expired): nothing holds the record any more.
        if (!(error instanceof WorkflowNotFoundError)) throw error;
      }
    }
    await removeDeviceRecord(models, id);
  };

  return {
    async list(owner: Owner): Promise<OwnedDevice[]> {
      const devices = await models.Device.findAll({ where: { userId: owner.user.id }, order: [['createdAt', 'ASC']] });
      return devices.map(describe);
    },

    async get(owner: Owner, id: string): Promise<OwnedDevice> {
      return describe(await ownDevice(owner, id));
    },

    /** The link of a device whose link is live, to show again (QR page). */
    async currentLink(owner: DeviceOwner, id: string): Promise<ProvisioningLink | undefined> {
      const device = await ownDevice(owner, id);
      if (device.stateNow() !== 'link-issued') return undefined;
      return limits.shown(await provisioning.linkOf(device));
    },

    /** The platforms the owner's organisation offers now (none while self-service is off there). */
    async platforms(owner: Owner): Promise<Platform[]> {
      return offeredPlatforms(models, owner.organisation.slug, engines).then(
        ({ offered }) => [...offered.keys()],
        () => [],
      );
    },

    async add(owner: Owner, choice: { platform: Platform; phone?: string }): Promise<ProvisioningLink> {
      // The quick answers; the run checks both again as it makes the record.
      const { organisation } = await offeredTemplate(models, owner.organisation.slug, choice.platform, engines);
      await assertRoomForDevice(models, organisation, owner.user.id);
      const smsPhone = smsPhoneFor(choice.platform, choice.phone, owner.user.phone);
      const { result: link, sms } = await limits.counted(
        { userId: owner.user.id, organisation: organisation.slug, creates: true, phone: smsPhone },
        (proveNumber) =>
          startRun(
            owner,
            newLinkOf(randomUUID(), choice.platform, 1),
            { kind: 'create', userId: owner.user.id },
            { smsPhone },
            proveNumber,
          ),
      );
      // The number asked for once is the account's from now on.
      if (choice.phone && !owner.user.phone) await owner.user.update({ phone: choice.phone });
      return { ...link, sms };
    },

    /** `requestedBy`: the operator who asks for the owner, named in the run's input. */
    async newLink(
      owner: DeviceOwner,
      id: string,
      choice: { phone?: string; requestedBy?: string } = {},
    ): Promise<ProvisioningLink> {
      const device = await ownDevice(owner, id);
      const state = device.stateNow();
      if (state === 'enrolled') throw new HttpError('wrong_step', 'This device is already enrolled.');
      if (state === 'link-issued') throw new HttpError('wrong_step', 'This device’s link is still valid.');
      const smsPhone = smsPhoneFor(device.platform, choice.phone, owner.user.phone);
      const change = { userId: owner.user.id, organisation: owner.organisation.slug, phone: smsPhone };
      const { result: link, sms } = await limits.counted(
        { ...change, byOperator: choice.requestedBy !== undefined },
        (proveNumber) =>
          startRun(
            owner,
            newLinkOf(device.id, device.platform, device.linkNumber + 1),
            { kind: 'relink' },
            { smsPhone, requestedBy: choice.requestedBy },
            proveNumber,
          ),
      );
      return { ...link, sms };
    },

    /** The code sent to the number of a device whose link is live: the number is proven, and the link goes to it. */
    async provePhone(owner: Owner, id: string, code: string, address: string) {
      const device = await ownDevice(owner, id);
      if (device.stateNow() !== 'link-issued') throw new HttpError('wrong_step', 'This device’s link is not live.');
      return limits.provePhone(device.id, code, address);
    },

    /**
     * Removes a device: a live link dies at once and its run ends; a managed (Apple) device is also unenrolled by the
     * run that manages it; a device no run holds is marked directly. An operator's removal names them in the run's
     * history (`by`).
     */
    async remove(owner: DeviceOwner, id: string, by?: string): Promise<void> {
      const device = await ownDevice(owner, id);
      const change = { userId: owner.user.id, organisation: owner.organisation.slug, byOperator: by !== undefined };
      await limits.counted(change, () => removeDevice(owner, device, by));
    },
  };
}

export type OwnerDevices = ReturnType<typeof createOwnerDevices>;
