import { writeFileSync } from 'node:fs';
import { bundleWorkflows } from './worker';

/**
 * Bundles the workflow code into the file named by the first argument. The worker runs this in a short-lived child
 * process: webpack's working memory (about 250 MiB) then leaves with the child instead of staying in the worker's heap.
 */
bundleWorkflows().then(
  ({ code }) => writeFileSync(process.argv[2] as string, code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
