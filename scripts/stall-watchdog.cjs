// A run of `npm test` that stops making progress must end with what was stuck, not run until CI's
// time is up: mocha's own timeouts cannot fire in a worker whose thread is blocked, nor while a
// test file is still being loaded. When no test has reported for `stallMs`, this prints each
// still-running process under mocha (with the test each worker was last in, its threads' states
// and system calls), asks the workers what they wait on, and kills them, which mocha reports as a
// failure. Reads /proc: Linux only.
const { readdirSync, readFileSync, readlinkSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { clearProgress, readProgress } = require('./test-progress.cjs');

const CLOCK_TICKS = 100;
const CHECK_EVERY_MS = 15_000;
const ANSWER_WAIT_MS = 3_000;

function readProc(pid, file) {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

/** The names in a /proc directory; none once the process is gone. */
function listDir(path) {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** pid, ppid, state and start time (s after boot) from /proc/PID/stat; the name may hold spaces. */
function statOf(path) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  return { name: text.slice(text.indexOf('(') + 1, close), state: fields[0], ppid: Number(fields[1]), start: Number(fields[19]) / CLOCK_TICKS };
}

/** The processes under `root`, parents before children, with their depth. */
function descendants(root) {
  const children = new Map();
  for (const name of listDir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = statOf(`/proc/${name}/stat`);
    if (!stat) continue;
    if (!children.has(stat.ppid)) children.set(stat.ppid, []);
    children.get(stat.ppid).push({ pid: Number(name), ...stat });
  }
  const out = [];
  const walk = (pid, depth) => {
    for (const child of children.get(pid) ?? []) {
      out.push({ ...child, depth });
      walk(child.pid, depth + 1);
    }
  };
  walk(root, 0);
  return out;
}

/** Idle threads (libuv's pool and V8's helpers wait on futexes, the loop in epoll) are left out. */
const IDLE_WCHANS = new Set(['futex_do_wait', 'futex_wait_queue', 'do_epoll_wait']);

/**
 * One line per thread that is not idle, and always the main thread: state, wchan and the system
 * call it is in with its first two arguments (readable by root only).
 */
function threadLines(pid) {
  return listDir(`/proc/${pid}/task`).flatMap((tid) => {
    const wchan = readProc(`${pid}/task/${tid}`, 'wchan') || '-';
    if (IDLE_WCHANS.has(wchan) && Number(tid) !== pid) return [];
    const stat = statOf(`/proc/${pid}/task/${tid}/stat`);
    const syscall = readProc(`${pid}/task/${tid}`, 'syscall').trim().split(' ').slice(0, 3).join(' ');
    return [`thread ${tid} ${stat?.name ?? '?'} ${stat?.state ?? '?'} wchan=${wchan} syscall=${syscall || '-'}`];
  });
}

const PLUMBING = /^(pipe|socket|anon_inode):|^\/dev\/null$/;

/** What the fds of `pid` point to, other than pipes, sockets and /dev/null (those are counted). */
function openFiles(pid) {
  const targets = listDir(`/proc/${pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return '';
    }
  });
  const plumbing = targets.filter((t) => PLUMBING.test(t)).length;
  return [...new Set(targets.filter((t) => t && !PLUMBING.test(t))), `(${plumbing} pipes, sockets and /dev/null)`];
}

function describeStall(mochaPid, idleS) {
  const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const progress = readProgress(mochaPid);
  const lines = [`[stall] no test has reported for ${idleS} s; the processes under mocha (pid ${mochaPid}):`];
  for (const p of descendants(mochaPid)) {
    const cmd = readProc(p.pid, 'cmdline').split('\0').join(' ').trim().slice(0, 300) || `[${p.name}]`;
    lines.push(`${'  '.repeat(p.depth + 1)}${p.pid} ${p.state} ${Math.round(uptime - p.start)} s: ${cmd}`);
    const record = progress.get(p.pid);
    if (!record) continue;
    const pad = '  '.repeat(p.depth + 2);
    lines.push(`${pad}last: ${record.phase} "${record.test}" (${record.file}), ${Math.round((Date.now() - record.since) / 1000)} s ago`);
    for (const line of threadLines(p.pid)) lines.push(`${pad}${line}`);
    for (const file of openFiles(p.pid)) lines.push(`${pad}fd -> ${file}`);
  }
  return lines.join('\n');
}

function signalAll(processes, signal) {
  for (const p of processes) {
    try {
      process.kill(p.pid, signal);
    } catch {
      // already gone
    }
  }
}

/**
 * Watches `runner`: any test or suite event counts as progress. Returns the function that stops
 * watching and removes the workers' records.
 * `stallMs` comes from MRTPM_TEST_STALL_MS when set.
 */
function watchForStall(runner, stallMs = Number(process.env.MRTPM_TEST_STALL_MS) || 12 * 60_000) {
  let last = performance.now();
  const progressed = () => {
    last = performance.now();
  };
  for (const event of ['test end', 'suite end', 'hook end', 'pass', 'fail', 'pending']) runner.on(event, progressed);
  let fired = false;
  const timer = setInterval(() => {
    const idle = performance.now() - last;
    if (fired || idle < stallMs) return;
    fired = true;
    const report = describeStall(process.pid, Math.round(idle / 1000));
    process.stdout.write(`\n${report}\n`);
    const file = join('/var/tmp', `mrtpm-test-stall-${new Date().toISOString().replace(/[:.]/g, '-')}.txt`);
    try {
      writeFileSync(file, `${report}\n`);
      process.stdout.write(`[stall] also written to ${file}\n`);
    } catch {
      // the report is on stdout already
    }
    // The workers answer on stderr (scripts/test-progress.cjs); children go before their parents.
    signalAll(descendants(process.pid).filter((d) => d.depth === 0), 'SIGUSR2');
    setTimeout(() => {
      process.stdout.write('[stall] killing the processes under mocha: the stuck test files fail\n');
      signalAll(descendants(process.pid).reverse(), 'SIGKILL');
    }, ANSWER_WAIT_MS).unref();
  }, CHECK_EVERY_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    clearProgress(process.pid);
  };
}

module.exports = { watchForStall };
