import { WorkflowNotFoundError } from '@temporalio/common';
import { deviceWorkflowId } from '../domain/ids';
import type { SmsState } from '../domain/platform';
import { phoneHashOf } from '../lib/secrets';
import type { ProvisioningLink } from '../platforms/link';
import { traitsOf } from '../platforms/traits';
import { provePhoneUpdate, smsStateQuery } from '../workflows/device/messages';
import { type AttemptLimits, type Counter, isWrongCode } from './attempts';
import type { ServiceDeps } from './context';
import { HttpError } from './errors';

/** A change to an owner's devices, as the limits count it. */
export interface DeviceChange {
  userId: number;
  organisation: string;
  /** A new device (adding one, a registration's device step), counted against the devices made in a day. */
  creates?: boolean;
  /** The number the device's link goes to by SMS, if its platform sends one. */
  phone?: string;
  /** An operator acting for the owner: not counted against the owner's changes a minute. */
  byOperator?: boolean;
}

/**
 * What an owner's device requests may cost and leave behind, counted before any run is started or SMS sent: SMS per
 * account, per number and per organisation a day (SMS cost money, and carry the organisation's name), devices made
 * per account a day (removed ones too, so adding and removing cannot grow the records without end), and adds, new links
 * and removals per account a minute. And the proof of a phone number: a number not proven for the account is sent a
 * code, and its link only once the owner has typed the code.
 */
export function createDeviceLimits({ client, models, secrets, config }: ServiceDeps, attempts: AttemptLimits) {
  const { limits } = config;
  const changes = attempts.limiter('device-changes', limits.deviceChanges);
  const made = attempts.limiter('devices-made', limits.devicesPerAccount);
  const smsPerAccount = attempts.limiter('sms-account', limits.smsPerAccount);
  const smsPerNumber = attempts.limiter('sms-number', limits.smsPerNumber);
  const smsPerOrganisation = attempts.limiter('sms-organisation', limits.smsPerOrganisation);
  // Wrong phone codes per client address, on a count of their own: a neighbour behind the same address guessing at
  // phone codes must not lock the owner out of verifying an e-mail address, nor the other way round.
  const codesPerAddress = attempts.limiter('phone-code-address', limits.codesPerAddress);

  const isProven = async (userId: number, phone: string) =>
    (await models.ProvenPhone.findOne({ where: { userId, phoneHash: phoneHashOf(secrets, phone) } })) !== null;

  /** Takes from each group of counters in turn; past one, what the groups before it took is given back. */
  const takeAll = async (groups: Array<[Counter[], string]>) => {
    const taken: Array<{ giveBack: () => Promise<void> }> = [];
    const giveBack = async () => {
      await Promise.all(taken.map((group) => group.giveBack()));
    };
    try {
      for (const [counters, message] of groups) taken.push(await attempts.take(counters, message));
    } catch (error) {
      await giveBack();
      throw error;
    }
    return { giveBack };
  };

  return {
    /**
     * Counts a change, and the SMS it sends, then runs it: `run` is told whether the number must be proven first. A
     * number not proven costs two SMS (the code, and the link that follows it). The SMS are given back when the run
     * refused before sending any; the change stays counted, since a run was started.
     */
    async counted<T>(
      change: DeviceChange,
      run: (proveNumber: boolean) => Promise<T>,
    ): Promise<{ result: T; sms?: SmsState }> {
      const account = String(change.userId);
      const groups: Array<[Counter[], string]> = [];
      if (!change.byOperator) {
        groups.push([[[changes, account]], 'Too many changes to your devices at once. Wait a minute and try again.']);
      }
      if (change.creates) {
        groups.push([[[made, account]], 'You have added as many devices as you can in a day. Try again tomorrow.']);
      }
      const proveNumber = change.phone !== undefined && !(await isProven(change.userId, change.phone));
      const paid: Counter[] = [
        [smsPerAccount, account],
        [smsPerOrganisation, change.organisation],
      ];
      // A number not proven costs the account and the organisation two SMS (its code, then the link) and the number
      // one: only the code goes to a holder who has not said yes. A number the account has proven is not counted
      // per number, so strangers sending codes to it cannot keep its owner's links from it.
      const sent: Counter[] =
        change.phone === undefined
          ? []
          : proveNumber
            ? [...paid, ...paid, [smsPerNumber, phoneHashOf(secrets, change.phone)]]
            : paid;
      const kept = await takeAll(groups);
      const sms = await takeAll(
        sent.length ? [[sent, 'Too many SMS have been sent for now. Try again later.']] : [],
      ).catch(async (error: unknown) => {
        await kept.giveBack();
        throw error;
      });
      try {
        const result = await run(proveNumber);
        return { result, sms: change.phone === undefined ? undefined : proveNumber ? 'code-sent' : 'link-sent' };
      } catch (error) {
        await sms.giveBack();
        throw error;
      }
    },

    /**
     * A live link as it is shown again: for a platform whose link goes by SMS, with where that SMS stands now (runs from
     * before phone numbers were proven sent the link at once).
     */
    async shown(link: ProvisioningLink): Promise<ProvisioningLink> {
      if (!traitsOf(link.platform).linkBySms) return link;
      const sms = await client.workflow
        .getHandle(deviceWorkflowId(link.id))
        .query(smsStateQuery)
        .then(
          (state): SmsState => state ?? 'link-sent',
          (): SmsState => 'link-sent',
        );
      return { ...link, sms };
    },

    /**
     * The code the owner typed for a device's phone number; right, the number is proven for the account and the link
     * goes to it by SMS. Wrong codes are limited per code in the run, and here per client address.
     */
    provePhone: (deviceId: string, code: string, address: string): Promise<{ sms: SmsState }> =>
      attempts.attempt(
        [[codesPerAddress, address]],
        'Too many wrong codes from here. Wait a while before trying again.',
        () =>
          client.workflow
            .getHandle(deviceWorkflowId(deviceId))
            .executeUpdate(provePhoneUpdate, { args: [{ codeHash: secrets.keyedHash('phone-code', code) }] })
            .catch((error: unknown) => {
              if (error instanceof WorkflowNotFoundError) throw notWaiting();
              throw error;
            }),
        isWrongCode,
      ),
  };
}

const notWaiting = () => new HttpError('wrong_step', 'No phone number of this device is waiting for its code.');

export type DeviceLimits = ReturnType<typeof createDeviceLimits>;
