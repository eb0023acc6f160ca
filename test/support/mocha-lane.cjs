// What both lanes' mocha configurations share. Mocha adds the config's spec to the files named on the command line, so
// the spec is left out when a file is named: `npm run test:<lane> -- <file>.test.ts` runs that file only.
const named = process.argv.slice(2).some((arg) => arg.endsWith('.test.ts'));

/** A lane: its root hooks (what it starts), the files it runs, and its timeouts. */
module.exports = ({ hooks, spec, timeout, slow }) => ({
  require: ['tsx/cjs', hooks],
  spec: named ? [] : [spec],
  timeout,
  slow,
  reporter: 'spec',
});
