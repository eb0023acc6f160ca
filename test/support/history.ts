import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { EncryptionCodec } from '../../lib/codec';
import { CODEC_KEYS, system } from './system';

/**
 * A workflow's latest run as its history keeps it, decoded: the run's input and its updates with their arguments —
 * what the admin console's actions record about who asked.
 */
export async function decodedHistory(workflowId: string) {
  const history = await system().temporal.client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const codec = new EncryptionCodec(CODEC_KEYS);
  const decoded = async (payloads: temporal.api.common.v1.IPayload[] | null | undefined) =>
    (await codec.decode(payloads ?? [])).map((payload) => defaultPayloadConverter.fromPayload(payload));
  const [started] = await decoded(events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads);
  const updates = [];
  for (const event of events) {
    const request = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input;
    if (request) updates.push({ name: request.name, args: await decoded(request.args?.payloads) });
  }
  return { started, updates };
}
