import { DefaultLogger, Runtime } from '@temporalio/worker';
import { stopWorkflowEnvironment } from './support/workflows';

// The workers' own log would bury mocha's report; warnings and errors still show.
Runtime.install({ logger: new DefaultLogger('WARN') });

/** Mocha root hooks of the unit lane: the Temporal dev server, if a workflow test started it, stops at the end. */
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    await stopWorkflowEnvironment();
  },
};
