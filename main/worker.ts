import { openBase, startWorker, stopOnSignal } from './compose';
import { runMain } from './run';

/** Worker only (scale-out): runs registration and device workflows and their activities. */
async function main() {
  const base = await openBase();
  const { worker, running } = await startWorker(base);
  stopOnSignal(base.logger, [
    async () => {
      worker.shutdown();
      await running;
    },
    () => base.temporal.close(),
    () => base.apple.stop(),
    () => base.db.close(),
  ]);
  base.logger.info(`worker polling task queue "${base.config.temporal.taskQueue}" at ${base.temporal.address}`);
  await running;
}

runMain(main);
