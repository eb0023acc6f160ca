// Where the Apple device-management engines are: shared by the install step (plain Node) and the app
// (platforms/apple/engines.ts). NanoMDM is the MDM server, scepserver issues the device identity certificates, and
// scepclient is only used by the tests (it plays the device's SCEP side).
const { accessSync, constants, statSync } = require('node:fs');
const path = require('node:path');

const NANOMDM_VERSION = '0.9.0';
const SCEP_VERSION = '2.3.0';
const projectBin = path.join(__dirname, '..', '.tools', 'bin');

/** Each engine: the variable that names its binary, and the Go package `go install` builds it from (pinned). */
const APPLE_ENGINES = {
  nanomdm: {
    envVar: 'NANOMDM_BIN',
    module: 'github.com/micromdm/nanomdm',
    version: `v${NANOMDM_VERSION}`,
    goPackage: `github.com/micromdm/nanomdm/cmd/nanomdm@v${NANOMDM_VERSION}`,
  },
  scepserver: {
    envVar: 'SCEPSERVER_BIN',
    module: 'github.com/micromdm/scep/v2',
    version: `v${SCEP_VERSION}`,
    goPackage: `github.com/micromdm/scep/v2/cmd/scepserver@v${SCEP_VERSION}`,
  },
  scepclient: {
    envVar: 'SCEPCLIENT_BIN',
    module: 'github.com/micromdm/scep/v2',
    version: `v${SCEP_VERSION}`,
    goPackage: `github.com/micromdm/scep/v2/cmd/scepclient@v${SCEP_VERSION}`,
  },
};

function isExecutableFile(file) {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

// A plain PATH walk rather than `command -v`, so that a caller's env (not only process.env) decides.
function onPath(name, env) {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutableFile(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/**
 * For each engine: its env variable first (returned as is, even if wrong, so that an operator's explicit choice is
 * never silently replaced), then the name on PATH, then the project-local build in .tools/bin; undefined if none.
 */
function findAppleEngines(env = process.env) {
  const found = {};
  for (const [name, engine] of Object.entries(APPLE_ENGINES)) {
    const local = path.join(projectBin, name);
    found[name] = env[engine.envVar] || onPath(name, env) || (isExecutableFile(local) ? local : undefined);
  }
  return found;
}

module.exports = { NANOMDM_VERSION, SCEP_VERSION, APPLE_ENGINES, projectBin, isExecutableFile, findAppleEngines };
