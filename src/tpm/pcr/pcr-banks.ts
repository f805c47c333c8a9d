/**
 * The PCR banks: allocation, values, pcrUpdateCounter, and every operation that moves a PCR.
 * All PCR changes go through here so that one observer (the measurement-register mirror) sees them
 * before any bank moves.
 */
import type { PcrSelection, TaggedHash } from '../marshal/types.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { hashInfo } from '../spec/hash-algs.js';
import { LIMITS } from '../spec/limits.js';
import type { BankAllocation, PersistentState, VolatileState } from '../state/tpm-state.js';
import { hash } from '../crypto/hash.js';
import { PCR_ATTRIBUTES } from './pcr-attributes.js';
import { planAllocation, type AllocationPlan } from './pcr-allocation.js';
import { selectionToIndices } from './pcr-select.js';

export { selectionToIndices, indicesToSelection } from './pcr-select.js';

/** What caused an extend: the command (0 for the DRTM _TPM_Hash_End sequence) and its event data. */
export interface ExtendCause {
  command: number;
  eventData?: Uint8Array;
}

export interface PcrExtend extends ExtendCause {
  pcr: number;
  /** The digests about to be extended: allocated banks only, in command order, never empty. */
  applied: readonly TaggedHash[];
  /** Every digest the command supplied or computed, allocated or not, in command order. */
  supplied: readonly TaggedHash[];
}

/** How Startup found the TPM (Part 1 §12.2): TPM Reset, TPM Restart or TPM Resume. */
export type StartupKind = 'reset' | 'restart' | 'resume';

export interface PcrStartup {
  kind: StartupKind;
  /** Startup locality (PCR 0's reset value records it). */
  locality: number;
  allocation: readonly BankAllocation[];
  /** H-CRTM digests applied to PCR 0 after the reset values, if a sequence ran before Startup. */
  hcrtm?: readonly TaggedHash[];
}

/**
 * Observer of PCR changes. It runs before any bank moves; if it throws, the command fails and no
 * bank has moved (a TpmError becomes the response code, anything else TPM_RC_FAILURE).
 */
export interface PcrObserver {
  beforeExtend?(extend: PcrExtend): void;
  /** PCR_Reset of `pcr` (every allocated bank to zero). */
  beforeReset?(pcr: number): void;
  /** Startup setting the banks to their reset (or, on Resume, saved) values. */
  beforeStartup?(startup: PcrStartup): void;
}

/** What Shutdown(STATE) kept of the banks. */
export interface SavedPcrs {
  pcrs: Map<number, Uint8Array[]>;
  pcrUpdateCounter: number;
}

/** The parts of the TPM state the banks own: all PcrBanks needs, so a log replay can run one too. */
export type PcrPersistentState = Pick<PersistentState, 'pcrAllocation' | 'pendingAllocation'>;
export type PcrVolatileState = Pick<VolatileState, 'pcrs' | 'pcrUpdateCounter' | 'startupLocality' | 'hcrtm'>;

export class PcrBanks {
  constructor(
    private readonly p: PcrPersistentState,
    private readonly v: PcrVolatileState,
    private readonly observer: PcrObserver = {},
  ) {}

  get allocation(): BankAllocation[] {
    return this.p.pcrAllocation;
  }

  get updateCounter(): number {
    return this.v.pcrUpdateCounter;
  }

  bank(hashAlg: number): Uint8Array[] | undefined {
    return this.v.pcrs.get(hashAlg);
  }

  isAllocated(hashAlg: number, pcr: number): boolean {
    // A loop, not some(): PCR_Extend and PCR_Read ask this for every digest and PCR.
    for (const b of this.allocation) if (b.hash === hashAlg) return b.pcrs.includes(pcr);
    return false;
  }

  /** Value at Startup: all ones for the DRTM PCRs, PCR 0 records the Startup locality, else zero. */
  resetValue(hashAlg: number, pcr: number): Uint8Array {
    const v = new Uint8Array(hashInfo(hashAlg)!.digestSize);
    if (PCR_ATTRIBUTES[pcr]!.initOnes) v.fill(0xff);
    else if (pcr === 0) v[v.length - 1] = this.v.startupLocality;
    return v;
  }

  /** TPM Reset: every PCR to its reset value, pcrUpdateCounter counted from zero. */
  initialize(): void {
    this.startup('reset');
  }

  /**
   * Startup's part for the PCRs, as the reference's PCRStartup(): a Resume restores the PCRs with
   * the SAVE attribute; every other PCR gets its reset value and counts as changed, so the counter
   * moves even at Startup (TPM Reset starts it from zero, Restart and Resume from the saved value).
   */
  startup(kind: StartupKind, saved?: SavedPcrs): void {
    // A TPM Reset applies a pending PCR_Allocate; the observer sees the allocation the banks get.
    const pending = kind === 'reset' ? this.p.pendingAllocation : undefined;
    const hcrtm = this.v.hcrtm && [...this.v.hcrtm].map(([hashAlg, digest]) => ({ hashAlg, digest }));
    this.observer.beforeStartup?.({ kind, locality: this.v.startupLocality, allocation: pending ?? this.allocation, ...(hcrtm && { hcrtm }) });
    if (pending) {
      this.p.pcrAllocation = pending;
      delete this.p.pendingAllocation;
    }
    this.v.pcrUpdateCounter = kind === 'reset' ? 0 : saved?.pcrUpdateCounter ?? 0;
    this.v.pcrs = new Map(this.allocation.map((b) => [b.hash, PCR_ATTRIBUTES.map((attr, pcr) => {
      const kept = kind === 'resume' && attr.save ? saved?.pcrs.get(b.hash)?.[pcr] : undefined;
      return kept ? kept.slice() : this.resetValue(b.hash, pcr);
    })]));
    PCR_ATTRIBUTES.forEach((attr, pcr) => { if (!(kind === 'resume' && attr.save)) this.changed(pcr); });
  }

  /** PCRChanged(): PCR 0 always counts (TPM2_Clear uses it), the no-increment group never. */
  private changed(pcr: number): void {
    if (pcr === 0 || !PCR_ATTRIBUTES[pcr]!.noIncrement) this.v.pcrUpdateCounter = (this.v.pcrUpdateCounter + 1) >>> 0;
  }

  /**
   * Extend one PCR in every allocated bank a digest is given for; digests for other banks are
   * ignored (Part 3 §22.2). Each bank extended counts as one change, as in the reference.
   */
  extend(pcr: number, digests: readonly TaggedHash[], cause: ExtendCause): void {
    const applied: TaggedHash[] = [];
    for (const d of digests) if (this.isAllocated(d.hashAlg, pcr) && this.v.pcrs.has(d.hashAlg)) applied.push(d);
    if (applied.length === 0) return;
    // Spelled out rather than spread: this runs on every extend, and a spread costs more.
    this.observer.beforeExtend?.({ command: cause.command, eventData: cause.eventData, pcr, applied, supplied: digests });
    for (const { hashAlg, digest } of applied) {
      const bank = this.v.pcrs.get(hashAlg)!;
      bank[pcr] = hash(hashAlg, bank[pcr]!, digest);
      this.changed(pcr);
    }
  }

  /** PCR_Reset: zero in every allocated bank (even the DRTM PCRs, whose Startup value is all ones). */
  reset(pcr: number): void {
    this.observer.beforeReset?.(pcr);
    for (const [alg, bank] of this.v.pcrs) {
      if (this.isAllocated(alg, pcr)) bank[pcr] = new Uint8Array(bank[pcr]!.length);
    }
    this.changed(pcr);
  }

  /**
   * PCR_Read: walk the selection in order, at most 8 digests; pcrSelectionOut keeps the banks and
   * select sizes asked for, with exactly the bits read, so a caller can clear them and ask again.
   */
  read(selection: readonly PcrSelection[]): { selectionOut: PcrSelection[]; digests: Uint8Array[] } {
    const digests: Uint8Array[] = [];
    const selectionOut: PcrSelection[] = [];
    for (const s of selection) {
      const out = new Uint8Array(s.pcrSelect.length);
      const bank = this.v.pcrs.get(s.hash);
      for (let pcr = 0; bank && pcr < s.pcrSelect.length * 8 && pcr < LIMITS.PCR_COUNT; pcr++) {
        if (!(s.pcrSelect[pcr >> 3]! & (1 << (pcr & 7))) || !this.isAllocated(s.hash, pcr)) continue;
        if (digests.length >= LIMITS.MAX_PCR_DIGESTS_PER_READ) break;
        digests.push(bank[pcr]!);
        out[pcr >> 3]! |= 1 << (pcr & 7);
      }
      selectionOut.push({ hash: s.hash, pcrSelect: out });
    }
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

  /**
   * PCR_Allocate: record the allocation that the next TPM Reset applies. Banks the request does
   * not name keep their current allocation. TPM_RC_PCR if no bank would hold the H-CRTM or DRTM PCR.
   */
  allocate(request: readonly PcrSelection[]): AllocationPlan {
    const plan = planAllocation(this.allocation, request);
    if (!plan.complete) throw new TpmError(TPM_RC.PCR);
    this.p.pendingAllocation = plan.allocation;
    return plan;
  }
}
