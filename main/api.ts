import { closeServer, openBase, startApi, stopOnSignal } from './compose';
import { runMain } from './run';

/** API only (scale-out): stateless; run as many as you like behind a load balancer. */
async function main() {
  const base = await openBase({ servesApi: true });
  const server = await startApi(base);
  stopOnSignal(base.logger, [
    () => closeServer(server),
    () => base.temporal.close(),
    () => base.apple.stop(),
    () => base.db.close(),
  ]);
  base.logger.info(`API listening on port ${base.config.port}, Temporal at ${base.temporal.address}`);
}

runMain(main);
