/**
 * The defined NV indices (Part 1 §37): lookup, definition within the space budget, reads with the
 * checks that do not depend on authorization, writes, and what Startup does to their lock bits.
 */
import { TPMA_NV, TPM_NT, TPM_RH } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { LIMITS } from '../spec/limits.js';
import type { NvIndexState, PersistentState, VolatileState } from '../state/tpm-state.js';
import { NvIndex } from './nv-index.js';
import { nvType } from './nv-public.js';

/** Value of an index's octets before they are first written (as the reference's erased NV). */
const ERASED = 0xff;

/** Space an index takes out of LIMITS.NV_SPACE_BYTES: its data plus a fixed cost for its public area. */
const INDEX_OVERHEAD = 128;
const spaceOf = (s: NvIndexState): number => INDEX_OVERHEAD + s.dataSize;

/** A counter's 8 octets, big-endian. */
export const counterValue = (data: Uint8Array): bigint => new DataView(data.buffer, data.byteOffset, 8).getBigUint64(0);

export class NvTable {
  constructor(private readonly persistent: PersistentState, private readonly volatile: VolatileState) {}


  get(handle: number): NvIndex | undefined {
    const s = this.persistent.nvIndexes.get(handle);
    return s && new NvIndex(handle, s);
  }

  /** A defined index whose hierarchy is enabled (the reference's NvIndexIsAccessible); else undefined. */
  accessible(handle: number): NvIndex | undefined {
    const i = this.get(handle);
    if (!i) return undefined;
    const enabled = i.hierarchy === TPM_RH.PLATFORM ? this.volatile.phEnableNV !== false : this.volatile.shEnable;
    return enabled ? i : undefined;
  }

  handles(): number[] {
    return [...this.persistent.nvIndexes.keys()].sort((a, b) => a - b);
  }

  get count(): number {
    return this.persistent.nvIndexes.size;
  }

  get counters(): number {
    let n = 0;
    for (const s of this.persistent.nvIndexes.values()) if (nvType(s.attributes) === TPM_NT.COUNTER) n++;
    return n;
  }

  /** Adds an index: TPM_RC_NV_DEFINED if the handle is taken, TPM_RC_NV_SPACE past the budget. */
  define(handle: number, state: NvIndexState): void {
    const table = this.persistent.nvIndexes;
    if (table.has(handle)) throw new TpmError(TPM_RC.NV_DEFINED);
    if (!fits(this.persistent, state)) throw new TpmError(TPM_RC.NV_SPACE);
    if (nvType(state.attributes) === TPM_NT.COUNTER && this.counters >= LIMITS.NV_COUNTERS_MAX) throw new TpmError(TPM_RC.NV_SPACE);
    table.set(handle, state);
  }

  undefine(handle: number): void {
    this.persistent.nvIndexes.delete(handle);
  }

  /**
   * The octets [offset, offset+size) of an index, with the checks of a read that do not depend on
   * who authorized it: READLOCKED is TPM_RC_NV_LOCKED, an unwritten index TPM_RC_NV_UNINITIALIZED,
   * a range past dataSize TPM_RC_NV_RANGE.
   */
  read(index: NvIndex, offset: number, size: number): Uint8Array {
    if (index.has(TPMA_NV.READLOCKED)) throw new TpmError(TPM_RC.NV_LOCKED);
    if (!index.written) throw new TpmError(TPM_RC.NV_UNINITIALIZED);
    if (offset + size > index.dataSize) throw new TpmError(TPM_RC.NV_RANGE);
    return index.data.subarray(offset, offset + size);
  }

  /** Writes octets at `offset` (copied: parameters are views of the command) and sets WRITTEN. */
  write(index: NvIndex, offset: number, bytes: Uint8Array): void {
    const s = index.state;
    if (!index.written) s.data = new Uint8Array(s.dataSize).fill(ERASED);
    s.data.set(bytes, offset);
    index.set(TPMA_NV.WRITTEN);
    if (index.type === TPM_NT.COUNTER) {
      const v = counterValue(s.data);
      if (v > this.persistent.nvMaxCounter) this.persistent.nvMaxCounter = v;
    }
  }

  /**
   * Startup: a TPM Reset or Restart clears the STCLEAR state (READLOCKED with READ_STCLEAR,
   * WRITELOCKED with WRITE_STCLEAR or GLOBALLOCK unless a written WRITEDEFINE index holds it for
   * good, WRITTEN with CLEAR_STCLEAR); a Resume keeps it.
   */
  startup(resume: boolean): void {
    if (resume) return;
    for (const [handle, s] of this.persistent.nvIndexes) {
      const i = new NvIndex(handle, s);
      if (i.has(TPMA_NV.READ_STCLEAR)) i.clear(TPMA_NV.READLOCKED);
      if (i.has(TPMA_NV.WRITE_STCLEAR | TPMA_NV.GLOBALLOCK) && !(i.has(TPMA_NV.WRITEDEFINE) && i.written)) i.clear(TPMA_NV.WRITELOCKED);
      if (i.has(TPMA_NV.CLEAR_STCLEAR)) {
        i.clear(TPMA_NV.WRITTEN);
        s.data = new Uint8Array(0);
      }
    }
  }
}

/** Whether an index fits the space budget beside those defined (a redefinition of the same handle excluded). */
export function fits(p: PersistentState, state: NvIndexState, replacing?: number): boolean {
  let used = spaceOf(state);
  for (const [h, s] of p.nvIndexes) if (h !== replacing) used += spaceOf(s);
  return used <= LIMITS.NV_SPACE_BYTES && p.nvIndexes.size - (replacing !== undefined && p.nvIndexes.has(replacing) ? 1 : 0) < LIMITS.NV_INDEX_COUNT_MAX;
}
