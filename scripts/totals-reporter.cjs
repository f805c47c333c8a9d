// Mocha's spec reporter plus one closing line in the plain "N passed, N failed" form, which CI reads
// to tell a run that executed tests from one that executed none (mocha's own summary is not read).
// It also runs the stall watchdog, which ends a run that stopped making progress.
// CommonJS because mocha 11 loads reporters with require().
const Mocha = require('mocha');
const { watchForStall } = require('./stall-watchdog.cjs');

class SpecWithTotals extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const stopWatching = watchForStall(runner);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      stopWatching();
      const { passes, failures, pending } = runner.stats;
      process.stdout.write(`${passes} passed, ${failures} failed, ${pending} skipped\n`);
    });
  }
}

module.exports = SpecWithTotals;
