import { WorkflowNotFoundError } from '@temporalio/common';
import {
  decodeArrayFromPayloads,
  decodeOptionalFailureToOptionalError,
} from '@temporalio/common/lib/internal-non-workflow';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import type { Organisation } from '../../db/models';
import type { Platform } from '../../domain/platform';
import { REGISTRATION_REACHED, REGISTRATION_STEP } from '../../domain/search-attributes';
import { endRegistrationUpdate, STEPS, type Step, sendNewCodeUpdate } from '../../workflows/registration/messages';
import type { ServiceDeps } from '../context';
import { HttpError } from '../errors';
import { opaqueParam } from '../schemas';
import type { Settings } from './settings';
import type { RegistrationFilters } from './settings-schemas';

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The funnel's periods, in days. */
export const FUNNEL_DAYS = [7, 30] as const;

/**
 * The funnel's stages after "started", each counted as the registrations whose current step is one of `steps`. The
 * step search attribute holds only the current step, so "reached X" is "is now at X or past it": a registration that
 * expired counts only as expired, however far it got, and one whose device link expired (back at `device`) counts as
 * having given its profile but not as having chosen a device.
 */
/**
 * Each stage counts the registrations that got at least that far (their furthest step, RegistrationReached), whatever
 * became of them since: one that verified and then expired counts as verified, and as expired. Runs from before the
 * furthest step was kept are counted by the step they are at.
 */
export const FUNNEL_STAGES = [
  { key: 'verified', text: 'Verified their address', reached: ['profile', 'device', 'provision', 'done'] },
  { key: 'profile', text: 'Gave their profile', reached: ['device', 'provision', 'done'] },
  { key: 'device', text: 'Chose a device', reached: ['provision', 'done'] },
  { key: 'done', text: 'Done', reached: ['done'] },
  { key: 'expired', text: 'Expired', at: ['expired'] },
] as const satisfies ReadonlyArray<{ key: string; text: string; reached?: readonly Step[]; at?: readonly Step[] }>;

const listOf = (steps: readonly Step[]) => `(${steps.map((step) => `'${step}'`).join(', ')})`;

/** The visibility clause of a stage (the steps are ours: safe inside the query). */
const stageClause = (stage: (typeof FUNNEL_STAGES)[number]) =>
  'reached' in stage
    ? `(${REGISTRATION_REACHED.name} IN ${listOf(stage.reached)} OR (${REGISTRATION_REACHED.name} IS NULL AND ` +
      `${REGISTRATION_STEP.name} IN ${listOf(stage.reached)}))`
    : `${REGISTRATION_STEP.name} IN ${listOf(stage.at)}`;

export interface FunnelPeriod {
  days: number;
  started: number;
  stages: Array<{ key: string; text: string; count: number }>;
}

/** One line of a registration's timeline: when, and what happened, in people's words (never a secret). */
export interface TimelineEntry {
  at: string;
  what: string;
  /** The admin who did it, for an operator's action. */
  by?: string;
  /** The device chosen, and until when its link works. */
  device?: { platform: Platform; expiresAt: string };
}

/** An update the history holds: its name, its decoded argument, and (once completed) its answer or refusal. */
interface UpdateSeen {
  name: string;
  arg: Record<string, unknown>;
}

const text = (value: unknown) => (typeof value === 'string' ? value : '');

/**
 * The operators' view of an organisation's registrations (the admin console): the list and the funnel from
 * Temporal's visibility, each registration's timeline from its workflow history (decoded here, on the server, for an
 * admin allowed to see the organisation), and the operators' two actions — a new code, ending it — as updates that
 * name who did them, so the history records it.
 */
export function createRegistrationAdmin({ client, secrets }: ServiceDeps, settings: Settings) {
  const converter = client.options.loadedDataConverter;

  /** The workflow behind a registration id, when it is a registration of this organisation; 404 otherwise. */
  const workflowIdOf = (organisation: Organisation, registrationId: string) => {
    const workflowId = opaqueParam.safeParse(registrationId).success ? secrets.workflowIdOf(registrationId) : undefined;
    if (!workflowId?.startsWith(`registration/${organisation.slug}/`)) {
      throw new HttpError('not_found', 'There is no such registration in this organisation.');
    }
    return workflowId;
  };
  const handleOf = (organisation: Organisation, registrationId: string) =>
    client.workflow.getHandle(workflowIdOf(organisation, registrationId));

  /** The registrations matching the filters, newest first: of an address that registered again, its newest run. */
  async function list(organisation: Organisation, filters: RegistrationFilters = {}) {
    const newest = new Map<string, Awaited<ReturnType<typeof settings.registrations>>[number]>();
    for (const registration of await settings.registrations(organisation, filters)) {
      const other = newest.get(registration.registrationId);
      if (!other || other.startedAt < registration.startedAt) newest.set(registration.registrationId, registration);
    }
    return [...newest.values()].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  /** How many registrations started in each period, and how many of them are at or past each stage. */
  async function funnel(organisation: Organisation, now = new Date()): Promise<FunnelPeriod[]> {
    // The slug passed the slug pattern when it was created, the steps are ours: safe inside the visibility query.
    const count = async (since: string, stage?: (typeof FUNNEL_STAGES)[number]) => {
      const clauses = [
        `WorkflowType = 'registration'`,
        `Organisation = '${organisation.slug}'`,
        `StartTime >= '${since}'`,
      ];
      if (stage) clauses.push(stageClause(stage));
      return (await client.workflow.count(clauses.join(' AND '))).count;
    };
    return Promise.all(
      FUNNEL_DAYS.map(async (days) => {
        const since = new Date(now.getTime() - days * 86_400_000).toISOString();
        const [started, ...counts] = await Promise.all([
          count(since),
          ...FUNNEL_STAGES.map((stage) => count(since, stage)),
        ]);
        return {
          days,
          started: started ?? 0,
          stages: FUNNEL_STAGES.map(({ key, text }, index) => ({ key, text, count: counts[index] ?? 0 })),
        };
      }),
    );
  }

  /** A payload list's first value, decoded with the client's converter (the codec decrypts it). */
  const first = async (payloads: temporal.api.common.v1.IPayloads | null | undefined) =>
    ((await decodeArrayFromPayloads(converter, payloads?.payloads))[0] ?? {}) as Record<string, unknown>;
  const failureMessage = async (failure: temporal.api.failure.v1.IFailure | null | undefined) =>
    (await decodeOptionalFailureToOptionalError(converter, failure))?.message ?? 'refused';

  /**
   * What one completed update says, by its name. Only the fields named here are read from the arguments and answers:
   * token hashes, code hashes and password hashes are never picked up.
   */
  async function updateEntry(
    update: UpdateSeen,
    outcome: temporal.api.update.v1.IOutcome | null | undefined,
  ): Promise<Omit<TimelineEntry, 'at'>> {
    const by = text(update.arg.by) || undefined;
    if (outcome?.failure) {
      const message = await failureMessage(outcome.failure);
      if (update.name === 'verify') return { what: `Code checked: wrong (${message})` };
      return { what: `${describeUpdate(update)} refused: ${message}`, by };
    }
    const answer = await first(outcome?.success);
    if (update.name === 'verify') return { what: 'Code checked: right; the address is verified' };
    if (update.name === 'verifyByLink') {
      return {
        what: answer.codeSent
          ? "The e-mail's link was used or old: a new code sent"
          : "The e-mail's link confirmed: the address is verified in that browser",
      };
    }
    if (update.name === 'chooseDevice') {
      const device = (answer.device ?? {}) as Record<string, unknown>;
      return {
        what: 'Device chosen and its link issued',
        device: { platform: update.arg.platform as Platform, expiresAt: text(device.expiresAt) },
      };
    }
    return { what: describeUpdate(update), by };
  }

  /** The timeline of a registration, from its workflow history, oldest first. */
  async function timeline(organisation: Organisation, registrationId: string) {
    const handle = handleOf(organisation, registrationId);
    const [description, history] = await found(() => Promise.all([handle.describe(), handle.fetchHistory()]));
    const updates = new Map<string, UpdateSeen>();
    const activities = new Map<string, string>();
    const entries: TimelineEntry[] = [];
    for (const event of history.events ?? []) {
      const entry = await eventEntry(event, updates, activities);
      if (entry) entries.push({ at: new Date(optionalTsToMs(event.eventTime) ?? 0).toISOString(), ...entry });
    }
    const step = description.typedSearchAttributes.get(REGISTRATION_STEP) as Step | undefined;
    return {
      registrationId,
      email: workflowIdOf(organisation, registrationId).slice(`registration/${organisation.slug}/`.length),
      step: step && STEPS.includes(step) ? step : undefined,
      status: description.status.name,
      startedAt: description.startTime.toISOString(),
      entries,
    };
  }

  /** One history event in people's words; undefined for the events that are only Temporal's bookkeeping. */
  async function eventEntry(
    event: HistoryEvent,
    updates: Map<string, UpdateSeen>,
    activities: Map<string, string>,
  ): Promise<Omit<TimelineEntry, 'at'> | undefined> {
    const id = String(event.eventId ?? '');
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        return { what: 'Started' };
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const scheduled = event.activityTaskScheduledEventAttributes;
        const name = scheduled?.activityType?.name ?? '';
        activities.set(id, name);
        if (name !== 'sendVerificationCode') return undefined;
        return { what: `Code ${String((await first(scheduled?.input)).codeNumber ?? '')} being mailed` };
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
        const scheduledId = String(event.activityTaskCompletedEventAttributes?.scheduledEventId ?? '');
        return activities.get(scheduledId) === 'sendVerificationCode' ? { what: 'Code sent' } : undefined;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: {
        const request = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input;
        updates.set(id, { name: request?.name ?? '', arg: await first(request?.args) });
        return undefined;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: {
        const completed = event.workflowExecutionUpdateCompletedEventAttributes;
        const update = updates.get(String(completed?.acceptedEventId ?? ''));
        return update && updateEntry(update, completed?.outcome);
      }
      case EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED: {
        const { state } = await first(event.childWorkflowExecutionCompletedEventAttributes?.result);
        return { what: DEVICE_OUTCOMES[text(state)] ?? `Device run ended: ${text(state)}` };
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: {
        const { step } = await first(event.workflowExecutionCompletedEventAttributes?.result);
        return { what: step === 'done' ? 'Done' : 'Expired' };
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
        return { what: 'Ended in Temporal (terminated)' };
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        return { what: 'Failed' };
      default:
        return undefined;
    }
  }

  /**
   * An operator's update, naming the admin; a registration that has ended takes none. An update accepted in a
   * workflow task that then failed (the run tried to end while a code's mail reported back) was never applied: Temporal
   * answers FAILED_PRECONDITION, and asking again is safe — the validators judge the run as it now is.
   */
  const act =
    (update: typeof sendNewCodeUpdate) => async (organisation: Organisation, registrationId: string, by: string) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await handleOf(organisation, registrationId).executeUpdate(update, { args: [{ by }] });
        } catch (error) {
          if (error instanceof WorkflowNotFoundError) {
            throw new HttpError('wrong_step', 'This registration has already ended.');
          }
          if (attempt >= 3 || !lostInFailedTask(error)) throw error;
        }
      }
    };

  return {
    list,
    funnel,
    timeline,
    /** Mails the owner a new verification code (only before the address is verified). */
    sendNewCode: act(sendNewCodeUpdate),
    /** Ends the registration (any step before done): it expires. */
    end: act(endRegistrationUpdate),
  };
}

/** The words for an update the history holds, besides those `updateEntry` words itself. */
function describeUpdate({ name, arg }: UpdateSeen): string {
  switch (name) {
    case 'register':
      return 'Opened in a browser';
    case 'resend':
      return 'The owner asked for a new code';
    case 'verifyByLink':
      return "The e-mail's link";
    case 'profile':
      return `Profile given: ${text(arg.firstName)} ${text(arg.lastName)}${arg.phone ? ', with a phone number' : ''}`;
    case 'sendNewCode':
      return 'New code sent by an operator';
    case 'endRegistration':
      return 'Ended by an operator';
    default:
      return name;
  }
}

const DEVICE_OUTCOMES: Partial<Record<string, string>> = {
  enrolled: 'Device checked in',
  'link-expired': 'Device link expired unused',
  removed: 'Device removed before it checked in',
};

async function found<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new HttpError('not_found', 'There is no such registration.');
    throw error;
  }
}

export type RegistrationAdmin = ReturnType<typeof createRegistrationAdmin>;

/** Temporal's answer to an update whose workflow task failed before it was recorded (gRPC FAILED_PRECONDITION). */
function lostInFailedTask(error: unknown): boolean {
  for (
    let cause = error as { code?: unknown; cause?: unknown } | undefined;
    cause;
    cause = cause.cause as typeof cause
  ) {
    if (cause.code === 9 || /unexpected workflow task failure/i.test(String(cause))) return true;
  }
  return false;
}
