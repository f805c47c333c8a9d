/** Replay of an MR history (firmware CCEL, then mrtpm's log) against the live registers. */
import type { CcEvent } from '../eventlog/cc-event.js';
import { replayCcelThenLog } from '../eventlog/ccel.js';
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

/**
 * Every extendable register the CC event log can name (MRTD/RIM are measured at build, not
 * extended), replayed from the firmware's CCEL (if any) and then mrtpm's log.
 */
export function checkRegisters(backend: RegisterSource, log: readonly CcEvent[], ccel?: ParsedCcEventLog): RegisterCheck[] {
  const regs = backend.registers.filter((r) => r.extendable && r.ccMrIndex !== undefined);
  const replayed = replayCcelThenLog(ccel, log, regs.map((r) => ({ ccMrIndex: r.ccMrIndex!, hashAlg: r.hashAlg, size: r.size })));
  return regs.map((r) => {
    const live = backend.read(r.name);
    const value = replayed.get(r.ccMrIndex!)!;
    return { register: r.name, ccMrIndex: r.ccMrIndex!, replayed: value, live, match: bytesEqual(value, live) };
  });
}
