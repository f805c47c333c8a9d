/**
 * The PCR history in an MR event log as a TCG log can state it: the extends that make up the
 * PCRs' present values. A TCG log has no record for "this PCR was reset", so what a reset undid
 * is left out: everything before the last TPM Reset or Restart, and each PCR's extends before its
 * last PCR_Reset, DRTM reset or (for PCRs a Resume does not keep) Resume. What a log still cannot
 * state is reported: PCRs that start from all ones, extends that skipped a bank.
 */
import type { CcEvent } from '../eventlog/cc-event.js';
import type { TaggedHash } from '../tpm/marshal/types.js';
import type { BankAllocation } from '../tpm/state/tpm-state.js';
import { PCR_ATTRIBUTES } from '../tpm/pcr/pcr-attributes.js';
import { decodeMirrorEvent, type MirrorEvent } from './mirror-events.js';

export type PcrExtendEvent = Extract<MirrorEvent, { kind: 'extend' }>;
type StartupEvent = Extract<MirrorEvent, { kind: 'startup' }>;

export interface PcrHistory {
  /** The active banks (allocated with at least one PCR), in allocation order. */
  readonly hashAlgs: number[];
  /** Locality of the Startup that last reset PCR 0: PCR 0 started at 0...0<locality>. */
  readonly startupLocality: number;
  /** H-CRTM digests that Startup applied to PCR 0 (PCR 0 = H(0...04 || digest)); empty without. */
  readonly hcrtm: TaggedHash[];
  /** For each PCR, its extends since it was last reset, in log order. */
  readonly extends: PcrExtendEvent[];
  /** By PCR: extends since the last TPM Reset/Restart left out because a later reset undid them. */
  readonly superseded: Map<number, number>;
  /** PCRs with extends whose start value was all ones (17-22 after Startup, with no DRTM since). */
  readonly fromAllOnes: number[];
  /** Extends whose digests do not cover every active bank that holds their PCR. */
  readonly partialExtends: number;
  /** The log's first Startup is a Resume: the PCRs it kept have history from before the log. */
  readonly beginsAtResume: boolean;
}

type ResetOrigin = 'startup' | 'zero';

/** One boot: from a TPM Reset or Restart (Startup(CLEAR)) to the end of the log. */
class Boot {
  readonly pending = new Map<number, { seq: number; e: PcrExtendEvent }[]>();
  readonly origin = new Map<number, ResetOrigin>();
  readonly superseded = new Map<number, number>();
  allocation: readonly BankAllocation[];
  pcr0: { locality: number; hcrtm: readonly TaggedHash[] };
  readonly beginsAtResume: boolean;

  constructor(e: StartupEvent) {
    this.allocation = e.allocation;
    this.beginsAtResume = e.startup === 'resume';
    this.pcr0 = { locality: e.locality, hcrtm: e.hcrtm };
  }

  reset(pcr: number, origin: ResetOrigin): void {
    const dropped = this.pending.get(pcr)?.length ?? 0;
    if (dropped > 0) this.superseded.set(pcr, (this.superseded.get(pcr) ?? 0) + dropped);
    this.pending.delete(pcr);
    this.origin.set(pcr, origin);
  }

  /** A Resume keeps the PCRs with the SAVE attribute; the others restart from their reset values. */
  resume(e: StartupEvent): void {
    this.allocation = e.allocation;
    PCR_ATTRIBUTES.forEach((attr, pcr) => { if (!attr.save) this.reset(pcr, 'startup'); });
    // As the engine does (applyHcrtm after any Startup), an H-CRTM sequence re-measures PCR 0.
    if (e.hcrtm.length > 0) {
      this.reset(0, 'startup');
      this.pcr0 = { locality: e.locality, hcrtm: e.hcrtm };
    }
  }

  extend(seq: number, e: PcrExtendEvent): void {
    const list = this.pending.get(e.pcr) ?? [];
    list.push({ seq, e });
    this.pending.set(e.pcr, list);
  }
}

export function pcrHistory(events: readonly CcEvent[]): PcrHistory {
  let boot: Boot | undefined;
  events.forEach((record, seq) => {
    const e = decodeMirrorEvent(record.event);
    if (!e || e.kind === 'operator-extend') return;
    if (e.kind === 'startup') {
      if (boot && e.startup === 'resume') boot.resume(e);
      else boot = new Boot(e);
      return;
    }
    // Records before the first Startup marker belong to no boot the log shows.
    if (!boot) return;
    if (e.kind === 'pcr-reset') boot.reset(e.pcr, 'zero');
    else boot.extend(seq, e);
  });
  if (!boot) throw new Error('the MR event log has no Startup marker, so it holds no PCR history');
  const b = boot;
  const active = b.allocation.filter((bank) => bank.pcrs.length > 0);
  const extendsInOrder = [...b.pending.values()].flat().sort((x, y) => x.seq - y.seq).map((x) => x.e);
  const covers = (e: PcrExtendEvent): boolean => active.every((bank) => !bank.pcrs.includes(e.pcr) || e.applied.some((d) => d.hashAlg === bank.hash));
  const hashAlgs = active.map((bank) => bank.hash);
  return {
    hashAlgs,
    startupLocality: b.pcr0.locality,
    hcrtm: b.pcr0.hcrtm.filter((d) => hashAlgs.includes(d.hashAlg)),
    extends: extendsInOrder,
    superseded: b.superseded,
    fromAllOnes: [...b.pending.keys()].filter((pcr) => PCR_ATTRIBUTES[pcr]?.initOnes && b.origin.get(pcr) !== 'zero').sort((x, y) => x - y),
    partialExtends: extendsInOrder.filter((e) => !covers(e)).length,
    beginsAtResume: b.beginsAtResume,
  };
}
