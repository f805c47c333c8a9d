/**
 * The PCR history as TCG PC Client events, the records both exports (TCG log, CEL) carry: PCR 0's
 * start (EV_EFI_HCRTM_EVENT after an H-CRTM sequence, else the EV_NO_ACTION StartupLocality event
 * when Startup came from a locality other than 0), then one EV_EVENT_TAG record per extend with
 * the digests of the banks it extended. A TPM does not know what an extend measured, so the event
 * is the mirror's own extend event (a TCG_PCClientTaggedEvent "MRTP", docs/mr-mirror.md) without
 * register values: the PCR, the TPM command and, for PCR_Event, the event data it hashed.
 */
import { EV_EVENT_TAG } from '../eventlog/event-types.js';
import { hcrtmEvent, startupLocalityEvent, type TcgPcrEvent } from '../eventlog/tcg-log-writer.js';
import { encodeMirrorEvent } from './mirror-events.js';
import type { PcrHistory } from './pcr-history.js';

export function pcrClientEvents(h: PcrHistory): TcgPcrEvent[] {
  const start = h.hcrtm.length > 0 ? [hcrtmEvent(h.hcrtm)] : h.startupLocality !== 0 ? [startupLocalityEvent(h.startupLocality, h.hashAlgs)] : [];
  return [...start, ...h.extends.map((e) => ({ pcrIndex: e.pcr, eventType: EV_EVENT_TAG, digests: e.applied, event: encodeMirrorEvent(e) }))];
}

/** What an export of `h` leaves out or cannot state, one sentence each (for stderr). */
export function exportNotes(h: PcrHistory): string[] {
  const notes = [...h.superseded].map(([pcr, n]) => `PCR ${pcr}: ${n} extend(s) before its last reset are left out (a TCG log cannot record the reset)`);
  if (h.fromAllOnes.length > 0) notes.push(`PCR ${h.fromAllOnes.join(', ')}: started at all ones (no DRTM since Startup); a TCG log replays from zero, so these will not replay`);
  if (h.beginsAtResume) notes.push('the log begins at a Resume: the PCRs it kept (0-15) hold extends from before the log, which it cannot show, so they will not replay');
  if (h.partialExtends > 0) notes.push(`${h.partialExtends} extend(s) named only some banks; their records carry fewer digests than the log has banks (tpm2-tools replays them, the PFP does not allow them)`);
  return notes;
}
