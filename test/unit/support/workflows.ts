import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Activities } from '../../../activities';
import { SEARCH_ATTRIBUTES } from '../../../domain/search-attributes';
import { temporalCliPath } from '../../../lib/temporal';
import { bundleWorkflows } from '../../../lib/worker';

let bundled: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The workflow code, bundled once for the unit lane: its workers and the replay of the saved histories share it. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundled ??= bundleWorkflows();
  return bundled;
}

/**
 * The unit lane's one Temporal: a dev server from the project's own CLI (never a download), brought up by
 * `TestWorkflowEnvironment.createLocal` on first use. The time-skipping server is not used (it downloads a binary):
 * the tests give their workflows short timings instead.
 */
let started: Promise<TestWorkflowEnvironment> | undefined;
function workflowEnvironment(): Promise<TestWorkflowEnvironment> {
  started ??= TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      ip: '127.0.0.1',
      log: { format: 'pretty', level: 'error' },
      searchAttributes: SEARCH_ATTRIBUTES,
    },
  });
  return started;
}

/** Stops the dev server if a test started it (the unit lane's root hook). */
export async function stopWorkflowEnvironment(): Promise<void> {
  if (started) await (await started).teardown();
}

/** An activity called by the workflow under test: its name and arguments, in the order called. */
export interface Call {
  name: string;
  args: unknown[];
}

/**
 * Runs `test` against a worker of its own (its own task queue, so no other test's run reaches it) whose activities are
 * the given stubs, each call recorded: the activities are the workflows' one boundary, so this is all of their world.
 */
export async function withStubbedWorker<T>(
  stubs: Partial<Activities>,
  test: (lane: { client: Client; taskQueue: string; calls: Call[] }) => Promise<T>,
): Promise<T> {
  const [env, bundle] = await Promise.all([workflowEnvironment(), workflowBundle()]);
  const taskQueue = `unit-${randomUUID()}`;
  const calls: Call[] = [];
  const recorded = Object.fromEntries(
    Object.entries(stubs).map(([name, stub]) => [
      name,
      (...args: unknown[]) => {
        calls.push({ name, args });
        return (stub as (...args: unknown[]) => unknown)(...args);
      },
    ]),
  );
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace,
    taskQueue,
    workflowBundle: bundle,
    activities: recorded,
  });
  return worker.runUntil(test({ client: env.client, taskQueue, calls }));
}
