/**
 * The engine alone: `Tpm.execute` called in-process on prepared command buffers, no socket, no
 * server. Steadier than any round trip on a shared VM, so it is what tells a regression in the
 * engine apart from machine noise (`npm run bench -- --engine` prints only this). It also counts
 * the bytes each command allocates: inside the server every allocated byte is a cold cache line,
 * so allocation is a large part of what a command costs there (docs/performance.md).
 */
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import type { Tpm } from '../src/tpm/engine/tpm.js';
import { TPM_ALG } from '../src/tpm/spec/constants.js';
import { commands, TPM_RC_SUCCESS } from '../test/helpers/tpm-commands.js';
import { startedTpm } from '../test/tpm/helpers/pcr-cmd.js';
import { mirrorRig } from '../test/mr/helpers/mirror-rig.js';
import { median } from './bench-stats.js';

export interface EngineRow {
  operation: string;
  opsPerSecond: number;
  /** Young-generation bytes allocated per command (median of batches that saw no scavenge). */
  bytesPerCommand: number;
  /** The figure the operation must reach, if it has one. */
  target?: number;
}

const ROUNDS = 5;
const ROUND_MS = 200;
const TARGET = 200_000;

const BANKS = [TPM_ALG.SHA256, TPM_ALG.SHA384];

const youngUsed = (): number => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_used_size;
const BATCH = 100;

/** Bytes a command allocates: growth of the young generation over batches that no scavenge interrupted. */
function allocated(tpm: Tpm, bytes: Uint8Array): number {
  const perCommand: number[] = [];
  for (let batch = 0; batch < 30; batch++) {
    const before = youngUsed();
    for (let i = 0; i < BATCH; i++) tpm.execute(bytes);
    const after = youngUsed();
    if (after > before) perCommand.push((after - before) / BATCH);
  }
  return median(perCommand);
}

/** Median ops/s of `ROUNDS` rounds, after one round of warm-up; every response is checked. */
function rate(tpm: Tpm, name: string, bytes: Uint8Array): number {
  const rates: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    let n = 0;
    const start = performance.now();
    const end = start + ROUND_MS;
    do {
      for (let i = 0; i < 100; i++) {
        if (tpm.execute(bytes).responseCode !== TPM_RC_SUCCESS) throw new Error(`${name} failed`);
      }
      n += 100;
    } while (performance.now() < end);
    if (round > 0) rates.push(n / ((performance.now() - start) / 1000));
  }
  return median(rates);
}

function row(tpm: Tpm, operation: string, bytes: Uint8Array, target?: number): EngineRow {
  const opsPerSecond = rate(tpm, operation, bytes);
  return { operation, opsPerSecond, bytesPerCommand: allocated(tpm, bytes), ...(target !== undefined && { target }) };
}

export function engineBench(): EngineRow[] {
  const { tpm } = startedTpm(BANKS);
  const digest = { hash: 'sha256' as const, digest: Buffer.alloc(32, 0x42) };
  const rows: EngineRow[] = [
    row(tpm, 'PCR_Extend (sha256, PCR 16, password)', commands.pcrExtend(16, [digest]), TARGET),
    row(tpm, 'PCR_Read (sha256:16)', commands.pcrRead([{ hash: 'sha256', pcrs: [16] }]), TARGET),
    row(tpm, 'GetRandom(32)', commands.getRandom(32)),
    row(tpm, 'PCR_Event (64 B, password)', commands.pcrEvent(16, Buffer.alloc(64, 0x17))),
    row(tpm, 'GetCapability (properties-fixed)', commands.getCapability(6, 0x100, 127)),
  ];
  // The same PCR_Extend with the tdx-sim mirror behind it: register file, MR log, real files.
  const rig = mirrorRig({ kind: 'tdx-sim' });
  try {
    const { tpm: mirrored } = startedTpm(BANKS, rig.mirror);
    const sha384 = { hash: 'sha384' as const, digest: Buffer.alloc(48, 0x42) };
    rows.push(row(mirrored, 'PCR_Extend (sha384, PCR 16) mirrored to tdx-sim', commands.pcrExtend(16, [sha384])));
  } finally {
    rig.close();
  }
  return rows;
}
