/** What Linux's /proc says about a benchmarked server process. */
import { readdirSync, readFileSync } from 'node:fs';

export function rssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]);
}

/**
 * CPU time all threads of the process have run (main thread, GC helpers, libuv pool), in
 * microseconds: the first field of each /proc/<pid>/task/<tid>/schedstat, in nanoseconds, so a
 * short run is measured to the microsecond (utime/stime in /proc/<pid>/stat count 10 ms ticks).
 */
export function cpuMicros(pid: number): number {
  let nanos = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      nanos += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // A thread that ended between the listing and the read: its time is gone with it.
    }
  }
  return nanos / 1000;
}
