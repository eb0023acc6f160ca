// The system lane: test/*.test.ts on real parts, started once by test/support/hooks.ts (the unit lane is
// test/unit/.mocharc.cjs).
module.exports = require('./test/support/mocha-lane.cjs')({
  hooks: 'test/support/hooks.ts',
  spec: 'test/*.test.ts',
  timeout: 30000,
  slow: 2000,
});
