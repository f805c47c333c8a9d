/**
 * Throughput of mrtpm against real swtpm through the same raw client (one persistent swtpm
 * data connection each; mrtpm with --mr none, a plain TPM like swtpm), plus mrtpm's cold start and
 * idle RSS, the cost of MR mirroring and the MR log replay speed (bench-mr.ts). Prints markdown
 * tables and writes bench-results.json. BENCH_SECONDS sets the measured time per operation and target.
 */
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { startMrtpm, type MrtpmServer } from '../test/helpers/mrtpm.js';
import { spawnServing, stopAllChildren, stopChild } from '../test/helpers/processes.js';
import { findFreePort } from '../test/helpers/ports.js';
import { mirrorOverhead, replaySpeed, startupIfNeeded } from './bench-mr.js';
import { median } from './bench-stats.js';
import { rssKiB } from './proc-stats.js';
import { fileURLToPath } from 'node:url';
import { SwtpmDataClient } from '../test/helpers/raw-client.js';
import { makeTempDir, removeDir } from '../test/helpers/state-dirs.js';
import { startSwtpm } from '../test/helpers/swtpm.js';
import {
  commands, expectSuccess, parseHashSequenceStart, responseCode, TPM_RC_INITIALIZE, TPM_RC_SUCCESS,
} from '../test/helpers/tpm-commands.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const WARMUP_MS = 300;
const COLD_STARTS = 5;
const REPLAY_EVENTS = 100_000;

type Op = (client: SwtpmDataClient) => Promise<void>;

async function ok(client: SwtpmDataClient, command: Buffer, what: string): Promise<Buffer> {
  return expectSuccess(await client.transmit(command), what);
}

const extendCommand = commands.pcrExtend(16, [{ hash: 'sha256', digest: Buffer.alloc(32, 0x42) }]);
const readCommand = commands.pcrRead([{ hash: 'sha256', pcrs: [16] }]);
const randomCommand = commands.getRandom(32);
const eventCommand = commands.pcrEvent(16, Buffer.alloc(64, 0x17));
const chunk = Buffer.alloc(1024, 0x33);

const operations: [string, Op][] = [
  ['PCR_Extend (sha256, PCR 16)', async (c) => void (await ok(c, extendCommand, 'PCR_Extend'))],
  ['PCR_Read (sha256:16)', async (c) => void (await ok(c, readCommand, 'PCR_Read'))],
  ['GetRandom(32)', async (c) => void (await ok(c, randomCommand, 'GetRandom'))],
  ['PCR_Event (64 B)', async (c) => void (await ok(c, eventCommand, 'PCR_Event'))],
  ['Hash sequence (start + 3x1 KiB + complete)', async (c) => {
    const handle = parseHashSequenceStart(await c.transmit(commands.hashSequenceStart('sha256')));
    for (let i = 0; i < 3; i++) await ok(c, commands.sequenceUpdate(handle, chunk), 'SequenceUpdate');
    await ok(c, commands.sequenceComplete(handle, Buffer.alloc(0)), 'SequenceComplete');
  }],
];

async function opsPerSecond(client: SwtpmDataClient, op: Op, durationMs: number): Promise<number> {
  let count = 0;
  const start = performance.now();
  const end = start + durationMs;
  while (performance.now() < end) {
    await op(client);
    count++;
  }
  return count / ((performance.now() - start) / 1000);
}

/** Spawn to first successful GetRandom, on a state dir that has seen Startup (median of runs). */
async function coldStartMs(): Promise<number[]> {
  const stateDir = await makeTempDir('mrtpm-bench-cold');
  const times: number[] = [];
  try {
    const prepare = await startMrtpm({ protocol: 'swtpm', stateDir, logLevel: 'silent' });
    const client = await SwtpmDataClient.connect(prepare.port);
    await startupIfNeeded(client);
    client.close();
    await prepare.stop();
    for (let i = 0; i < COLD_STARTS; i++) {
      const t0 = performance.now();
      const server = await startMrtpm({ protocol: 'swtpm', stateDir, logLevel: 'silent' });
      const c = await SwtpmDataClient.connect(server.port);
      let code = responseCode(await c.transmit(randomCommand));
      if (code === TPM_RC_INITIALIZE) {
        await startupIfNeeded(c);
        code = responseCode(await c.transmit(randomCommand));
      }
      if (code !== TPM_RC_SUCCESS) throw new Error(`GetRandom answered 0x${code.toString(16)}`);
      times.push(performance.now() - t0);
      c.close();
      await server.stop();
    }
  } finally {
    await removeDir(stateDir);
  }
  return times;
}

const FLOOR_SERVER = fileURLToPath(new URL('./node-floor-server.js', import.meta.url));

/**
 * Round trips per second of a Node.js server that does no TPM work, and of swtpm answering
 * GetRandom(32), through the same client: the ratio mrtpm could reach if its engine cost nothing.
 */
async function nodeFloor(swtpmPort: number): Promise<{ floor: number; swtpm: number; ratio: number }> {
  const port = await findFreePort();
  const child = await spawnServing('node floor server', process.execPath, [FLOOR_SERVER, String(port)], [port]);
  const floorClient = await SwtpmDataClient.connect(port);
  const swtpmClient = await SwtpmDataClient.connect(swtpmPort);
  const roundTrip: Op = async (c) => void (await c.transmit(randomCommand));
  try {
    for (const c of [floorClient, swtpmClient]) await opsPerSecond(c, roundTrip, WARMUP_MS);
    const floor = await opsPerSecond(floorClient, roundTrip, SECONDS * 1000);
    const swtpm = await opsPerSecond(swtpmClient, roundTrip, SECONDS * 1000);
    return { floor, swtpm, ratio: floor / swtpm };
  } finally {
    floorClient.close();
    swtpmClient.close();
    await stopChild(child);
  }
}


async function main(): Promise<void> {
  const mrtpm: MrtpmServer = await startMrtpm({ protocol: 'swtpm', logLevel: 'silent', extraArgs: ['--mr', 'none'] });
  const swtpm = await startSwtpm({ pcrBanks: ['sha256', 'sha384'] });
  const targets = [
    { name: 'mrtpm', client: await SwtpmDataClient.connect(mrtpm.port) },
    { name: 'swtpm', client: await SwtpmDataClient.connect(swtpm.port) },
  ];
  for (const { client } of targets) await startupIfNeeded(client);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const idleRss = { mrtpmKiB: rssKiB(mrtpm.child.pid), swtpmKiB: rssKiB(swtpm.child.pid) };

  const rows: { operation: string; mrtpm: number; swtpm: number; ratio: number }[] = [];
  for (const [operation, op] of operations) {
    for (const { client } of targets) await opsPerSecond(client, op, WARMUP_MS);
    const rates: Record<string, number[]> = { mrtpm: [], swtpm: [] };
    // Two alternating halves per target, so drift (thermal, other load) hits both alike.
    for (let round = 0; round < 2; round++) {
      for (const { name, client } of round === 0 ? targets : [...targets].reverse()) {
        rates[name]!.push(await opsPerSecond(client, op, (SECONDS * 1000) / 2));
      }
    }
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const row = { operation, mrtpm: mean(rates.mrtpm!), swtpm: mean(rates.swtpm!), ratio: 0 };
    row.ratio = row.mrtpm / row.swtpm;
    rows.push(row);
  }
  for (const { client } of targets) client.close();
  const floor = await nodeFloor(swtpm.port);
  await Promise.all([mrtpm.stop(), swtpm.stop()]);

  const cold = await coldStartMs();
  const mirror = await mirrorOverhead(SECONDS);
  const replay = replaySpeed(REPLAY_EVENTS);
  const results = {
    date: new Date().toISOString(),
    node: process.version,
    secondsPerTarget: SECONDS,
    throughput: rows,
    nodeFloor: floor,
    coldStartMs: { median: median(cold), runs: cold },
    idleRss,
    mirror,
    replay,
  };

  const fmt = (n: number): string => n.toFixed(0);
  console.log('| operation | mrtpm ops/s | swtpm ops/s | mrtpm/swtpm |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const row of rows) console.log(`| ${row.operation} | ${fmt(row.mrtpm)} | ${fmt(row.swtpm)} | ${row.ratio.toFixed(2)} |`);
  console.log(`| (Node.js floor: a server doing no TPM work vs swtpm GetRandom) | ${fmt(floor.floor)} | ${fmt(floor.swtpm)} | ${floor.ratio.toFixed(2)} |`);
  console.log('');
  console.log('| metric | value |');
  console.log('| --- | ---: |');
  console.log(`| mrtpm cold start (spawn to first GetRandom, median of ${COLD_STARTS}) | ${results.coldStartMs.median.toFixed(0)} ms |`);
  console.log(`| mrtpm idle RSS | ${(idleRss.mrtpmKiB / 1024).toFixed(1)} MiB |`);
  console.log(`| swtpm idle RSS | ${(idleRss.swtpmKiB / 1024).toFixed(1)} MiB |`);
  console.log(`| PCR_Extend (sha384, PCR 16) --mr none / --mr tdx-sim | ${fmt(mirror.noneOpsPerSecond)} / ${fmt(mirror.tdxSimOpsPerSecond)} ops/s |`);
  console.log(`| ... server CPU per PCR_Extend, --mr none / --mr tdx-sim | ${fmt(mirror.noneCpuMicrosPerOp)} / ${fmt(mirror.tdxSimCpuMicrosPerOp)} µs |`);
  const spread = `${Math.min(...mirror.pairRatios).toFixed(2)}-${Math.max(...mirror.pairRatios).toFixed(2)}`;
  console.log(`| mirroring overhead (time per PCR_Extend, tdx-sim / none, median of ${mirror.pairRatios.length} pairs, range ${spread}; target <= 1.25) | ${mirror.overhead.toFixed(2)}x |`);
  console.log(`| replay of a ${replay.events}-event MR log (${(replay.logBytes / 1e6).toFixed(1)} MB): parse + registers (target < 1000 ms) | ${(replay.parseMs + replay.registerReplayMs).toFixed(0)} ms |`);
  console.log(`| ... and the PCR banks (2 banks) from the same log, which \`mr replay\` also does | ${replay.pcrReplayMs.toFixed(0)} ms |`);
  await writeFile('bench-results.json', `${JSON.stringify(results, null, 2)}\n`);
  console.log('\nwrote bench-results.json');
}

main().catch(async (error: unknown) => {
  console.error(error);
  await stopAllChildren();
  process.exitCode = 1;
});
