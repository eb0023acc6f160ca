import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { eventually, sleep } from './eventually';

/**
 * The runs of one workflow id as Temporal's visibility store lists them. The store is written behind the start (it is
 * eventually consistent), so a listing straight after a start can miss it: listed until a run shows, then once more
 * a moment later, so that a second run started at the same time has had the same chance to show.
 */
export async function runsOf(client: Client, workflowId: string): Promise<WorkflowExecutionInfo[]> {
  const list = async () => {
    const runs = [];
    for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(run);
    return runs;
  };
  await eventually(list, (runs) => runs.length > 0);
  await sleep(1000);
  return list();
}
