/**
 * A TCG PC Client crypto-agile event log (TCG PC Client Platform Firmware Profile): the Spec ID
 * event (TCG_PCClientPCREvent, "Spec ID Event03") listing the log's banks, then TCG_PCR_EVENT2
 * records. TCG_PCR_EVENT2 is the layout CC_EVENT copies, with a PCR index where CC_EVENT has the
 * MR index, so the records are written by the CC_EVENT encoder. See docs/event-log.md, "Export".
 */
import { bytesOf, digestSize } from '../tpm/crypto/hash.js';
import { encodeCcEvent, type CcDigest } from './cc-event.js';
import { EV_EFI_HCRTM_EVENT, EV_NO_ACTION } from './event-types.js';
import { LeWriter } from './le-bytes.js';
import { encodeSpecIdRecord, hashAlgName } from './spec-id-event.js';

/** One TCG_PCR_EVENT2: the PCR, the event type, the digest per bank extended, the event data. */
export interface TcgPcrEvent {
  readonly pcrIndex: number;
  readonly eventType: number;
  readonly digests: readonly CcDigest[];
  readonly event: Uint8Array;
}

/** PFP StartupLocality event: signature "StartupLocality\0", then the u8 locality of TPM2_Startup. */
export const STARTUP_LOCALITY_SIGNATURE = 'StartupLocality';
const STARTUP_LOCALITY_BYTES = new TextEncoder().encode(`${STARTUP_LOCALITY_SIGNATURE}\0`);
/** The event data of EV_EFI_HCRTM_EVENT: the string "HCRTM", no NUL (PFP; tpm2-tools checks it). */
const HCRTM_EVENT_DATA = new TextEncoder().encode('HCRTM');

/**
 * The EV_NO_ACTION StartupLocality event for PCR 0: it says PCR 0 started at 0...0<locality>
 * instead of zero. An EV_NO_ACTION record extends nothing; its digests are zeros, one per bank.
 */
export function startupLocalityEvent(locality: number, hashAlgs: readonly number[]): TcgPcrEvent {
  const w = new LeWriter(STARTUP_LOCALITY_BYTES.length + 1);
  w.put(STARTUP_LOCALITY_BYTES);
  w.u8(locality);
  return { pcrIndex: 0, eventType: EV_NO_ACTION, digests: hashAlgs.map((hashAlg) => ({ hashAlg, digest: new Uint8Array(digestSize(hashAlg)) })), event: w.done() };
}

/** EV_EFI_HCRTM_EVENT: PCR 0 started at 0...04 and was extended with the H-CRTM digests. */
export const hcrtmEvent = (digests: readonly CcDigest[]): TcgPcrEvent => ({ pcrIndex: 0, eventType: EV_EFI_HCRTM_EVENT, digests, event: HCRTM_EVENT_DATA });

/**
 * The log's bytes for banks `hashAlgs` (TPM_ALG_IDs mrtpm implements). Every record's digests
 * must be of those banks; a record may carry fewer than all of them (a PCR_Extend that named only
 * some banks), which tpm2-tools replays but the PFP does not allow (docs/event-log.md).
 */
export function encodeTcgEventLog(hashAlgs: readonly number[], events: readonly TcgPcrEvent[]): Uint8Array {
  const banks = new Set(hashAlgs);
  const records = events.map((ev, i) => {
    const foreign = ev.digests.find((d) => !banks.has(d.hashAlg));
    if (foreign) throw new RangeError(`event ${i} (PCR ${ev.pcrIndex}) has a ${hashAlgName(foreign.hashAlg)} digest, not a bank of the log`);
    return encodeCcEvent({ mrIndex: ev.pcrIndex, eventType: ev.eventType, digests: ev.digests, event: ev.event });
  });
  const specId = encodeSpecIdRecord(hashAlgs.map((hashAlg) => ({ hashAlg, digestSize: digestSize(hashAlg) })));
  return bytesOf(Buffer.concat([specId, ...records]));
}
