import type { ChildProcess } from 'node:child_process';
import net, { type AddressInfo } from 'node:net';

/** Servers this process runs as children on loopback (the Apple engines, the Temporal dev server): shared helpers. */

export function listenOnLoopback(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** A port free on loopback now (another process may take it before it is used: callers bind it soon after). */
export async function freeLoopbackPort(): Promise<number> {
  const server = await listenOnLoopback(0);
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether another process listens on 127.0.0.1:`port` (a failure other than the address in use is thrown). */
export async function isPortTaken(port: number): Promise<boolean> {
  let server: net.Server;
  try {
    server = await listenOnLoopback(port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') return true;
    throw error;
  }
  await new Promise((resolve) => server.close(resolve));
  return false;
}

// Children still running when Node exits (normally, or by process.exit) are killed, so that none outlives us.
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

export function killedWithThisProcess(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const each of running) each.kill('SIGKILL');
  });
}

/** Stops a child: SIGTERM, then SIGKILL if it has not exited (`exited`) within `graceMs`. */
export async function stopChild(child: ChildProcess, exited: Promise<unknown>, graceMs: number): Promise<void> {
  child.kill('SIGTERM');
  const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(kill);
}
