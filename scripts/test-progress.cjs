// Where each mocha worker of `npm test` is: a root-hook plugin (mocha --require) that records the
// test a worker is in, so that the stall watchdog (scripts/stall-watchdog.cjs) can name the test
// file of a run that stopped making progress. A worker also answers SIGUSR2 on stderr with what
// its event loop waits for, which tells a test awaiting forever from a blocked thread (no answer).
// CommonJS because mocha's reporter, which reads these records, is loaded with require().
const { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

/** The records of the workers of the mocha process `mochaPid`. */
function progressDir(mochaPid) {
  return join(tmpdir(), `mrtpm-mocha-${mochaPid}`);
}

/** worker pid -> { file, test, phase, since } as the worker last wrote it. */
function readProgress(mochaPid) {
  const records = new Map();
  let names = [];
  try {
    names = readdirSync(progressDir(mochaPid));
  } catch {
    return records;
  }
  for (const name of names) {
    try {
      records.set(Number(name.replace(/\.json$/, '')), JSON.parse(readFileSync(join(progressDir(mochaPid), name), 'utf8')));
    } catch {
      // a record being rewritten; the next look sees it
    }
  }
  return records;
}

/** Removes the records of a run that has ended. */
function clearProgress(mochaPid) {
  rmSync(progressDir(mochaPid), { recursive: true, force: true });
}

let current = { file: undefined, test: undefined, phase: 'loading', since: Date.now() };

function record(phase, test) {
  current = { file: test?.file, test: test?.fullTitle(), phase, since: Date.now() };
  try {
    const dir = progressDir(process.ppid);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify(current));
  } catch {
    // progress records are diagnostics only: never fail a test over them
  }
}

process.on('SIGUSR2', () => {
  const since = Math.round((Date.now() - current.since) / 1000);
  process.stderr.write(`[stall] worker ${process.pid} answers: ${current.phase} ${current.test ?? '-'} (${current.file ?? '-'}) for ${since} s; `
    + `its event loop waits on: ${process.getActiveResourcesInfo().join(', ') || 'nothing'}\n`);
});

exports.readProgress = readProgress;
exports.clearProgress = clearProgress;
exports.mochaHooks = {
  beforeEach() {
    record('in', this.currentTest);
  },
  afterEach() {
    record('after', this.currentTest);
  },
};
