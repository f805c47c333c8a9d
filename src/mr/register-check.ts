/** Replay of an MR history (firmware CCEL, then mrtpm's log) against the live registers. */
import type { CcEvent } from '../eventlog/cc-event.js';
import { replayCcelThenLog, replayLogFrom } from '../eventlog/ccel.js';
import type { ReplayRegister } from '../eventlog/replay.js';
import type { ParsedCcEventLog } from '../eventlog/cc-event-log.js';
import { bytesEqual } from '../tpm/crypto/bytes.js';
import type { MrBackend } from './mr-backend.js';

/** What a check reads: a live backend, or a snapshot of a simulator's file. */
export type RegisterSource = Pick<MrBackend, 'registers' | 'read'>;

export interface RegisterCheck {
  register: string;
  ccMrIndex: number;
  replayed: Uint8Array;
  live: Uint8Array;
  match: boolean;
}

/** The registers a CC event log can extend: MRTD/RIM are measured at build, not extended. */
export function replayRegisters(source: RegisterSource): (ReplayRegister & { name: string })[] {
  return source.registers
    .filter((r) => r.extendable && r.ccMrIndex !== undefined)
    .map((r) => ({ name: r.name, ccMrIndex: r.ccMrIndex!, hashAlg: r.hashAlg, size: r.size }));
}

/**
 * Every register a CC event log can extend, replayed from the firmware's CCEL (if any) and then
 * mrtpm's log; or, given `start` values (a checkpoint), from those and then `log`.
 */
export function checkRegisters(source: RegisterSource, log: readonly CcEvent[], before?: ParsedCcEventLog | { start: ReadonlyMap<number, Uint8Array> }): RegisterCheck[] {
  const regs = replayRegisters(source);
  const replayed = before !== undefined && 'start' in before ? replayLogFrom(log, regs, before.start) : replayCcelThenLog(before, log, regs);
  return regs.map((r) => {
    const live = source.read(r.name);
    const value = replayed.get(r.ccMrIndex)!;
    return { register: r.name, ccMrIndex: r.ccMrIndex, replayed: value, live, match: bytesEqual(value, live) };
  });
}
