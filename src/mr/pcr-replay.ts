/**
 * Replays the PCR banks from the mirror's events in an MR event log, with the engine's own
 * PcrBanks so that the replay applies exactly the TPM's rules (reset values, H-CRTM, Resume).
 */
import { PcrBanks, type PcrVolatileState } from '../tpm/pcr/pcr-banks.js';
import { applyHcrtm } from '../tpm/pcr/crtm-sequence.js';
import type { CcEvent } from '../eventlog/cc-event.js';
import { decodeMirrorEvent } from './mirror-events.js';

export interface PcrReplay {
  /** Bank values by hash algorithm, as of the last event; empty before the first Startup marker. */
  banks: Map<number, Uint8Array[]>;
  /** Mirror events seen before the first Startup marker, which the replay cannot place. */
  unplaced: number;
}

export function replayPcrs(events: readonly CcEvent[]): PcrReplay {
  let state: { banks: PcrBanks; v: PcrVolatileState } | undefined;
  let unplaced = 0;
  for (const record of events) {
    const e = decodeMirrorEvent(record.event);
    if (!e || e.kind === 'operator-extend') continue;
    if (e.kind === 'startup') {
      const prev = state?.v;
      const v: PcrVolatileState = {
        pcrs: new Map(), pcrUpdateCounter: 0, startupLocality: e.locality,
        ...(e.hcrtm.length > 0 && { hcrtm: new Map(e.hcrtm.map((d) => [d.hashAlg, d.digest])) }),
      };
      const banks = new PcrBanks({ pcrAllocation: [...e.allocation] }, v);
      // A Resume keeps the saved PCRs: their values when the TPM was shut down, the last replayed.
      banks.startup(e.startup, prev && { pcrs: prev.pcrs, pcrUpdateCounter: prev.pcrUpdateCounter });
      applyHcrtm(v);
      state = { banks, v };
    } else if (!state) {
      unplaced++;
    } else if (e.kind === 'extend') {
      state.banks.extend(e.pcr, e.applied, { command: e.command });
    } else {
      state.banks.reset(e.pcr);
    }
  }
  return { banks: state?.v.pcrs ?? new Map(), unplaced };
}
