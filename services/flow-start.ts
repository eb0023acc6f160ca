import { WithStartWorkflowOperation, type WorkflowStartOptions } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import { searchAttributesOf } from '../domain/search-attributes';
import type { FlowTimings } from '../domain/timings';

/**
 * The start half of an update-with-start for one of the self-service workflows: on the task queue, findable by
 * organisation and e-mail address (and step) in the Web UI from its first event.
 */
export function flowStart<T extends Workflow>(
  taskQueue: string,
  workflowType: string,
  options: {
    workflowId: string;
    args: Parameters<T>;
    organisation: string;
    email: string;
    step?: string;
    /** Join the open run of the same id (registrations, resets), or refuse (a device's link). */
    conflict: 'USE_EXISTING' | 'FAIL';
  },
): WithStartWorkflowOperation<T> {
  const start = {
    workflowId: options.workflowId,
    taskQueue,
    // The SDK spells "the workflow's arguments" as a conditional type TypeScript cannot see through for a generic T.
    args: options.args as WorkflowStartOptions<T>['args'],
    typedSearchAttributes: searchAttributesOf(options.organisation, options.email, options.step),
  } as WorkflowStartOptions<T>;
  return new WithStartWorkflowOperation<T>(workflowType, { ...start, workflowIdConflictPolicy: options.conflict });
}

/**
 * A flow of one address with an organisation (a registration, a password reset): its one argument says whose and
 * with which timings, and a second start for the same address joins the open run.
 */
export function addressFlowStart<T extends (input: AddressFlowInput) => Promise<unknown>>(
  taskQueue: string,
  workflowType: string,
  { workflowId, step, ...input }: AddressFlowInput & { workflowId: string; step?: string },
): WithStartWorkflowOperation<T> {
  return flowStart<T>(taskQueue, workflowType, {
    workflowId,
    args: [input] as Parameters<T>,
    organisation: input.organisation,
    email: input.email,
    step,
    conflict: 'USE_EXISTING',
  });
}

interface AddressFlowInput {
  organisation: string;
  email: string;
  timings: FlowTimings;
}
