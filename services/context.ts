import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { RateLimitStore } from '../db';
import type { Models } from '../db/models';
import type { CodecEndpointConfig } from '../lib/codec';
import type { ServiceConfig } from '../lib/config';
import type { Secrets } from '../lib/secrets';
import type { AppleEnrolmentService } from '../platforms/apple/nanomdm';

/**
 * What the services, and the API and pages over them, are built from: Temporal's client, the database, the part of the
 * config they need (lib/config.ts), and what the process decided at start from the config and the installation.
 */
export interface ServiceDeps {
  client: Client;
  models: Models;
  /** Where counters shared by every API process live (failed sign-ins and codes). */
  rateLimitStore: RateLimitStore;
  secrets: Secrets;
  logger: Logger;
  /** NanoMDM and the SCEP server, when Apple enrolment (iOS, macOS) is on. */
  apple?: AppleEnrolmentService;
  config: ServiceConfig;
  /** The codec endpoint: its keys, what it does with payloads without our encryption (decided at start), its UI. */
  codec: CodecEndpointConfig;
  /** No real mail or SMS delivery is configured: `/dev/outbox` shows what would have been sent. */
  devOutbox: boolean;
}
