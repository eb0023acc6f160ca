import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { freeLoopbackPort, isPortTaken, killedWithThisProcess, stopChild } from '../../lib/loopback';

// The lookup is shared with the plain-Node install step, hence CommonJS.
const { APPLE_ENGINES, findAppleEngines, isExecutableFile } = require('../../scripts/apple-engines-path.js') as {
  APPLE_ENGINES: Record<'nanomdm' | 'scepserver', { envVar: string }>;
  findAppleEngines(env: NodeJS.ProcessEnv): { nanomdm?: string; scepserver?: string };
  isExecutableFile(file: string): boolean;
};

const VERIFIER = path.join(__dirname, '..', '..', 'scripts', 'scep-verify.js');
const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;
const LINES_KEPT = 20;
// Both engines also read their flags from NANOMDM_* / SCEP_* variables, and our environment holds secrets they have
// no use for, so they get only these from it (plus what we set).
const INHERITED_ENV = [
  'PATH',
  'HOME',
  'TMPDIR',
  'TZ',
  'LANG',
  'LC_ALL',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
];

export interface AppleEngineBinaries {
  nanomdm: string;
  scepserver: string;
}

/** The binaries, or why Apple enrolment is off (a sentence for the operator). `env` is for tests. */
export function findAppleEngineBinaries(
  env: NodeJS.ProcessEnv = process.env,
): { binaries: AppleEngineBinaries } | { off: string } {
  const found = findAppleEngines(env);
  for (const name of ['nanomdm', 'scepserver'] as const) {
    const { envVar } = APPLE_ENGINES[name];
    const binary = found[name];
    if (!binary) {
      return {
        off:
          `Apple enrolment (iOS, macOS) is off: no ${name} binary. Run \`npm install\` with Go installed (it builds ` +
          `one into .tools/bin), put ${name} on PATH, or set ${envVar}.`,
      };
    }
    if (!isExecutableFile(binary)) {
      const named = env[envVar] ? `${envVar}=${binary}` : binary;
      return { off: `Apple enrolment (iOS, macOS) is off: ${named} is not an executable file.` };
    }
  }
  const { nanomdm, scepserver } = found as AppleEngineBinaries;
  return { binaries: { nanomdm, scepserver } };
}

export interface RunningAppleEngines {
  nanomdmUrl: string; // http://127.0.0.1:<port>
  scepUrl: string; // http://127.0.0.1:<port>/scep
  /** For tests and operators: stop NanoMDM alone and start it again on the same port and storage. */
  nanomdm: { stop(): Promise<void>; start(): Promise<void> };
  stop(): Promise<void>;
}

/**
 * Starts scepserver (making its CA in `dir/scep-depot` on first use) and NanoMDM (storage in `dir/nanomdm`), both on
 * loopback only, and resolves once both answer HTTP. They are children of this process: `stop()` ends them, and any
 * still running when this process exits are killed.
 */
export async function startAppleEngines(options: {
  binaries: AppleEngineBinaries;
  dir: string;
  apiKey: string;
  webhookUrl: string;
  webhookKey: string;
  verifier: { url: string; key: string };
  nanomdmPort?: number;
  scepPort?: number;
  log?: (line: string) => void;
}): Promise<RunningAppleEngines> {
  const log = options.log ?? (() => {});
  // scepserver only checks this when it starts, with a message that does not say what to do.
  if (!isExecutableFile(VERIFIER)) throw new Error(`${VERIFIER} must be executable (chmod +x)`);
  const depot = path.join(options.dir, 'scep-depot');
  const storage = path.join(options.dir, 'nanomdm');
  // Owner only: the CA key and the enrolments are in there.
  for (const folder of [options.dir, depot, storage]) mkdirSync(folder, { recursive: true, mode: 0o700 });
  await ensureCa(options.binaries.scepserver, depot);

  const scepPort = options.scepPort ?? (await freeLoopbackPort());
  const nanomdmPort = options.nanomdmPort ?? (await freeLoopbackPort());
  const scepUrl = `http://127.0.0.1:${scepPort}/scep`;
  const nanomdmUrl = `http://127.0.0.1:${nanomdmPort}`;

  const scep = new EngineProcess({
    name: 'scepserver',
    binary: options.binaries.scepserver,
    // -http-addr rather than -port: -port alone listens on every interface.
    args: ['-depot', depot, '-http-addr', `127.0.0.1:${scepPort}`, '-csrverifierexec', VERIFIER],
    env: engineEnv({
      // The verifier is a `#!/usr/bin/env node` script: let it find this very Node.
      PATH: [path.dirname(process.execPath), process.env.PATH].filter(Boolean).join(path.delimiter),
      SCEP_VERIFY_URL: options.verifier.url,
      SCEP_VERIFY_KEY: options.verifier.key,
    }),
    port: scepPort,
    readyUrl: `${scepUrl}?operation=GetCACaps`,
    log,
  });
  const nanomdm = new EngineProcess({
    name: 'nanomdm',
    binary: options.binaries.nanomdm,
    args: [
      ...['-ca', path.join(depot, 'ca.pem'), '-checkin', '-listen', `127.0.0.1:${nanomdmPort}`],
      ...['-storage', 'filekv', '-storage-dsn', storage, '-webhook-url', options.webhookUrl],
    ],
    // The secrets go by environment (NanoMDM reads NANOMDM_<FLAG>) so that they are not on the command line for
    // every local user to see.
    env: engineEnv({ NANOMDM_API: options.apiKey, NANOMDM_WEBHOOK_HMAC_KEY: options.webhookKey }),
    port: nanomdmPort,
    readyUrl: `${nanomdmUrl}/version`,
    log,
  });

  await scep.start();
  try {
    await nanomdm.start();
  } catch (error) {
    await scep.stop();
    throw error;
  }
  return {
    nanomdmUrl,
    scepUrl,
    nanomdm: { stop: () => nanomdm.stop(), start: () => nanomdm.start() },
    stop: async () => {
      await Promise.all([nanomdm.stop(), scep.stop()]);
    },
  };
}

/** The CA is made once and kept: every device identity certificate (and NanoMDM's trust) hangs on it. */
async function ensureCa(scepserver: string, depot: string): Promise<void> {
  const hasCert = existsSync(path.join(depot, 'ca.pem'));
  const hasKey = existsSync(path.join(depot, 'ca.key'));
  if (hasCert && hasKey) return;
  if (hasCert || hasKey) {
    throw new Error(
      `${depot} has ${hasCert ? 'ca.pem but no ca.key' : 'ca.key but no ca.pem'}: restore the missing file, or ` +
        'remove both to make a new SCEP CA (Apple devices enrolled under the old one must then enrol again).',
    );
  }
  const args = ['ca', '-init', '-depot', depot, '-common_name', 'Self-Service Setup SCEP CA'];
  args.push('-organization', 'Self-Service Setup', '-organizational_unit', 'Apple enrolment');
  try {
    await promisify(execFile)(scepserver, args, { env: engineEnv({}), timeout: 60_000 });
  } catch (error) {
    const { stdout, stderr, message } = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `scepserver could not make its CA in ${depot}: ${`${stdout ?? ''}${stderr ?? ''}`.trim() || message}`,
    );
  }
}

function engineEnv(own: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of INHERITED_ENV) if (process.env[name] !== undefined) env[name] = process.env[name];
  return { ...env, ...own };
}

/** One engine: started (and restarted) with the same arguments, considered up once `readyUrl` answers 200. */
class EngineProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private exitReason: string | undefined;
  private stopping = false;
  private readonly lastLines: string[] = [];

  constructor(
    private readonly spec: {
      name: string;
      binary: string;
      args: string[];
      env: NodeJS.ProcessEnv;
      port: number;
      readyUrl: string;
      log: (line: string) => void;
    },
  ) {}

  async start(): Promise<void> {
    if (this.child) return;
    const { name, binary, args, env, port } = this.spec;
    // Otherwise another server already on the port could answer our readiness check while the engine fails to bind.
    await assertPortFree(port, name);
    this.exitReason = undefined;
    this.stopping = false;
    const child = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    killedWithThisProcess(child);
    this.exited = new Promise((resolve) => {
      const ended = (reason: string) => {
        if (this.child !== child) return;
        this.child = undefined;
        this.exitReason = reason;
        if (!this.stopping) this.spec.log(`${name}: ${reason}`);
        resolve();
      };
      // 'close' (not 'exit'): it comes after the output is all read, and also after a failure to run at all.
      let spawnError: string | undefined;
      child.once('error', (error) => {
        spawnError = `could not run ${binary}: ${error.message}`;
      });
      child.once('close', (code, signal) =>
        ended(spawnError ?? (signal ? `exited on ${signal}` : `exited with code ${code}`)),
      );
    });
    for (const stream of [child.stdout, child.stderr]) this.readLines(stream as Readable);
    await this.waitUntilReady();
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.stopping = true;
    await stopChild(child, this.exited, STOP_GRACE_MS);
  }

  private readLines(stream: Readable): void {
    createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
      this.lastLines.push(line);
      if (this.lastLines.length > LINES_KEPT) this.lastLines.shift();
      this.spec.log(`${this.spec.name}: ${line}`);
    });
  }

  private async waitUntilReady(): Promise<void> {
    const { name, readyUrl } = this.spec;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (!this.child) throw this.failure(`${name} ${this.exitReason} before answering ${readyUrl}`);
      if ((await httpStatus(readyUrl)) === 200 && this.child) return;
      if (Date.now() > deadline) {
        await this.stop();
        throw this.failure(`${name} did not answer ${readyUrl} within ${READY_TIMEOUT_MS / 1000} s`);
      }
      await Promise.race([this.exited, new Promise((resolve) => setTimeout(resolve, 100))]);
    }
  }

  private failure(message: string): Error {
    // An early exit usually says why in its last lines.
    const lines = this.lastLines.length > 0 ? this.lastLines.join('\n') : '(no output)';
    return new Error(`${message}. Last output:\n${lines}`);
  }
}

function httpStatus(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    // No keep-alive agent: the probe must leave no socket behind.
    const request = http.get(url, { agent: false, timeout: 1000 }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(undefined));
  });
}

async function assertPortFree(port: number, name: string): Promise<void> {
  if (await isPortTaken(port)) throw new Error(`${name} cannot listen on 127.0.0.1:${port}: another process does`);
}
