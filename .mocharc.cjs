// The system lane: test/*.test.ts on real parts, started once by test/support/hooks.ts (the unit lane is
// test/unit/.mocharc.cjs). Mocha adds the config's spec to the files named on the command line, so the spec is left
// out when a file is named: `npm run test:system -- test/<file>.test.ts` runs that file only.
const named = process.argv.slice(2).some((arg) => arg.endsWith('.test.ts'));

module.exports = {
  require: ['tsx/cjs', 'test/support/hooks.ts'],
  spec: named ? [] : ['test/*.test.ts'],
  timeout: 30000,
  slow: 2000,
  reporter: 'spec',
};
