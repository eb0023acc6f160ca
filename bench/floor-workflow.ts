import { allHandlersFinished, condition, defineUpdate, setHandler } from '@temporalio/workflow';

/**
 * The engine floor: bare workflows taking exactly the Temporal round-trips of the product's flows — update-with-start,
 * then one update per later step, validators on — and doing nothing else. Nothing built on this engine can beat them
 * on this machine.
 */
export const FLOOR_STEPS = ['register', 'verify', 'profile', 'device', 'checkin'] as const;
export type FloorStep = (typeof FLOOR_STEPS)[number];
/** A returning owner's new device: update-with-start for its link, then the device's check-in. */
export const OWNER_STEPS = ['add', 'checkin'] as const;
export type OwnerStep = (typeof OWNER_STEPS)[number];
/**
 * An Apple device's enrolment: its device workflow is started at the registration's device step (update-with-start
 * here, before the enrolment is timed), and of the device's requests only TokenUpdate reaches Temporal, as one update.
 */
export const APPLE_FLOOR_STEPS = ['device', 'tokenUpdate'] as const;

type StepUpdate = ReturnType<typeof defineUpdate<number, [string]>>;
const updatesFor = <S extends string>(steps: readonly S[], prefix = '') =>
  Object.fromEntries(steps.map((name) => [name, defineUpdate<number, [string]>(`${prefix}${name}`)])) as Record<
    S,
    StepUpdate
  >;
export const floorUpdates = updatesFor(FLOOR_STEPS);
export const ownerFloorUpdates = updatesFor(OWNER_STEPS, 'owner-');
export const appleFloorUpdates = updatesFor(APPLE_FLOOR_STEPS, 'apple-');

/** Takes the steps' updates in order, then ends. */
async function steps<S extends string>(names: readonly S[], updates: Record<S, StepUpdate>): Promise<void> {
  let done = 0;
  names.forEach((name, index) => {
    setHandler(
      updates[name] as StepUpdate,
      () => {
        done = index + 1;
        return done;
      },
      {
        validator: (token: string) => {
          if (!token || done !== index) throw new Error(`step ${name} out of order`);
        },
      },
    );
  });
  await condition(() => done === names.length);
  await condition(allHandlersFinished);
}

export async function floor(): Promise<void> {
  await steps(FLOOR_STEPS, floorUpdates);
}

export async function ownerFloor(): Promise<void> {
  await steps(OWNER_STEPS, ownerFloorUpdates);
}

export async function appleFloor(): Promise<void> {
  await steps(APPLE_FLOOR_STEPS, appleFloorUpdates);
}
