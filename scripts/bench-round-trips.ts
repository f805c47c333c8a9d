/**
 * Round trips of `npm run bench`: each operation against mrtpm (--mr none), the Node.js floor
 * server (scripts/node-floor-server.ts: same framing, no TPM work) and real swtpm, through the same
 * raw client on one persistent swtpm data connection each. The three run in short slices, one
 * after another in a rotating order, several rounds per operation: drift on a shared machine hits
 * all three alike, and each figure is the median over the rounds. Server CPU per command is read
 * from /proc around every slice.
 */
import { performance } from 'node:perf_hooks';
import { SwtpmDataClient } from '../test/helpers/raw-client.js';
import {
  commands, expectSuccess, parseHashSequenceStart, responseCode, TPM_RC_INITIALIZE, TPM_RC_SUCCESS,
} from '../test/helpers/tpm-commands.js';
import { ClientSession, parseResponse, splitSessionsResponse, startAuthSessionCommand } from '../test/tpm/helpers/session-cmd.js';
import { command, u32 } from '../test/tpm/helpers/tpm-wire.js';
import { median } from './bench-stats.js';
import { cpuMicros } from './proc-stats.js';

export type TargetName = 'mrtpm' | 'floor' | 'swtpm';

export interface Target {
  name: TargetName;
  client: SwtpmDataClient;
  pid: number;
}

/** One operation's loop body. */
export type Step = () => Promise<void>;

export interface RoundTripOp {
  name: string;
  /** TPM commands per operation, so that CPU is reported per command. */
  commands: number;
  /** Gets a target ready (a session, say) and returns the operation; `real` is false for the floor server, whose answers mean nothing. */
  prepare(client: SwtpmDataClient, real: boolean): Promise<Step>;
}

/** Answers TPM2_Startup(CLEAR) or says it had been done already. */
export async function startupIfNeeded(client: SwtpmDataClient): Promise<void> {
  const code = responseCode(await client.transmit(commands.startup()));
  if (code !== TPM_RC_SUCCESS && code !== TPM_RC_INITIALIZE) throw new Error(`Startup answered 0x${code.toString(16)}`);
}

const PCR = 16;
const CC_PCR_EXTEND = 0x182;
const SHA256 = 0x000b;

/** One command sent over and over; its answer must be success where the answer is real. */
function repeat(name: string, bytes: Buffer): RoundTripOp {
  return {
    name,
    commands: 1,
    prepare: async (client, real) => async () => {
      const response = await client.transmit(bytes);
      if (real) expectSuccess(response, name);
    },
  };
}

const chunk = Buffer.alloc(1024, 0x33);
/** The handle the floor server's sequence commands carry: it answers without looking. */
const FLOOR_SEQUENCE_HANDLE = 0x80000000;

const hashSequence: RoundTripOp = {
  name: 'Hash sequence (start + 3x1 KiB + complete)',
  commands: 5,
  prepare: async (client, real) => async () => {
    const started = await client.transmit(commands.hashSequenceStart('sha256'));
    const handle = real ? parseHashSequenceStart(started) : FLOOR_SEQUENCE_HANDLE;
    for (let i = 0; i < 3; i++) {
      const response = await client.transmit(commands.sequenceUpdate(handle, chunk));
      if (real) expectSuccess(response, 'SequenceUpdate');
    }
    const response = await client.transmit(commands.sequenceComplete(handle, Buffer.alloc(0)));
    if (real) expectSuccess(response, 'SequenceComplete');
  },
};

/**
 * PCR_Extend authorized by an HMAC session (unbound, unsalted, so keyed by PCR 16's empty
 * authValue: both sides still compute and check the HMACs), as ESAPI sends it; the client rolls
 * the nonces and checks every response HMAC.
 */
const hmacExtend: RoundTripOp = {
  name: 'PCR_Extend (sha256, PCR 16, HMAC session)',
  commands: 1,
  async prepare(client, real) {
    let session = new ClientSession(0x02000000, SHA256, Buffer.alloc(32), Buffer.alloc(0), Buffer.alloc(32, 0xa5));
    if (real) {
      const r = parseResponse(await client.transmit(startAuthSessionCommand({ nonceCaller: session.nonceCaller })));
      if (r.rc !== TPM_RC_SUCCESS) throw new Error(`StartAuthSession answered 0x${r.rc.toString(16)}`);
      const nonceTPM = Buffer.from(r.body.subarray(6, 6 + r.body.readUInt16BE(4)));
      session = new ClientSession(r.body.readUInt32BE(0), SHA256, nonceTPM, Buffer.alloc(0), session.nonceCaller);
    }
    const params = Buffer.concat([u32(1), Buffer.from([0, SHA256]), Buffer.alloc(32, 0x42)]);
    return async () => {
      const auth = session.authCommand(CC_PCR_EXTEND, [u32(PCR)], params);
      const response = await client.transmit(command(CC_PCR_EXTEND, [PCR], [params], [auth]));
      if (!real) return;
      const split = splitSessionsResponse(parseResponse(response), false);
      if (!session.acceptResponse(CC_PCR_EXTEND, split.params, split.auths[0]!)) throw new Error('PCR_Extend: bad response HMAC');
    };
  },
};

/** TPM_CAP_TPM_PROPERTIES from TPM_PT_FIXED, as `tpm2_getcap properties-fixed` asks. */
const CAP_TPM_PROPERTIES = 6;
const PT_FIXED = 0x100;
const MAX_TPM_PROPERTIES = 127;

export const ROUND_TRIP_OPS: readonly RoundTripOp[] = [
  repeat('PCR_Extend (sha256, PCR 16, password)', commands.pcrExtend(PCR, [{ hash: 'sha256', digest: Buffer.alloc(32, 0x42) }])),
  repeat('PCR_Read (sha256:16)', commands.pcrRead([{ hash: 'sha256', pcrs: [PCR] }])),
  repeat('GetRandom(32)', commands.getRandom(32)),
  repeat('PCR_Event (64 B, password)', commands.pcrEvent(PCR, Buffer.alloc(64, 0x17))),
  hashSequence,
  repeat('GetCapability (properties-fixed)', commands.getCapability(CAP_TPM_PROPERTIES, PT_FIXED, MAX_TPM_PROPERTIES)),
  hmacExtend,
];

export interface Slice {
  ops: number;
  seconds: number;
  cpuMicros: number;
}

/** Runs `step` for `ms` against the server `pid`: how many, how long, and the server's CPU meanwhile. */
export async function runSlice(pid: number, step: Step, ms: number): Promise<Slice> {
  let ops = 0;
  const cpu = cpuMicros(pid);
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) {
    await step();
    ops++;
  }
  return { ops, seconds: (performance.now() - start) / 1000, cpuMicros: cpuMicros(pid) - cpu };
}

export interface TargetFigures {
  opsPerSecond: number;
  /** Server CPU (all threads) per TPM command, µs. */
  cpuMicrosPerCommand: number;
}

export interface RoundTripRow {
  operation: string;
  targets: Record<TargetName, TargetFigures>;
  /** Medians of the per-round ratios of ops/s. */
  mrtpmOverFloor: number;
  mrtpmOverSwtpm: number;
  /** Median of the per-round differences of server CPU per command, mrtpm minus floor, µs. */
  cpuOverFloorMicros: number;
  rounds: number;
}

/** Warm-up per target and operation before the measured rounds. */
const WARMUP_MS = 300;

/** Runs `op` on every target in `rounds` rounds of `sliceMs` per target, rotating who goes first. */
export async function measureRoundTrips(targets: readonly Target[], op: RoundTripOp, rounds: number, sliceMs: number): Promise<RoundTripRow> {
  const steps = await Promise.all(targets.map((t) => op.prepare(t.client, t.name !== 'floor')));
  for (const [i, t] of targets.entries()) await runSlice(t.pid, steps[i]!, WARMUP_MS);
  const slices = new Map<TargetName, Slice[]>(targets.map((t) => [t.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < targets.length; k++) {
      const i = (round + k) % targets.length;
      slices.get(targets[i]!.name)!.push(await runSlice(targets[i]!.pid, steps[i]!, sliceMs));
    }
  }
  const rate = (s: Slice): number => s.ops / s.seconds;
  const cpu = (s: Slice): number => s.cpuMicros / (s.ops * op.commands);
  const of = (name: TargetName): Slice[] => slices.get(name)!;
  const figures = (name: TargetName): TargetFigures => ({ opsPerSecond: median(of(name).map(rate)), cpuMicrosPerCommand: median(of(name).map(cpu)) });
  const perRound = (f: (m: Slice, other: Slice) => number, other: TargetName): number => median(of('mrtpm').map((m, r) => f(m, of(other)[r]!)));
  return {
    operation: op.name,
    targets: { mrtpm: figures('mrtpm'), floor: figures('floor'), swtpm: figures('swtpm') },
    mrtpmOverFloor: perRound((m, f) => rate(m) / rate(f), 'floor'),
    mrtpmOverSwtpm: perRound((m, s) => rate(m) / rate(s), 'swtpm'),
    cpuOverFloorMicros: perRound((m, f) => cpu(m) - cpu(f), 'floor'),
    rounds,
  };
}
