import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';

/** A secret made at run time for the operator: what it is, its value, and the file in the data folder it may go to. */
export interface HandedOver {
  /** What it is, for a sentence: "the supervisor token". */
  what: string;
  value: string;
  /** Its file's name in the data folder. */
  file: string;
  /** What to do with it, one sentence. */
  note: string;
}

/**
 * Gives the operator a secret made at run time (a generated supervisor token, the first supervisor's set-up link)
 * without writing it to the logs. Shown once on a terminal, which is a person; otherwise the output is collected
 * (a service manager, a container, a pipe), so the secret goes to a file only this user can read, in the data folder,
 * and the log says where. A file left from before is replaced, never written through (it could be a link elsewhere).
 */
export function handOver(
  secret: HandedOver,
  { dataDir, logger, terminal = process.stdout }: { dataDir: string; logger: Logger; terminal?: NodeJS.WriteStream },
): void {
  if (terminal.isTTY) {
    terminal.write(`\n${capitalised(secret.what)}:\n\n  ${secret.value}\n\n${secret.note}\n\n`);
    return;
  }
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, secret.file);
  rmSync(file, { force: true });
  writeFileSync(file, `${secret.value}\n`, { mode: 0o600, flag: 'wx' });
  logger.warn({ file }, `${capitalised(secret.what)} is in ${file} (readable by this user only). ${secret.note}`);
}

const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
