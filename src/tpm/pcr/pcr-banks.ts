/** The PCR banks: allocation, values, pcrUpdateCounter, and the extend/reset/read operations. */
import type { PcrSelection } from '../marshal/types.js';
import { hashInfo } from '../spec/hash-algs.js';
import { LIMITS } from '../spec/limits.js';
import type { BankAllocation, PersistentState, VolatileState } from '../state/tpm-state.js';
import { hash } from '../crypto/hash.js';
import { PCR_ATTRIBUTES } from './pcr-attributes.js';

/** Observer of PCR changes (the MR mirror hooks in here); it may throw to refuse the change. */
export interface PcrObserver {
  beforeExtend?(pcr: number, digests: { hashAlg: number; digest: Uint8Array }[]): void;
  beforeReset?(pcr: number): void;
}

export function selectionToIndices(select: Uint8Array): number[] {
  const out: number[] = [];
  select.forEach((byte, i) => {
    for (let b = 0; b < 8; b++) if (byte & (1 << b)) out.push(i * 8 + b);
  });
  return out;
}

export function indicesToSelection(pcrs: Iterable<number>, size = LIMITS.PCR_SELECT_MIN): Uint8Array {
  const out = new Uint8Array(size);
  for (const p of pcrs) out[p >> 3]! |= 1 << (p & 7);
  return out;
}

export class PcrBanks {
  constructor(private readonly p: PersistentState, private readonly v: VolatileState) {}

  get allocation(): BankAllocation[] {
    return this.p.pcrAllocation;
  }

  bank(hashAlg: number): Uint8Array[] | undefined {
    return this.v.pcrs.get(hashAlg);
  }

  isAllocated(hashAlg: number, pcr: number): boolean {
    return this.allocation.some((b) => b.hash === hashAlg && b.pcrs.includes(pcr));
  }

  resetValue(hashAlg: number, pcr: number): Uint8Array {
    const v = new Uint8Array(hashInfo(hashAlg)!.digestSize);
    if (PCR_ATTRIBUTES[pcr]!.initOnes) v.fill(0xff);
    else if (pcr === 0 && this.v.startupLocality === 3) v[v.length - 1] = 3;
    return v;
  }

  /** TPM Reset: every allocated PCR to its reset value. */
  initialize(): void {
    this.v.pcrs = new Map(this.allocation.map((b) => [
      b.hash, Array.from({ length: LIMITS.PCR_COUNT }, (_, i) => this.resetValue(b.hash, i)),
    ]));
    this.v.pcrUpdateCounter = 0;
  }

  private bump(pcr: number): void {
    if (!PCR_ATTRIBUTES[pcr]!.noIncrement) this.v.pcrUpdateCounter = (this.v.pcrUpdateCounter + 1) >>> 0;
  }

  /** Extend one PCR in every allocated bank a digest is given for (others are ignored, as Part 3 says). */
  extend(pcr: number, digests: readonly { hashAlg: number; digest: Uint8Array }[]): void {
    for (const { hashAlg, digest } of digests) {
      const bank = this.v.pcrs.get(hashAlg);
      if (!bank || !this.isAllocated(hashAlg, pcr)) continue;
      bank[pcr] = hash(hashAlg, bank[pcr]!, digest);
    }
    this.bump(pcr);
  }

  reset(pcr: number): void {
    for (const [alg, bank] of this.v.pcrs) if (this.isAllocated(alg, pcr)) bank[pcr] = this.resetValue(alg, pcr);
    this.bump(pcr);
  }

  /**
   * PCR_Read: walk the selection in order, at most 8 digests; pcrSelectionOut has exactly the bits read
   * (and the same banks and select sizes as asked), so a caller can clear them and ask again.
   */
  read(selection: readonly PcrSelection[]): { selectionOut: PcrSelection[]; digests: Uint8Array[] } {
    const digests: Uint8Array[] = [];
    const selectionOut = selection.map((s) => {
      const out = new Uint8Array(s.pcrSelect.length);
      const bank = this.v.pcrs.get(s.hash);
      for (const pcr of selectionToIndices(s.pcrSelect)) {
        if (!bank || pcr >= LIMITS.PCR_COUNT || !this.isAllocated(s.hash, pcr)) continue;
        if (digests.length >= LIMITS.MAX_PCR_DIGESTS_PER_READ) break;
        digests.push(bank[pcr]!);
        out[pcr >> 3]! |= 1 << (pcr & 7);
      }
      return { hash: s.hash, pcrSelect: out };
    });
    return { selectionOut, digests };
  }

  /** Digest of the selected PCR values, concatenated in selection order (PolicyPCR, Quote). */
  compositeDigest(hashAlg: number, selection: readonly PcrSelection[]): Uint8Array {
    const values: Uint8Array[] = [];
    for (const s of selection) {
      const bank = this.v.pcrs.get(s.hash);
      for (const pcr of selectionToIndices(s.pcrSelect)) {
        if (bank && pcr < LIMITS.PCR_COUNT && this.isAllocated(s.hash, pcr)) values.push(bank[pcr]!);
      }
    }
    return hash(hashAlg, ...values);
  }
}
