// The unit lane: test/unit/**/*.test.ts, nothing started but the Temporal dev server its workflow tests bring up
// (test/unit/hooks.ts).
module.exports = require('../support/mocha-lane.cjs')({
  hooks: 'test/unit/hooks.ts',
  spec: 'test/unit/**/*.test.ts',
  timeout: 20000,
  slow: 1000,
});
