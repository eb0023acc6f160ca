export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Probes until the answer is as expected or the time is up; returns the last answer for the test to assert on. */
export async function eventually<T>(
  probe: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > deadline) return value;
    await sleep(100);
  }
}
