/** TPM_CAP_COMMANDS: TPMA_CC of each implemented command, derived from its declaration. */
import type { AnyCommand } from '../engine/command-def.js';
import { COMMANDS } from '../commands/command-table.js';

/** TPMA_CC fields (Part 2 table 33). */
const TPMA_CC = {
  commandIndex: 0x0000ffff,
  nv: 1 << 22,
  extensive: 1 << 23,
  flushed: 1 << 24,
  cHandlesShift: 25,
  rHandle: 1 << 28,
  V: 1 << 29,
} as const;

export function tpmaCC(def: AnyCommand): number {
  return ((def.code & (TPMA_CC.commandIndex | TPMA_CC.V)) |
    (def.nv ? TPMA_CC.nv : 0) |
    (def.extensive ? TPMA_CC.extensive : 0) |
    (def.flushed ? TPMA_CC.flushed : 0) |
    (def.handles.length << TPMA_CC.cHandlesShift) |
    (def.responseHandle ? TPMA_CC.rHandle : 0)) >>> 0;
}

/** TPMA_CC of the implemented commands whose code is at least `property`, in command-code order. */
export function commandsFrom(property: number): number[] {
  return [...COMMANDS.values()].filter((c) => c.code >= property).sort((a, b) => a.code - b.code).map(tpmaCC);
}
