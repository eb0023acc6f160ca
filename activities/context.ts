import { Context } from '@temporalio/activity';

/** The workflow run an activity works for: the key that makes its side effects happen once per run. */
export function workflowRun(): { workflowId: string; runId: string; runKey: string } {
  const execution = Context.current().info.workflowExecution;
  if (!execution) throw new Error('this activity runs only on behalf of a workflow');
  return { ...execution, runKey: `${execution.workflowId}/${execution.runId}` };
}
