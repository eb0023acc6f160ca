import { ConfigurationError } from '../lib/config';
import { HttpError } from '../services/errors';

/**
 * Runs a process's main function: a configuration problem stops it with one line that names the setting, and a
 * command's refusal with its sentence (the operator has something to fix, not a bug to read); anything else with its
 * stack.
 */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    console.error(error instanceof ConfigurationError || error instanceof HttpError ? error.message : error);
    process.exit(1);
  });
}
