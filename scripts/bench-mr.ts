/**
 * The measurement-register part of `npm run bench`: what mirroring costs a PCR_Extend round trip
 * (mrtpm --mr tdx-sim against --mr none, same client, same run), and how fast a 100,000-event MR
 * log replays (parse, register replay, PCR replay), the log written by the real mirror.
 */
import { performance } from 'node:perf_hooks';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { startMrtpm } from '../test/helpers/mrtpm.js';
import { SwtpmDataClient } from '../test/helpers/raw-client.js';
import { commands, expectSuccess } from '../test/helpers/tpm-commands.js';
import { runSlice, startupIfNeeded, type Slice, type Step } from './bench-round-trips.js';
import { mirrorRig } from '../test/mr/helpers/mirror-rig.js';
import { readMrEventLog } from '../src/mr/mr-event-log-file.js';
import { checkRegisters } from '../src/mr/register-check.js';
import { replayPcrs } from '../src/mr/pcr-replay.js';
import { TPM_ALG } from '../src/tpm/spec/constants.js';
import { TPM_CC } from '../src/tpm/spec/tpm-cc.js';
import { median } from './bench-stats.js';

export interface MirrorOverhead {
  noneOpsPerSecond: number;
  tdxSimOpsPerSecond: number;
  /** Server CPU time per PCR_Extend (all threads, µs), median over the pairs. */
  noneCpuMicrosPerOp: number;
  tdxSimCpuMicrosPerOp: number;
  /** Median over the pairs of the extra server CPU per mirrored PCR_Extend (target <= 20 µs). */
  extraCpuMicrosPerOp: number;
  /** Time per PCR_Extend with mirroring over time without (target <= 1.25): the median of the pairs. */
  overhead: number;
  /** Each back-to-back pair's ratio, so the spread on this machine is visible. */
  pairRatios: number[];
}

/** Back-to-back pairs of short runs: drift on a shared machine hits both sides of a pair alike. */
const PAIRS = 8;

const extend = commands.pcrExtend(16, [{ hash: 'sha384', digest: Buffer.alloc(48, 0x42) }]);

export async function mirrorOverhead(seconds: number): Promise<MirrorOverhead> {
  const servers = await Promise.all(['none', 'tdx-sim'].map((mr) => startMrtpm({ protocol: 'swtpm', logLevel: 'silent', extraArgs: ['--mr', mr] })));
  const clients = await Promise.all(servers.map((s) => SwtpmDataClient.connect(s.port)));
  const steps: Step[] = clients.map((c) => async () => void expectSuccess(await c.transmit(extend), 'PCR_Extend'));
  try {
    for (const [i, c] of clients.entries()) {
      await startupIfNeeded(c);
      await runSlice(servers[i]!.child.pid, steps[i]!, 300);
    }
    const runs: [Slice[], Slice[]] = [[], []];
    for (let pair = 0; pair < PAIRS; pair++) {
      for (const i of pair % 2 === 0 ? [0, 1] : [1, 0]) runs[i]!.push(await runSlice(servers[i]!.child.pid, steps[i]!, (seconds * 1000) / PAIRS));
    }
    const rate = (s: Slice): number => s.ops / s.seconds;
    const cpu = (s: Slice): number => s.cpuMicros / s.ops;
    const [none, tdx] = runs;
    return {
      noneOpsPerSecond: median(none.map(rate)), tdxSimOpsPerSecond: median(tdx.map(rate)),
      noneCpuMicrosPerOp: median(none.map(cpu)), tdxSimCpuMicrosPerOp: median(tdx.map(cpu)),
      extraCpuMicrosPerOp: median(tdx.map((t, i) => cpu(t) - cpu(none[i]!))),
      overhead: median(none.map((n, i) => rate(n) / rate(tdx[i]!))),
      pairRatios: none.map((n, i) => rate(n) / rate(tdx[i]!)),
    };
  } finally {
    for (const c of clients) c.close();
    await Promise.all(servers.map((s) => s.stop()));
  }
}

export interface ReplaySpeed {
  events: number;
  logBytes: number;
  parseMs: number;
  /** Parse plus this is the MR log replay (target < 1000). */
  registerReplayMs: number;
  /** What `mrtpm mr replay` adds for the PCR banks. */
  pcrReplayMs: number;
  totalMs: number;
}

export function replaySpeed(events: number): ReplaySpeed {
  const rig = mirrorRig({ kind: 'tdx-sim' });
  try {
    rig.mirror.beforeStartup({ kind: 'reset', locality: 0, allocation: [{ hash: TPM_ALG.SHA256, pcrs: [...Array(24).keys()] }, { hash: TPM_ALG.SHA384, pcrs: [...Array(24).keys()] }] });
    for (let i = 1; i < events; i++) {
      const digests = [
        { hashAlg: TPM_ALG.SHA256, digest: createHash('sha256').update(String(i)).digest() },
        { hashAlg: TPM_ALG.SHA384, digest: createHash('sha384').update(String(i)).digest() },
      ];
      rig.mirror.beforeExtend({ pcr: [8, 10, 16, 23][i % 4]!, command: TPM_CC.PCR_Extend, applied: digests, supplied: digests });
    }
    const t0 = performance.now();
    const log = readMrEventLog(join(rig.dir, 'events.log'));
    const t1 = performance.now();
    const checks = checkRegisters(rig.backend, log.events);
    const t2 = performance.now();
    replayPcrs(log.events);
    const t3 = performance.now();
    if (log.events.length !== events || !checks.every((c) => c.match)) throw new Error('the benchmark log does not replay');
    return { events, logBytes: log.validLength, parseMs: t1 - t0, registerReplayMs: t2 - t1, pcrReplayMs: t3 - t2, totalMs: t3 - t0 };
  } finally {
    rig.close();
  }
}
