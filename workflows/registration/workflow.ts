import type { SearchAttributeUpdatePair } from '@temporalio/common';
import {
  allHandlersFinished,
  condition,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  uuid4,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { domainError, unwrapDomainError } from '../../domain/errors';
import { deviceWorkflowId } from '../../domain/ids';
import type { DeviceState, IssuedDevice } from '../../domain/platform';
import { REGISTRATION_REACHED, REGISTRATION_STEP, searchAttributesOf } from '../../domain/search-attributes';
import { codeRulesOf } from '../../domain/timings';
import { smsPhoneFor } from '../../platforms/traits';
import { mailedCodes } from '../codes';
import type { DeviceOutcome } from '../device/messages';
import { device as deviceWorkflow } from '../device/workflow';
import { constantTimeEqual, LEAN_STEPS_PATCH, stepActivities } from '../util';
import {
  type Caller,
  chooseDeviceUpdate,
  endRegistrationUpdate,
  type LinkAnswer,
  profileUpdate,
  type RegistrationInput,
  registerUpdate,
  resendUpdate,
  STEPS,
  type Step,
  sendNewCodeUpdate,
  statusQuery,
  verifyByLinkUpdate,
  verifyUpdate,
} from './messages';

/**
 * Steps the owner waits for are short database work, run as local activities (one marker event instead of three, and
 * no round-trip through the task queue while the owner's HTTP request waits).
 */
const steps = () => stepActivities<Activities>();
/** Mail goes out in the background and is retried until it works: an SMTP outage delays a code, never loses it. */
const { sendVerificationCode } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

/** Runs before it kept no furthest step (RegistrationReached); they replay without one. */
const FURTHEST_STEP_PATCH = 'furthest-step-v1';

/**
 * Sessions (browsers) one registration keeps at most. Anyone who knows the address can open one, so a new one takes
 * the place of the oldest unverified one: strangers cannot fill the registration and keep its owner out. Verified
 * sessions, which only the mailbox could make, stay.
 */
const MAX_SESSIONS = 20;

interface Session {
  tokenHash: string;
  verified: boolean;
}

/**
 * The one-click link of a mailed code, known by the keyed hash of its proof. It verifies a browser once, within the
 * code's lifetime; spent or old, it mails one fresh code (with its own link) instead, whatever strangers did to the
 * codes and resends: only the mailbox has it.
 */
interface MailedLink {
  hash: string;
  expiresAt: number;
  state: 'live' | 'used' | 'renewed';
}

/**
 * One self-service registration: register → verify e-mail → profile → device → provision → done,
 * or expired when abandoned. Each web step is an update; the device itself is a child workflow.
 */
export async function registration({ organisation, email, timings }: RegistrationInput): Promise<{ step: Step }> {
  const deadline = Date.now() + timings.registrationTtlMs;
  let step = 'verify-email' as Step;
  const sessions: Session[] = [];
  const links: MailedLink[] = [];
  // Mail sent before links carried a proof of their own reports none.
  const codes = mailedCodes<{ codeHash: string; linkHash?: string }>(
    timings,
    (codeNumber) => sendVerificationCode({ email, codeNumber, codeTtlMinutes: Math.round(timings.codeTtlMs / 60_000) }),
    ({ linkHash }) => {
      if (linkHash) links.push({ hash: linkHash, expiresAt: Date.now() + timings.codeTtlMs, state: 'live' });
    },
  );
  let busy = false;
  let account: { userId: number; phone?: string } | undefined;
  const devices: Array<IssuedDevice & { state: DeviceState }> = [];
  let provisioning: Promise<DeviceOutcome> | undefined;

  let reached: Step = 'verify-email';
  const moveTo = (next: Step) => {
    step = next;
    const attributes: SearchAttributeUpdatePair[] = [{ key: REGISTRATION_STEP, value: next }];
    const further = next !== 'expired' && STEPS.indexOf(next) > STEPS.indexOf(reached);
    if (further && patched(FURTHEST_STEP_PATCH)) {
      reached = next;
      attributes.push({ key: REGISTRATION_REACHED, value: next });
    }
    upsertSearchAttributes(attributes);
  };
  const finished = () => step === 'done' || step === 'expired';
  const sessionOf = ({ tokenHash }: Caller) => sessions.find((s) => constantTimeEqual(s.tokenHash, tokenHash));
  /** An unverified browser sees verify-email whatever the registration's step: it must prove the address first. */
  const stepFor = (session: Session): Step => (session.verified || finished() ? step : 'verify-email');

  const refuseIfFinished = () => {
    if (step === 'done') throw domainError('registration_complete', 'This registration is complete. Sign in instead.');
    if (step === 'expired') throw domainError('wrong_step', 'This registration is already expired.');
  };
  const requireSession = (caller: Caller): Session => {
    const session = sessionOf(caller);
    if (!session) throw domainError('unauthorized', 'This registration token is not valid.');
    refuseIfFinished();
    return session;
  };
  /** Whether a new session can be admitted: only one made of verified sessions alone is full for good. */
  const assertRoomFor = (caller: Caller) => {
    if (!sessionOf(caller) && sessions.length >= MAX_SESSIONS && sessions.every((s) => s.verified)) {
      throw domainError(
        'too_many_attempts',
        'This registration is open in too many verified browsers. Continue in one of them.',
      );
    }
  };
  /** The caller's session, made if new; a full registration makes room by dropping its oldest unverified session. */
  const admit = (caller: Caller): Session => {
    const known = sessionOf(caller);
    if (known) return known;
    if (sessions.length >= MAX_SESSIONS)
      sessions.splice(
        sessions.findIndex((s) => !s.verified),
        1,
      );
    const session = { tokenHash: caller.tokenHash, verified: false };
    sessions.push(session);
    return session;
  };
  const markVerified = (session: Session) => {
    session.verified = true;
    if (step === 'verify-email') moveTo('profile');
  };
  const linkOf = (linkHash: string) => links.find((link) => constantTimeEqual(link.hash, linkHash));
  const isLive = (link: MailedLink) => link.state === 'live' && Date.now() <= link.expiresAt;
  const requireStep = (caller: Caller, wanted: Step): void => {
    const session = requireSession(caller);
    if (!session.verified) throw domainError('wrong_step', 'Verify your e-mail address first.');
    if (step !== wanted) throw domainError('wrong_step', `This registration is at step "${step}", not "${wanted}".`);
    if (busy) throw domainError('busy', 'Another request for this registration is still in progress; try again.');
  };
  setHandler(
    registerUpdate,
    (caller) => {
      const session = admit(caller);
      // A new browser on an open registration needs a code it can use; a still-valid one is not sent again.
      if (!codes.usable() && codes.mayIssue()) codes.issue();
      return { step: stepFor(session) };
    },
    {
      validator: (caller) => {
        if (finished()) throw domainError('wrong_step', 'This registration is already finished.');
        assertRoomFor(caller);
      },
    },
  );

  setHandler(
    verifyUpdate,
    async (args) => {
      const session = requireSession(args);
      await codes.check(args.codeHash, patched(LEAN_STEPS_PATCH));
      markVerified(session);
      return { step: stepFor(session) };
    },
    {
      validator: (args) => {
        const session = requireSession(args);
        if (session.verified) throw domainError('wrong_step', 'This e-mail address is already verified.');
        codes.assertCheckable();
      },
    },
  );

  setHandler(
    verifyByLinkUpdate,
    ({ linkHash, ...caller }): LinkAnswer => {
      const link = linkOf(linkHash) as MailedLink;
      const known = sessionOf(caller);
      if (known?.verified) return { step: stepFor(known), codeSent: false };
      const session = admit(caller);
      if (isLive(link)) {
        link.state = 'used';
        markVerified(session);
        return { step: stepFor(session), codeSent: false };
      }
      // Within the resend rules or not: the link proves the mailbox, and it brings one code only.
      link.state = 'renewed';
      codes.issue();
      return { step: stepFor(session), codeSent: true };
    },
    {
      validator: ({ linkHash, ...caller }) => {
        const link = linkOf(linkHash);
        if (!link) throw domainError('unauthorized', 'This link is not valid.');
        refuseIfFinished();
        if (sessionOf(caller)?.verified) return;
        if (!isLive(link) && link.state === 'renewed') {
          throw domainError(
            'link_expired',
            'This link has already brought you a new code. Use the link or the code in our newest e-mail.',
          );
        }
        assertRoomFor(caller);
      },
    },
  );

  setHandler(
    resendUpdate,
    (caller) => {
      codes.issue();
      return { step: stepFor(requireSession(caller)) };
    },
    {
      validator: (caller) => {
        if (requireSession(caller).verified)
          throw domainError('wrong_step', 'This e-mail address is already verified.');
        const refusal = codes.resendRefusal();
        if (refusal) throw refusal;
      },
    },
  );

  // An operator's new code: only while the address is unverified, within the max-resends rule but without the
  // interval (the operator is answering an owner who says no code came). The author (`by`) stays in the history.
  setHandler(
    sendNewCodeUpdate,
    (_actor) => {
      codes.issue();
      return { step };
    },
    {
      validator: (_actor) => {
        if (step !== 'verify-email') {
          throw domainError(
            'wrong_step',
            `A new code is sent only before the address is verified; this registration is at step "${step}".`,
          );
        }
        if (!codes.mayIssue()) {
          throw domainError(
            'too_many_attempts',
            'No more codes can be sent for this address. End the registration instead.',
          );
        }
      },
    },
  );

  /** Runs a step's work with the registration held, so a second request cannot run the same step twice at once. */
  const holding = async <T>(work: () => Promise<T>): Promise<T> => {
    busy = true;
    try {
      return await work();
    } catch (error) {
      throw unwrapDomainError(error);
    } finally {
      busy = false;
    }
  };

  setHandler(
    profileUpdate,
    ({ tokenHash: _, ...profile }) =>
      holding(async () => {
        const { userId } = await steps().createAccount({ organisation, email, ...profile });
        account = { userId, phone: profile.phone };
        moveTo('device');
        return { step };
      }),
    { validator: (args) => requireStep(args, 'profile') },
  );

  setHandler(
    chooseDeviceUpdate,
    ({ platform, phone, proveNumber }) =>
      holding(async () => {
        const { userId } = account as { userId: number };
        const issued: IssuedDevice = {
          id: uuid4(),
          platform,
          linkNumber: 1,
          expiresAt: new Date(Date.now() + timings.linkTtlMs).toISOString(),
        };
        const { name } = await steps().createDevice({ organisation, userId, device: issued });
        const smsPhone = smsPhoneFor(platform, phone, account?.phone);
        const child = await startChild(deviceWorkflow, {
          workflowId: deviceWorkflowId(issued.id),
          args: [
            {
              organisation,
              email,
              device: issued,
              deviceName: name,
              smsPhone,
              phoneCode: smsPhone && proveNumber ? codeRulesOf(timings) : undefined,
              reminderBeforeMs: timings.linkReminderMs,
              settingsTimeoutMs: timings.settingsTimeoutMs,
            },
          ],
          typedSearchAttributes: searchAttributesOf(organisation, email, 'provision'),
        });
        devices.push({ ...issued, state: 'link-issued' });
        provisioning = child.result();
        moveTo('provision');
        return { device: issued };
      }),
    {
      validator: (args) => {
        requireStep(args, 'device');
        smsPhoneFor(args.platform, args.phone, account?.phone);
      },
    },
  );

  // An operator ends the registration at any step before done: it expires now. A link out for a device dies with it
  // (the device run, a child, is ended when this run closes).
  setHandler(
    endRegistrationUpdate,
    (_actor) =>
      holding(async () => {
        const device = step === 'provision' ? devices.at(-1) : undefined;
        if (device) {
          await steps().expireLink({ deviceId: device.id, linkNumber: device.linkNumber });
          device.state = 'link-expired';
        }
        moveTo('expired');
        return { step };
      }),
    {
      validator: (_actor) => {
        if (finished())
          throw domainError('wrong_step', `This registration is already ${step === 'done' ? 'complete' : 'expired'}.`);
        if (busy) throw domainError('busy', 'Another request for this registration is still in progress; try again.');
      },
    },
  );

  setHandler(statusQuery, (caller) => {
    const session = sessionOf(caller);
    if (!session) return { ok: false, code: 'unauthorized' };
    return {
      ok: true,
      registration: { step: stepFor(session), organisation, email, devices: session.verified ? devices : [] },
    };
  });

  const provisioningStarted = () => step === 'provision';
  while (!finished()) {
    if (provisioningStarted()) {
      const device = devices.at(-1) as IssuedDevice & { state: DeviceState };
      const outcome = await Promise.race([
        (provisioning as Promise<DeviceOutcome>).catch(async (): Promise<DeviceOutcome> => {
          // The device run ended without an outcome: an operator terminated it (the repair the Web UI offers), or it
          // failed. Its link is dead from now on, and the owner chooses again rather than the registration failing.
          await steps().expireLink({ deviceId: device.id, linkNumber: device.linkNumber });
          return { state: 'link-expired' };
        }),
        // An operator ended the registration while the device's link was out (`endRegistration`).
        condition(finished).then(() => undefined),
      ]);
      if (!outcome) continue;
      device.state = outcome.state as DeviceState;
      // A link that expired unused, or a device removed before it enrolled, sends the owner back to choose again.
      moveTo(outcome.state === 'enrolled' ? 'done' : 'device');
      continue;
    }
    // Ended by an operator (`endRegistration`) counts as moved: the loop sees the registration finished.
    const moved = await condition(() => provisioningStarted() || finished(), Math.max(deadline - Date.now(), 1));
    if (!moved) {
      // A step still in flight at the deadline finishes first; only an idle registration expires.
      await condition(() => !busy);
      if (!provisioningStarted()) moveTo('expired');
    }
  }
  await condition(allHandlersFinished);
  return { step };
}
