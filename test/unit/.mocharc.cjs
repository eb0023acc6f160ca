// The unit lane: test/unit/**/*.test.ts, nothing started but the Temporal dev server its workflow tests bring up
// (test/unit/hooks.ts). As in the system lane's config, a file named on the command line replaces the spec.
const named = process.argv.slice(2).some((arg) => arg.endsWith('.test.ts'));

module.exports = {
  require: ['tsx/cjs', 'test/unit/hooks.ts'],
  spec: named ? [] : ['test/unit/**/*.test.ts'],
  timeout: 20000,
  slow: 1000,
  reporter: 'spec',
};
