import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { DataConverter } from '@temporalio/common';
import {
  bundleWorkflowCode,
  type NativeConnection,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import type { Activities } from '../activities';

/** The workflow code as the worker runs it, bundled once (tests share one bundle between their workers). */
export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: quietBundlerLogger });
}

const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

/** The workflow bundle made in a child process (lib/bundle-workflows.ts), so bundling costs the worker no memory. */
async function bundleInChildProcess(): Promise<{ codePath: string }> {
  const codePath = path.join(mkdtempSync(path.join(tmpdir(), 'sss-workflows-')), 'workflow-bundle.js');
  await promisify(execFile)(process.execPath, ['--import', 'tsx', require.resolve('./bundle-workflows'), codePath]);
  return { codePath };
}

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  dataConverter: DataConverter;
  /** Tests share one bundle between their workers; processes leave it unset and bundle in a child process. */
  workflowBundle?: WorkflowBundleWithSourceMap;
}

export async function createWorker(options: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    dataConverter: options.dataConverter,
    workflowBundle: options.workflowBundle ?? (await bundleInChildProcess()),
    // Registrations wait for days between steps; keep few of them in memory and let the server hold the rest.
    maxCachedWorkflows: 100,
    shutdownGraceTime: '10s',
  });
}
