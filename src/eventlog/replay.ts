/**
 * Replays CC event log records into measurement-register values: each register starts at zero and
 * every record naming it (other than EV_NO_ACTION, which firmware logs without extending) extends
 * it with the record's digest of the register's hash: value = H(value || digest).
 */
import { hash, requireHashAlg } from '../tpm/crypto/hash.js';
import type { CcEvent, CcEventRecord } from './cc-event.js';
import { EV_NO_ACTION } from './event-types.js';

export interface ReplayRegister {
  /** CC MR index, as the log's MrIndex names the register. */
  readonly ccMrIndex: number;
  /** TPM_ALG_ID of the register's hash. */
  readonly hashAlg: number;
  /** Register width in bytes: the hash's digest size. */
  readonly size: number;
}

export interface ReplayOptions {
  /** Values to continue from (a replay of an earlier log); registers not in it start at zero. */
  readonly start?: ReadonlyMap<number, Uint8Array>;
  /** Names the log in errors (e.g. "CCEL"). */
  readonly logName?: string;
}

interface RegisterState {
  readonly nodeName: string;
  readonly hashAlg: number;
  readonly size: number;
  /** value || digest: the hash input, so a step copies only the digest and the new value. */
  readonly scratch: Uint8Array;
}

/** Register values by CC MR index after replaying `events`. Records for other MRs are skipped. */
export function replayCcEvents(
  events: readonly (CcEvent | CcEventRecord)[],
  registers: readonly ReplayRegister[],
  options: ReplayOptions = {},
): Map<number, Uint8Array> {
  const states = new Map<number, RegisterState>();
  for (const reg of registers) {
    const alg = requireHashAlg(reg.hashAlg);
    if (reg.size !== alg.digestSize) throw new RangeError(`CC MR ${reg.ccMrIndex}: size ${reg.size} is not the ${alg.name} digest size ${alg.digestSize}`);
    if (states.has(reg.ccMrIndex)) throw new RangeError(`CC MR ${reg.ccMrIndex} listed twice`);
    const scratch = new Uint8Array(2 * reg.size);
    const start = options.start?.get(reg.ccMrIndex);
    if (start !== undefined) {
      if (start.length !== reg.size) throw new RangeError(`CC MR ${reg.ccMrIndex}: start value is ${start.length} bytes, expected ${reg.size}`);
      scratch.set(start);
    }
    states.set(reg.ccMrIndex, { nodeName: alg.name, hashAlg: reg.hashAlg, size: reg.size, scratch });
  }
  for (let i = 0; i < events.length; i++) {
    const ev = events[i]!;
    const state = states.get(ev.mrIndex);
    if (state === undefined || ev.eventType === EV_NO_ACTION) continue;
    const digest = ev.digests.find((d) => d.hashAlg === state.hashAlg)?.digest;
    if (digest === undefined || digest.length !== state.size) {
      const problem = digest === undefined ? `has no ${state.nodeName} digest` : `has a ${digest.length}-byte ${state.nodeName} digest`;
      throw new Error(`${describeRecord(ev, i, options.logName)} (CC MR ${ev.mrIndex}) ${problem}, so the register cannot be replayed`);
    }
    state.scratch.set(digest, state.size);
    state.scratch.set(hash(state.hashAlg, state.scratch));
  }
  return new Map([...states].map(([index, s]) => [index, s.scratch.slice(0, s.size)]));
}

function describeRecord(ev: CcEvent | CcEventRecord, index: number, logName = 'event log'): string {
  return `${logName} record ${index}${'offset' in ev ? ` at offset ${ev.offset}` : ''}`;
}
