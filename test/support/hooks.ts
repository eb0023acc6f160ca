import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startSystem, stopSystem } from './system';

// The worker's own log would bury mocha's report; warnings and errors still show.
Runtime.install({ logger: new DefaultLogger('WARN') });

/** Mocha root hooks: one real system for the whole run. */
export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(120_000);
    await startSystem();
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await stopSystem();
  },
};
