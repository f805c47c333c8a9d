/** TPMS_PCR_SELECTION bitmaps (Part 2 §10.6.2): octet i, bit b selects PCR 8i+b. */
import { LIMITS } from '../spec/limits.js';

export function selectionToIndices(select: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < select.length; i++) {
    const byte = select[i]!;
    for (let b = 0; b < 8; b++) if (byte & (1 << b)) out.push(i * 8 + b);
  }
  return out;
}

export function indicesToSelection(pcrs: Iterable<number>, size = LIMITS.PCR_SELECT_MIN): Uint8Array {
  const out = new Uint8Array(size);
  for (const p of pcrs) out[p >> 3]! |= 1 << (p & 7);
  return out;
}
