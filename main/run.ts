import { ConfigurationError } from '../lib/config';

/**
 * Runs a process's main function: a configuration problem stops it with one line that names the setting (the operator
 * has something to fix, not a bug to read); anything else with its stack.
 */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    console.error(error instanceof ConfigurationError ? error.message : error);
    process.exit(1);
  });
}
