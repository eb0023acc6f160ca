import { WithStartWorkflowOperation, type WorkflowHandle } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { type Request, Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import { assertEmailAllowed, offeredPlatforms, openOrganisation } from '../db/policy';
import { INSTRUCTIONS, provisioningUrl } from '../lib/platforms';
import { hashPassword, randomToken } from '../lib/secrets';
import {
  type Caller,
  chooseDeviceUpdate,
  type IssuedDevice,
  profileUpdate,
  registerUpdate,
  registrationWorkflowId,
  resendUpdate,
  statusQuery,
  verifyUpdate,
} from '../workflows/messages';
import type { registration } from '../workflows/registration';
import { ORGANISATION, REGISTRATION_EMAIL, REGISTRATION_STEP } from '../workflows/search-attributes';
import { bearerToken } from './auth';
import type { ApiDeps } from './context';
import { HttpError } from './errors';
import { createRegistrationBody, deviceBody, emptyBody, opaqueParam, profileBody, verifyBody } from './schemas';

/** The device owner's registration API (PRODUCT.md §3): thin routes over the registration workflow's messages. */
export function setupRoutes({ client, models, secrets, config }: ApiDeps): Router {
  const router = Router();

  /** The registration a request is about, and the caller's proof (the keyed hash of its token). */
  const target = (req: Request) => {
    const workflowId = opaqueParam.safeParse(req.params.id).success
      ? secrets.workflowIdOf(req.params.id as string)
      : undefined;
    if (!workflowId) throw new HttpError('not_found', 'There is no such registration.');
    return {
      handle: client.workflow.getHandle(workflowId),
      caller: { tokenHash: secrets.keyedHash('registration-token', bearerToken(req)) },
    };
  };

  /**
   * Runs a step's update. A finished registration's workflow no longer takes updates; its last state (a query still
   * answers) says why, in the contract's terms.
   */
  const runStep = async <T>(handle: WorkflowHandle, caller: Caller, update: () => Promise<T>): Promise<T> => {
    try {
      return await update();
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      const answer = await handle.query(statusQuery, caller).catch(() => undefined);
      if (answer?.ok && answer.registration.step === 'expired') {
        throw new HttpError(
          'registration_expired',
          'This registration has expired. Start again with your e-mail address.',
        );
      }
      if (answer?.ok) throw new HttpError('wrong_step', 'This registration is already complete.');
      throw error;
    }
  };

  const device = ({ id, platform, linkNumber, expiresAt }: IssuedDevice) => ({
    id,
    platform,
    provisioningUrl: provisioningUrl(config.publicUrl, secrets.linkToken(id, linkNumber)),
    instructions: INSTRUCTIONS[platform],
    expiresAt,
  });

  const limiter = rateLimit({
    windowMs: 60_000,
    limit: config.registrationsPerMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, _res, next) =>
      next(
        new HttpError('too_many_attempts', 'Too many registrations from this address; try again in a minute.', {
          retryAfterSeconds: 60,
        }),
      ),
  });

  router.post('/registrations', limiter, async (req, res) => {
    const body = createRegistrationBody.parse(req.body ?? {});
    const organisation = await openOrganisation(models, body.organisation);
    assertEmailAllowed(organisation, body.email);
    const token = randomToken();
    const workflowId = registrationWorkflowId(organisation.slug, body.email);
    const { step } = await client.workflow.executeUpdateWithStart(registerUpdate, {
      args: [{ tokenHash: secrets.keyedHash('registration-token', token) }],
      startWorkflowOperation: new WithStartWorkflowOperation<typeof registration>('registration', {
        workflowId,
        taskQueue: config.taskQueue,
        args: [{ organisation: organisation.slug, email: body.email, timings: config.timings }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        typedSearchAttributes: [
          { key: ORGANISATION, value: organisation.slug },
          { key: REGISTRATION_EMAIL, value: body.email },
          { key: REGISTRATION_STEP, value: 'verify-email' },
        ],
      }),
    });
    res
      .status(201)
      .json({ registrationId: secrets.registrationId(workflowId), token, step, organisation: organisation.slug });
  });

  router.get('/registrations/:id', async (req, res) => {
    const { handle, caller } = target(req);
    const answer = await handle.query(statusQuery, caller);
    if (!answer.ok) throw new HttpError('unauthorized', 'This registration token is not valid.');
    const { step, organisation, email, devices } = answer.registration;
    const offered = await openOrganisation(models, organisation).then(
      (org) => offeredPlatforms(models, org),
      () => new Map(),
    );
    res.json({
      registrationId: req.params.id,
      step,
      organisation,
      email,
      platforms: [...offered.keys()],
      devices: devices.map(({ id, platform, state, expiresAt }) => ({ id, platform, state, expiresAt })),
    });
  });

  router.post('/registrations/:id/verify', async (req, res) => {
    const { code } = verifyBody.parse(req.body ?? {});
    const { handle, caller } = target(req);
    res.json(
      await handle.executeUpdate(verifyUpdate, { args: [{ ...caller, codeHash: secrets.keyedHash('code', code) }] }),
    );
  });

  router.post('/registrations/:id/resend', async (req, res) => {
    emptyBody.parse(req.body ?? {});
    const { handle, caller } = target(req);
    res.status(202).json(await runStep(handle, caller, () => handle.executeUpdate(resendUpdate, { args: [caller] })));
  });

  router.post('/registrations/:id/profile', async (req, res) => {
    const { password, ...profile } = profileBody.parse(req.body ?? {});
    const { handle, caller } = target(req);
    // Only the memory-hard hash of the password ever reaches the workflow and its history.
    const passwordHash = await hashPassword(password);
    res.json(
      await runStep(handle, caller, () =>
        handle.executeUpdate(profileUpdate, { args: [{ ...caller, ...profile, passwordHash }] }),
      ),
    );
  });

  router.post('/registrations/:id/devices', async (req, res) => {
    const body = deviceBody.parse(req.body ?? {});
    const { handle, caller } = target(req);
    const answer = await runStep(handle, caller, () =>
      handle.executeUpdate(chooseDeviceUpdate, { args: [{ ...caller, ...body }] }),
    );
    res.status(201).json({ device: device(answer.device) });
  });

  return router;
}
