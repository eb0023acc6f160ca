import { allHandlersFinished, condition, log, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { domainError, unwrapDomainError } from './errors';
import { checkInUpdate, type DeviceInput, type DeviceOutcome, type DeviceState, deviceStateQuery } from './messages';
import { stepActivities } from './util';

const steps = () => stepActivities<Activities>();
const { sendProvisioningSms, sendEnrolledMail } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m', nonRetryableErrorTypes: ['invalid_phone'] },
});

/**
 * One device's provisioning: its single-use link is issued (and for Android sent by SMS), then the device checks in
 * before the link expires, or the link dies. The check-in is an update, so two check-ins racing get one winner.
 */
export async function device({ email, device, deviceName, smsPhone }: DeviceInput): Promise<DeviceOutcome> {
  let state = 'link-issued' as DeviceState;
  let checkingIn = false;

  setHandler(
    checkInUpdate,
    async ({ deviceInfo }) => {
      checkingIn = true;
      try {
        await steps().markEnrolled({ deviceId: device.id, linkNumber: device.linkNumber, deviceInfo });
        state = 'enrolled';
        return { state };
      } catch (error) {
        throw unwrapDomainError(error);
      } finally {
        checkingIn = false;
      }
    },
    {
      validator: (_checkIn) => {
        if (checkingIn || state === 'enrolled')
          throw domainError('link_used', 'This provisioning link has already been used.');
        if (state !== 'link-issued') throw domainError('link_expired', 'This provisioning link has expired.');
      },
    },
  );
  setHandler(deviceStateQuery, () => state);

  if (smsPhone) {
    // In the background: an SMS outage must not hold up the link the owner already has on screen.
    void sendProvisioningSms({ deviceId: device.id, linkNumber: device.linkNumber, phone: smsPhone }).catch((error) =>
      log.warn('provisioning SMS not sent', { error: String(error) }),
    );
  }

  const enrolled = await condition(() => state === 'enrolled', Math.max(Date.parse(device.expiresAt) - Date.now(), 1));
  if (!enrolled) await condition(() => !checkingIn);
  if (state === 'enrolled') {
    await sendEnrolledMail({ email, deviceId: device.id, deviceName });
  } else {
    state = 'link-expired';
    await steps().expireLink({ deviceId: device.id, linkNumber: device.linkNumber });
  }
  await condition(allHandlersFinished);
  return { state };
}
