import { allHandlersFinished, condition, defineUpdate, setHandler } from '@temporalio/workflow';

/**
 * The engine floor: a bare workflow taking exactly the Temporal round-trips of one registration — update-with-start,
 * then one update per later step (verify, profile, device, check-in), validators on — and doing nothing else.
 * Nothing built on this engine can beat it on this machine.
 */
export const FLOOR_STEPS = ['register', 'verify', 'profile', 'device', 'checkin'] as const;
export type FloorStep = (typeof FLOOR_STEPS)[number];

export const floorUpdates = Object.fromEntries(
  FLOOR_STEPS.map((name) => [name, defineUpdate<number, [string]>(name)]),
) as Record<FloorStep, ReturnType<typeof defineUpdate<number, [string]>>>;

export async function floor(): Promise<void> {
  let done = 0;
  FLOOR_STEPS.forEach((name, index) => {
    setHandler(
      floorUpdates[name],
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
  await condition(() => done === FLOOR_STEPS.length);
  await condition(allHandlersFinished);
}
