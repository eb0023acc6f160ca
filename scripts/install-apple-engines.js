#!/usr/bin/env node
// Runs on `npm install` (after the Temporal CLI step): makes sure NanoMDM and scepserver (and scepclient, for the
// tests) are available, building the missing ones from their pinned Go sources into the project-local, git-ignored
// `.tools/bin`. Apple enrolment is optional, so this never fails the install: without Go, or when a build fails, it
// warns that Apple enrolment (iOS, macOS) will be off and why.
const { execFileSync } = require('node:child_process');
const { mkdirSync } = require('node:fs');
const path = require('node:path');

const { APPLE_ENGINES, projectBin, isExecutableFile, findAppleEngines } = require('./apple-engines-path.js');

function findGo() {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutableFile(path.join(dir, 'go'))) return path.join(dir, 'go');
  }
  return isExecutableFile('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined;
}

/** The module version a Go binary was built from (`go version -m`), or undefined if unreadable. */
function builtVersion(go, binary, module) {
  try {
    const info = execFileSync(go, ['version', '-m', binary], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    // e.g. "\tmod\tgithub.com/micromdm/nanomdm\tv0.9.0\th1:..."
    const fields = info.split('\n').map((line) => line.trim().split(/\s+/));
    return fields.find(([kind, modulePath]) => kind === 'mod' && modulePath === module)?.[2];
  } catch {
    return undefined;
  }
}

const go = findGo();
const found = findAppleEngines();
const problems = {}; // engine name -> why it is unavailable, and what to do
const toBuild = [];
for (const [name, engine] of Object.entries(APPLE_ENGINES)) {
  const binary = found[name];
  if (process.env[engine.envVar]) {
    // The operator chose this binary; building another would not be used.
    if (isExecutableFile(binary)) console.log(`${name}: ${binary}`);
    else problems[name] = `${engine.envVar}=${binary} is not an executable file: correct or unset ${engine.envVar}`;
  } else if (!binary) {
    toBuild.push(name);
  } else if (binary === path.join(projectBin, name) && go) {
    // Our own earlier build: rebuild it when the pinned version changed.
    const version = builtVersion(go, binary, engine.module);
    if (version === engine.version) {
      console.log(`${name}: ${binary}`);
    } else {
      console.log(`${name}: ${binary} is ${version ?? 'of an unknown version'}, not ${engine.version}: rebuilding`);
      toBuild.push(name);
    }
  } else {
    console.log(`${name}: ${binary}`);
  }
}

if (toBuild.length > 0 && !go) {
  for (const name of toBuild) {
    problems[name] =
      'no Go toolchain to build it (no `go` on PATH, none at /usr/local/go/bin/go): install Go ' +
      `(https://go.dev/dl/) and run \`npm install\` again, or set ${APPLE_ENGINES[name].envVar} to a built binary`;
  }
}
if (toBuild.length > 0 && go) {
  mkdirSync(projectBin, { recursive: true });
  for (const name of toBuild) {
    const { goPackage } = APPLE_ENGINES[name];
    console.log(`building ${goPackage} into ${projectBin}`);
    try {
      execFileSync(go, ['install', goPackage], { env: { ...process.env, GOBIN: projectBin }, stdio: 'inherit' });
      if (!isExecutableFile(path.join(projectBin, name))) throw new Error(`${path.join(projectBin, name)} is missing`);
      console.log(`${name}: ${path.join(projectBin, name)}`);
    } catch (error) {
      if (isExecutableFile(path.join(projectBin, name))) {
        console.warn(`WARNING: could not rebuild ${name}; keeping the existing ${path.join(projectBin, name)}`);
        continue;
      }
      problems[name] =
        `\`go install ${goPackage}\` failed (${error.status ? 'its output is above' : error.message}): fix that and ` +
        `run \`npm install\` again, or set ${APPLE_ENGINES[name].envVar} to a built binary`;
    }
  }
}

const serverProblems = ['nanomdm', 'scepserver'].filter((name) => problems[name]);
if (serverProblems.length > 0) {
  console.warn('');
  console.warn('WARNING: Apple enrolment (iOS, macOS) will be off; everything else works.');
  for (const name of serverProblems) console.warn(`  ${name}: ${problems[name]}.`);
  console.warn('');
}
if (problems.scepclient) {
  console.warn(`Note: no scepclient (${problems.scepclient}); the Apple engine tests need it.`);
}
process.exit(0);
