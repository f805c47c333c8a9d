/**
 * Key operations of `npm run bench`, each against mrtpm (--mr none) and real swtpm through the same
 * raw client, reported as mrtpm's speed over swtpm's. "First" RSA primary: a fresh state for both
 * in every round (mrtpm's primary cache is in its state), one CreatePrimary timed. The others run
 * repeatedly in rotating slices like the round trips. An operation a server answers with an error
 * (a command not implemented yet) is reported on its own line; the rest of the bench goes on.
 */
import { performance } from 'node:perf_hooks';
import { startMrtpm } from '../test/helpers/mrtpm.js';
import { SwtpmDataClient } from '../test/helpers/raw-client.js';
import { startSwtpm } from '../test/helpers/swtpm.js';
import { flushCommand, loadCommand, parseContext, saveCommand } from '../test/tpm/helpers/session-cmd.js';
import { saltedSessionCommand, TEMPLATES } from '../test/helpers/key-commands.js';
import { ALG, createPrimaryCommand, scheme, signCommand, type Template } from '../test/tpm/helpers/key-cmd.js';
import { runSlice, startupIfNeeded, type Step } from './bench-round-trips.js';
import { TPM_RC_COMMAND_CODE, TpmFailure, createPrimary, send, type KeyOp } from './bench-tpm-send.js';
import { STAGE4_OPS } from './bench-attestation-ops.js';
import { median } from './bench-stats.js';

interface KeyTarget {
  name: 'mrtpm' | 'swtpm';
  client: SwtpmDataClient;
  pid: number;
}

export interface KeyRow {
  operation: string;
  target: number;
  /** Milliseconds per operation (medians over the rounds), or why there are none. */
  mrtpmMs?: number;
  swtpmMs?: number;
  /** Median of the per-round speed ratios mrtpm / swtpm. */
  mrtpmOverSwtpm?: number;
  rounds: number;
  failure?: string;
}

/** CreatePrimary and FlushContext of the object, over and over. */
const repeatedPrimary = (name: string, template: Template, target: number): KeyOp => ({
  name, target,
  prepare: async (client) => async () => {
    const handle = (await send(client, 'CreatePrimary', createPrimaryCommand(template))).readUInt32BE(10);
    await send(client, 'FlushContext', flushCommand(handle));
  },
});

const DIGEST = Buffer.alloc(32, 0x5a);

const sign = (name: string, template: Template): KeyOp => ({
  name, target: 1,
  async prepare(client, loaded) {
    const { handle } = await createPrimary(client, template, loaded);
    const bytes = signCommand(handle, DIGEST, scheme(ALG.NULL));
    return async () => void await send(client, 'Sign', bytes);
  },
});

const REPEATED_OPS: readonly KeyOp[] = [
  repeatedPrimary('CreatePrimary RSA-2048 storage key, repeated (same template) + FlushContext', TEMPLATES.rsaStorage, 10),
  repeatedPrimary('CreatePrimary ECC P-256 storage key + FlushContext', TEMPLATES.eccStorage, 1),
  {
    name: 'ContextSave + ContextLoad + FlushContext of an ECC object',
    target: 1,
    async prepare(client, loaded) {
      const { handle } = await createPrimary(client, TEMPLATES.eccStorage, loaded);
      return async () => {
        const saved = parseContext((await send(client, 'ContextSave', saveCommand(handle))).subarray(10));
        const copy = (await send(client, 'ContextLoad', loadCommand(saved))).readUInt32BE(10);
        await send(client, 'FlushContext', flushCommand(copy));
      };
    },
  },
  sign('Sign ECDSA P-256 (SHA-256 digest)', TEMPLATES.ecdsa),
  sign('Sign RSASSA-2048 (SHA-256 digest)', TEMPLATES.rsassa),
  {
    name: 'StartAuthSession salted with an RSA-2048 key + FlushContext',
    target: 1,
    async prepare(client, loaded) {
      const { handle, publicKey } = await createPrimary(client, TEMPLATES.rsaStorage, loaded);
      const bytes = saltedSessionCommand(handle, publicKey!, Buffer.alloc(32, 0x3c));
      return async () => {
        const session = (await send(client, 'StartAuthSession', bytes)).readUInt32BE(10);
        await send(client, 'FlushContext', flushCommand(session));
      };
    },
  },
  ...STAGE4_OPS,
];

function failureText(error: unknown): string {
  if (error instanceof TpmFailure) {
    return error.rc === TPM_RC_COMMAND_CODE ? `not implemented (rc 0x${error.rc.toString(16)})` : `failed: ${error.message}`;
  }
  return `failed: ${error instanceof Error ? error.message : String(error)}`;
}

/** Runs `op` on both targets in rotating slices; a failure on either target is the row's result. */
async function measureRepeated(targets: readonly KeyTarget[], op: KeyOp, rounds: number, sliceMs: number): Promise<KeyRow> {
  const loaded = targets.map((): number[] => []);
  const row: KeyRow = { operation: op.name, target: op.target, rounds };
  try {
    const steps: Step[] = [];
    for (const [i, t] of targets.entries()) {
      steps.push(await op.prepare(t.client, loaded[i]!));
      await steps[i]!();
    }
    const msPerOp = targets.map((): number[] => []);
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < targets.length; k++) {
        const i = (round + k) % targets.length;
        const slice = await runSlice(targets[i]!.pid, steps[i]!, sliceMs);
        msPerOp[i]!.push((slice.seconds * 1000) / slice.ops);
      }
    }
    Object.assign(row, ratioFigures(msPerOp[0]!, msPerOp[1]!));
  } catch (error) {
    row.failure = failureText(error);
  } finally {
    for (const [i, t] of targets.entries()) for (const h of loaded[i]!) await t.client.transmit(flushCommand(h));
  }
  return row;
}

function ratioFigures(mrtpmMs: number[], swtpmMs: number[]): Pick<KeyRow, 'mrtpmMs' | 'swtpmMs' | 'mrtpmOverSwtpm'> {
  return { mrtpmMs: median(mrtpmMs), swtpmMs: median(swtpmMs), mrtpmOverSwtpm: median(mrtpmMs.map((m, r) => swtpmMs[r]! / m)) };
}

/** One CreatePrimary RSA-2048 on a server started on a fresh state; milliseconds. */
async function firstPrimaryMs(start: () => Promise<{ port: number; stop: () => Promise<unknown> }>): Promise<number> {
  const server = await start();
  const client = await SwtpmDataClient.connect(server.port);
  try {
    await startupIfNeeded(client);
    const t0 = performance.now();
    await send(client, 'CreatePrimary', createPrimaryCommand(TEMPLATES.rsaStorage));
    return performance.now() - t0;
  } finally {
    client.close();
    await server.stop();
  }
}

const startFreshMrtpm = () => startMrtpm({ protocol: 'swtpm', logLevel: 'silent', extraArgs: ['--mr', 'none'] });
const startFreshSwtpm = () => startSwtpm();

async function measureFirstPrimary(rounds: number): Promise<KeyRow> {
  const row: KeyRow = { operation: 'CreatePrimary RSA-2048 storage key, first (fresh state)', target: 1, rounds };
  const ms = { mrtpm: [] as number[], swtpm: [] as number[] };
  try {
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['mrtpm', 'swtpm'] as const) : (['swtpm', 'mrtpm'] as const);
      for (const name of order) ms[name].push(await firstPrimaryMs(name === 'mrtpm' ? startFreshMrtpm : startFreshSwtpm));
    }
    Object.assign(row, ratioFigures(ms.mrtpm, ms.swtpm));
  } catch (error) {
    row.failure = failureText(error);
  }
  return row;
}

/** Every key row: the first primary in `firstRounds` fresh starts, the rest in `rounds` slices of `sliceMs`. */
export async function keyBench(firstRounds: number, rounds: number, sliceMs: number): Promise<KeyRow[]> {
  const rows = [await measureFirstPrimary(firstRounds)];
  const mrtpm = await startFreshMrtpm();
  const swtpm = await startFreshSwtpm();
  const targets: KeyTarget[] = [
    { name: 'mrtpm', client: await SwtpmDataClient.connect(mrtpm.port), pid: mrtpm.child.pid },
    { name: 'swtpm', client: await SwtpmDataClient.connect(swtpm.port), pid: swtpm.child.pid },
  ];
  try {
    for (const t of targets) await startupIfNeeded(t.client);
    for (const op of REPEATED_OPS) rows.push(await measureRepeated(targets, op, rounds, sliceMs));
    return rows;
  } finally {
    for (const t of targets) t.client.close();
    await Promise.all([mrtpm.stop(), swtpm.stop()]);
  }
}
