/**
 * PCR_Allocate's arithmetic (Part 3 §22.5, the reference's PCRAllocate()): the new allocation is
 * the current one with each bank named in the request replaced (the last entry for a bank wins),
 * and it is acceptable only if some bank still holds the H-CRTM PCR (0) and the DRTM PCR (17).
 */
import type { PcrSelection } from '../marshal/types.js';
import { HASH_ALGS } from '../spec/hash-algs.js';
import { LIMITS } from '../spec/limits.js';
import type { BankAllocation } from '../state/tpm-state.js';
import { PCR_ATTRIBUTES } from './pcr-attributes.js';
import { selectionToIndices } from './pcr-select.js';

const H_CRTM_PCR = 0;
const DRTM_PCR = 17;

export interface AllocationPlan {
  /** Banks with at least one PCR, in TPM_ALG_ID order. */
  allocation: BankAllocation[];
  /** Both the H-CRTM and the DRTM PCR are allocated in some bank. */
  complete: boolean;
  /** PCR_Allocate's outputs. */
  maxPCR: number;
  sizeNeeded: number;
  sizeAvailable: number;
}

/** This TPM keeps room for every PCR in every implemented bank. */
const SIZE_AVAILABLE = LIMITS.PCR_COUNT * HASH_ALGS.reduce((n, h) => n + h.digestSize, 0);

export function planAllocation(current: readonly BankAllocation[], request: readonly PcrSelection[]): AllocationPlan {
  const banks = new Map(current.map((b) => [b.hash, b.pcrs]));
  for (const s of request) {
    banks.set(s.hash, selectionToIndices(s.pcrSelect).filter((p) => p < LIMITS.PCR_COUNT));
  }
  const allocation = HASH_ALGS.flatMap(({ alg }) => {
    const pcrs = banks.get(alg) ?? [];
    return pcrs.length > 0 ? [{ hash: alg, pcrs: [...pcrs] }] : [];
  });
  const sizeNeeded = allocation.reduce((n, b) => n + b.pcrs.length * HASH_ALGS.find((h) => h.alg === b.hash)!.digestSize, 0);
  const holds = (pcr: number): boolean => allocation.some((b) => b.pcrs.includes(pcr));
  return {
    allocation,
    complete: holds(H_CRTM_PCR) && holds(DRTM_PCR),
    maxPCR: Math.min(PCR_ATTRIBUTES.length, LIMITS.PCR_COUNT),
    sizeNeeded,
    sizeAvailable: SIZE_AVAILABLE,
  };
}
