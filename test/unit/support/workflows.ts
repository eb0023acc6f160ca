import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { type Client, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { expect } from 'chai';
import type { Activities } from '../../../activities';
import { SEARCH_ATTRIBUTES } from '../../../domain/search-attributes';
import type { FlowTimings } from '../../../domain/timings';
import { temporalCliPath } from '../../../lib/temporal';
import { bundleWorkflows } from '../../../lib/worker';
import { eventually } from '../../support/eventually';

let bundled: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The workflow code, bundled once for the unit lane: its worker and the replay of the saved histories share it. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundled ??= bundleWorkflows();
  return bundled;
}

/** Timings under which nothing expires during a test, and codes are few: each test shortens what it watches. */
export const TIMINGS: FlowTimings = {
  registrationTtlMs: 60_000,
  codeTtlMs: 60_000,
  linkTtlMs: 60_000,
  resendIntervalMs: 60_000,
  maxCodeAttempts: 3,
  maxResends: 2,
  linkReminderMs: 20_000,
  settingsTimeoutMs: 60_000,
};

/** An activity called by the workflow under test: its name and arguments, in the order called. */
export interface Call {
  name: string;
  args: unknown[];
}

/** What a test gets: a client, the task queue the worker polls, and the activities' calls so far. */
export interface Lane {
  client: Client;
  taskQueue: string;
  calls: Call[];
}

/** Every activity, so one worker serves every test: each call goes to the running test's stub. */
const ACTIVITY_NAMES = Object.keys({
  sendVerificationCode: 0,
  sendResetCode: 0,
  sendInvitation: 0,
  sendEnrolledMail: 0,
  sendLinkReminder: 0,
  sendPhoneCode: 0,
  provePhone: 0,
  sendProvisioningSms: 0,
  createAccount: 0,
  setPassword: 0,
  createDevice: 0,
  renewLink: 0,
  markEnrolled: 0,
  expireLink: 0,
  removeDevice: 0,
  installSettings: 0,
  recordSettingsOutcome: 0,
  removeEnrolment: 0,
  markUnenrolled: 0,
  createManager: 0,
} satisfies Record<keyof Activities, 0>);

/** The running test's stubs and the calls made to them; none between tests. */
let current: { stubs: Partial<Activities>; calls: Call[] } | undefined;

function stubbedActivities() {
  return Object.fromEntries(
    ACTIVITY_NAMES.map((name) => [
      name,
      (...args: unknown[]) => {
        const stub = current?.stubs[name as keyof Activities] as ((...args: unknown[]) => unknown) | undefined;
        if (!current || !stub) {
          // A run left over from an earlier test, or a call the test did not expect: it fails visibly, for good.
          const workflowId = Context.current().info.workflowExecution?.workflowId;
          throw ApplicationFailure.nonRetryable(`${name} is not stubbed (called by ${workflowId})`, 'not_stubbed');
        }
        current.calls.push({ name, args });
        return stub(...args);
      },
    ]),
  );
}

/**
 * The unit lane's one Temporal: a dev server from the project's own CLI (never a download), brought up by
 * `TestWorkflowEnvironment.createLocal` on first use, and one worker on it for the whole lane (making a worker costs
 * more than most tests). The time-skipping server is not used (it downloads a binary): tests use short timings instead.
 */
let started:
  | Promise<{ env: TestWorkflowEnvironment; worker: Worker; running: Promise<void>; taskQueue: string }>
  | undefined;
function workflowLane() {
  started ??= (async () => {
    const [env, bundle] = await Promise.all([
      TestWorkflowEnvironment.createLocal({
        server: {
          executable: { type: 'existing-path', path: temporalCliPath() },
          ip: '127.0.0.1',
          log: { format: 'pretty', level: 'error' },
          searchAttributes: SEARCH_ATTRIBUTES,
        },
      }),
      workflowBundle(),
    ]);
    const taskQueue = `unit-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace,
      taskQueue,
      workflowBundle: bundle,
      activities: stubbedActivities(),
    });
    return { env, worker, running: worker.run(), taskQueue };
  })();
  return started;
}

/** Stops the worker and the dev server if a test started them (the unit lane's root hook). */
export async function stopWorkflowLane(): Promise<void> {
  if (!started) return;
  const { env, worker, running } = await started;
  worker.shutdown();
  await running;
  await env.teardown();
}

/**
 * Runs `test` with the given stubs as the workflows' activities, each call recorded: the activities are the workflows'
 * one boundary, so this is all of their world. Whatever the test left running is terminated after it, so no run of
 * one test calls activities during the next.
 */
export async function withStubbedActivities<T>(
  stubs: Partial<Activities>,
  test: (lane: Lane) => Promise<T>,
): Promise<T> {
  const { env, taskQueue } = await workflowLane();
  const calls: Call[] = [];
  current = { stubs, calls };
  try {
    return await test({ client: env.client, taskQueue, calls });
  } finally {
    for await (const run of env.client.workflow.list({ query: 'ExecutionStatus = "Running"' })) {
      await env.client.workflow
        .getHandle(run.workflowId, run.runId)
        .terminate('the test is over')
        .catch(() => undefined);
    }
    current = undefined;
  }
}

/** The first argument of each call to one activity, in order. */
export const argsOf = (calls: Call[], name: keyof Activities) =>
  calls.filter((call) => call.name === name).map((call) => call.args[0]);

/** Waits until the workflow has called the activity `times` times (mail and SMS go out in the background). */
export async function called(calls: Call[], name: keyof Activities, times = 1): Promise<unknown[]> {
  const made = await eventually(
    async () => argsOf(calls, name),
    (args) => args.length >= times,
  );
  expect(made, `${name} called ${times} times`).to.have.length(times);
  return made;
}

/** The domain error an update was refused or failed with: its code (the failure's type), message and details. */
export async function refusalOf(update: Promise<unknown>) {
  const error = await update.then(
    () => expect.fail('the update was not refused'),
    (error: unknown) => error,
  );
  expect(error).to.be.instanceOf(WorkflowUpdateFailedError);
  const cause = (error as WorkflowUpdateFailedError).cause;
  expect(cause).to.be.instanceOf(ApplicationFailure);
  const { type, message, details } = cause as ApplicationFailure;
  return { code: type, message, details };
}

let addresses = 0;
/** A new address per run, so no two tests share a workflow id. */
export const uniqueAddress = (label: string) => `${label}.${++addresses}.${randomUUID().slice(0, 8)}@example.com`;
