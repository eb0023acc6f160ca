import type { WorkflowHandle } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { accountOf, assertEmailAllowed, offeredPlatforms, openOrganisation } from '../db/policy';
import { registrationWorkflowId } from '../domain/ids';
import type { IssuedDevice, Platform } from '../domain/platform';
import { randomToken } from '../lib/secrets';
import type { ProvisioningLink } from '../platforms/link';
import { smsPhoneFor } from '../platforms/traits';
import {
  type Caller,
  chooseDeviceUpdate,
  profileUpdate,
  registerUpdate,
  resendUpdate,
  type Step,
  statusQuery,
  verifyByLinkUpdate,
  verifyUpdate,
} from '../workflows/registration/messages';
import type { registration } from '../workflows/registration/workflow';
import { type AttemptLimits, isWrongCode } from './attempts';
import type { ServiceDeps } from './context';
import type { DeviceLimits } from './device-limits';
import { HttpError } from './errors';
import { addressFlowStart } from './flow-start';
import type { PasswordWork } from './password-work';
import type { Provisioning } from './provisioning';
import { opaqueParam } from './schemas';

/**
 * What a device owner can do with a registration, over the registration workflow's messages: the one place both the
 * JSON API (api/setup.ts) and the web pages use. Secrets are hashed here, before anything reaches Temporal.
 */
export function createRegistrationService(
  { client, models, secrets, config, apple }: ServiceDeps,
  {
    attempts,
    passwords,
    deviceLimits,
  }: { attempts: AttemptLimits; passwords: PasswordWork; deviceLimits: DeviceLimits },
  provisioning: Provisioning,
) {
  const verifyPerAddress = attempts.limiter('code-address', config.limits.codesPerAddress);
  const verifyPerOrganisation = attempts.limiter('verify-organisation', config.limits.verifyPerOrganisation);
  const resumesPerAddress = attempts.limiter('resume-address', config.limits.resumesPerAddress);
  /** The workflow behind a registration id: only ids this service's key made open. */
  const workflowIdOf = (registrationId: string) => {
    const workflowId = opaqueParam.safeParse(registrationId).success ? secrets.workflowIdOf(registrationId) : undefined;
    if (!workflowId) throw new HttpError('not_found', 'There is no such registration.');
    return workflowId;
  };
  /** The registration behind an id and the caller's proof (the keyed hash of the registration token). */
  const target = (registrationId: string, token: string) => ({
    handle: client.workflow.getHandle(workflowIdOf(registrationId)),
    caller: { tokenHash: secrets.keyedHash('registration-token', token) },
  });

  /**
   * Runs a step's update. A finished registration's workflow no longer takes updates; its last state (a query still
   * answers) says why, in the contract's terms.
   */
  const runStep = async <T>(
    registrationId: string,
    token: string,
    update: (handle: WorkflowHandle, caller: Caller) => Promise<T>,
  ) => {
    const { handle, caller } = target(registrationId, token);
    try {
      return await update(handle, caller);
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      const answer = await handle.query(statusQuery, caller).catch(() => undefined);
      if (answer?.ok && answer.registration.step === 'expired') throw registrationExpired();
      if (answer?.ok) throw registrationComplete();
      throw error;
    }
  };

  /** The refusal the workflow would give a step asked for at another step, said before any costly work. */
  const refuseUnlessAt = (step: Step, wanted: Step) => {
    if (step === wanted) return;
    if (step === 'expired') throw registrationExpired();
    if (step === 'verify-email') throw new HttpError('wrong_step', 'Verify your e-mail address first.');
    if (step === 'done') throw registrationComplete();
    throw new HttpError('wrong_step', `This registration is at step "${step}", not "${wanted}".`);
  };

  /** The registration as the caller's browser sees it; a complete one's token is spent and reads nothing more. */
  const view = async (registrationId: string, token: string) => {
    const { handle, caller } = target(registrationId, token);
    const answer = await handle.query(statusQuery, caller);
    if (!answer.ok) throw new HttpError('unauthorized', 'This registration token is not valid.');
    if (answer.registration.step === 'done') throw registrationComplete();
    return answer.registration;
  };

  /** The organisation and address a registration's workflow id names. */
  const partsOf = (workflowId: string): [string, string] => {
    const [, organisation, email] = /^registration\/([^/]+)\/(.+)$/.exec(workflowId) ?? [];
    if (!organisation || !email) throw new HttpError('not_found', 'There is no such registration.');
    return [organisation, email];
  };
  const organisationOf = (workflowId: string) => partsOf(workflowId)[0];

  const link = (issued: IssuedDevice) => provisioning.link(issued);
  /** The device being set up now, while its link is live. */
  const liveDevice = async (registrationId: string, token: string) =>
    (await view(registrationId, token)).devices.filter(({ state }) => state === 'link-issued').at(-1);

  const service = {
    /**
     * Starts a registration, or resumes the open one of the same address; the token is for this client only. Each
     * opens a session on the registration (which drops a stranger's unverified one when full), so one client address
     * may do it only so often for one address.
     */
    async register(input: { organisation?: string; email: string }, address: string) {
      const organisation = await openOrganisation(models, input.organisation);
      assertEmailAllowed(organisation, input.email);
      const token = randomToken();
      const workflowId = registrationWorkflowId(organisation.slug, input.email);
      await attempts.take(
        [[resumesPerAddress, `${secrets.keyedHash('resume', workflowId)}|${address}`]],
        'This address has been registered too often from here. Use the link in our e-mail, or wait a while.',
      );
      const { step } = await client.workflow.executeUpdateWithStart(registerUpdate, {
        args: [{ tokenHash: secrets.keyedHash('registration-token', token) }],
        startWorkflowOperation: addressFlowStart<typeof registration>(config.temporal.taskQueue, 'registration', {
          workflowId,
          organisation: organisation.slug,
          email: input.email,
          timings: config.timings,
          step: 'verify-email',
        }),
      });
      return { registrationId: secrets.registrationId(workflowId), token, step, organisation: organisation.slug };
    },

    /**
     * Resumes the registration behind an id (from the one-click link of mail sent before links had a proof of their
     * own, which carried the code) for a client that holds no token for it: as `register` with its address, so this
     * client gets its own token and must still verify, with the link's code.
     */
    async resume(registrationId: string, address: string) {
      const [organisation, email] = partsOf(workflowIdOf(registrationId));
      return service.register({ organisation, email }, address);
    },

    /**
     * Confirms the one-click link of a verification e-mail (its proof) in a browser, with the browser's token for the
     * registration if it has one; a browser without one gets its own. A live link verifies this browser; a spent or old
     * one mails a fresh code and link (`codeSent`).
     */
    async verifyByLink(registrationId: string, proof: string, token = randomToken()) {
      const workflowId = workflowIdOf(registrationId);
      const answer = await runStep(registrationId, token, (handle, caller) =>
        handle.executeUpdate(verifyByLinkUpdate, {
          args: [{ ...caller, linkHash: secrets.keyedHash('verify-link', proof) }],
        }),
      ).catch((error: unknown) => {
        // An ended registration's links are dead. Whether it completed or expired is not said: a link with a made-up
        // proof gets this answer too, and must not tell that the address has an account.
        if (!(error instanceof WorkflowNotFoundError)) throw error;
        throw new HttpError(
          'link_expired',
          'This link belongs to a registration that has ended. If you completed it, sign in; otherwise start again.',
        );
      });
      return { ...answer, registrationId, token, organisation: organisationOf(workflowId) };
    },

    async status(registrationId: string, token: string) {
      const { step, organisation, email, devices } = await view(registrationId, token);
      const offered = await offeredPlatforms(models, organisation, { apple: Boolean(apple) }).then(
        (open) => open.offered,
        () => new Map(),
      );
      return {
        registrationId,
        step,
        organisation,
        email,
        platforms: [...offered.keys()] as Platform[],
        devices: devices.map(({ id, platform, state, expiresAt }) => ({ id, platform, state, expiresAt })),
      };
    },

    /**
     * Checks a verification code. Wrong codes are limited per code in the workflow, and here per client address and
     * per organisation, so that many made-up registrations cannot add up to a guessed code.
     */
    verify: (registrationId: string, token: string, code: string, address: string): Promise<{ step: Step }> => {
      const organisation = organisationOf(workflowIdOf(registrationId));
      return attempts.attempt(
        [
          [verifyPerAddress, address],
          [verifyPerOrganisation, organisation],
        ],
        'Too many wrong codes from here. Wait a while before trying again.',
        () =>
          runStep(registrationId, token, (handle, caller) =>
            handle.executeUpdate(verifyUpdate, { args: [{ ...caller, codeHash: secrets.keyedHash('code', code) }] }),
          ),
        isWrongCode,
      );
    },

    resend: (registrationId: string, token: string): Promise<{ step: Step }> =>
      runStep(registrationId, token, (handle, caller) => handle.executeUpdate(resendUpdate, { args: [caller] })),

    async profile(
      registrationId: string,
      token: string,
      { password, ...profile }: { firstName: string; lastName: string; phone?: string; password: string },
    ): Promise<{ step: Step }> {
      // The caller is checked before the memory-hard hash is made: a bogus request must cost us no Argon2.
      refuseUnlessAt((await view(registrationId, token)).step, 'profile');
      // Only the memory-hard hash of the password ever reaches the workflow and its history.
      const passwordHash = await passwords.hash(password);
      return runStep(registrationId, token, (handle, caller) =>
        handle.executeUpdate(profileUpdate, { args: [{ ...caller, ...profile, passwordHash }] }),
      );
    },

    /**
     * The device step: counted like an owner's new device (and its SMS) once the caller and step are known to be right,
     * so a bogus request spends nobody's limits.
     */
    async chooseDevice(registrationId: string, token: string, choice: { platform: Platform; phone?: string }) {
      const { step, organisation, email } = await view(registrationId, token);
      refuseUnlessAt(step, 'device');
      const account = await accountOf(models, organisation, email);
      if (!account) throw new HttpError('wrong_step', 'This registration has no account yet.');
      const phone = smsPhoneFor(choice.platform, choice.phone, account.phone);
      const { result, sms } = await deviceLimits.counted(
        { userId: account.id, organisation, creates: true, phone },
        (proveNumber) =>
          runStep(registrationId, token, (handle, caller) =>
            handle.executeUpdate(chooseDeviceUpdate, { args: [{ ...caller, ...choice, proveNumber }] }),
          ),
      );
      return { ...(await link(result.device)), sms };
    },

    /** The provisioning link of the device being set up now, shown again whenever the owner comes back. */
    async currentLink(registrationId: string, token: string): Promise<ProvisioningLink | undefined> {
      const device = await liveDevice(registrationId, token);
      return device && deviceLimits.shown(await link(device));
    },

    /** The code sent to the phone of the device being set up: the number is proven, and the link goes to it by SMS. */
    async provePhone(registrationId: string, token: string, code: string, address: string) {
      const device = await liveDevice(registrationId, token);
      if (!device) throw new HttpError('wrong_step', 'No device of this registration is waiting for its link.');
      return deviceLimits.provePhone(device.id, code, address);
    },
  };
  return service;
}

const registrationComplete = () =>
  new HttpError('registration_complete', 'This registration is complete. Sign in to see your devices.');

const registrationExpired = () =>
  new HttpError('registration_expired', 'This registration has expired. Start again with your e-mail address.');

export type RegistrationService = ReturnType<typeof createRegistrationService>;
