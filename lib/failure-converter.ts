import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Failure messages and stack traces travel as encoded attributes, so the payload codec encrypts them too (an SMTP or
 * SQL error can quote an address). Loaded by path: the worker also runs it inside the workflow sandbox.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
