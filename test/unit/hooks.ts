import { DefaultLogger, Runtime } from '@temporalio/worker';
import { stopWorkflowLane } from './support/workflows';

// The workers' own log would bury mocha's report; warnings and errors still show.
Runtime.install({ logger: new DefaultLogger('WARN') });

/** Mocha root hooks of the unit lane: the worker and the Temporal dev server, if a workflow test started them, stop at the end. */
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    await stopWorkflowLane();
  },
};
