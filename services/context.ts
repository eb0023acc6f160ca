import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { RateLimitStore } from '../db';
import type { Models } from '../db/models';
import type { FlowTimings } from '../domain/timings';
import type { CodecEndpointConfig } from '../lib/codec';
import type { AttemptRules, OwnerRules } from '../lib/config';
import type { Secrets } from '../lib/secrets';
import type { AppleEnrolmentService } from '../platforms/apple/nanomdm';

/** What the services, and the API and pages over them, are built from: Temporal's client, the database, the config. */
export interface ServiceDeps {
  client: Client;
  models: Models;
  /** Where counters shared by every API process live (failed sign-ins and codes). */
  rateLimitStore: RateLimitStore;
  secrets: Secrets;
  logger: Logger;
  /** NanoMDM and the SCEP server, when Apple enrolment (iOS, macOS) is on. */
  apple?: AppleEnrolmentService;
  config: {
    publicUrl: string;
    taskQueue: string;
    timings: FlowTimings;
    /** How long an invitation to manage an organisation can be accepted (INVITATION_TTL). */
    invitationTtlMs: number;
    owners: OwnerRules;
    /** Limits on guessing passwords and codes, and on queued password hashing. */
    limits: AttemptRules;
    /** Express's `trust proxy` (TRUST_PROXY). */
    trustProxy: boolean | number | string[];
    /** Registrations one client address may start per minute. */
    registrationsPerMinute: number;
    /** SCEP requests one client address may make per minute. */
    scepRequestsPerMinute: number;
    /** Refused calls from devices, MDMs and the engines one client address may make per minute. */
    machineRefusalsPerMinute: number;
    codec: CodecEndpointConfig;
    /** The web pages' site name and help text. */
    siteName: string;
    siteHelp: string;
    /** No real mail or SMS delivery is configured: `/dev/outbox` shows what would have been sent. */
    devOutbox: boolean;
  };
}
