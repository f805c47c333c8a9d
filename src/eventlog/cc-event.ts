/**
 * CC_EVENT: a crypto-agile CC event log record (edk2 CcMeasurement.h; TCG_PCR_EVENT2 with the CC
 * MR index in place of the PCR index). Little-endian, packed:
 *   u32 MrIndex, u32 EventType, u32 digest count, {u16 hashAlg, digest}[count], u32 EventSize, Event.
 */
import { checkUint, LeWriter, type LeReader } from './le-bytes.js';
import { hashAlgName } from './spec-id-event.js';
import { hashInfo } from '../tpm/spec/hash-algs.js';

export interface CcDigest {
  /** TPM_ALG_ID. */
  readonly hashAlg: number;
  readonly digest: Uint8Array;
}

export interface CcEvent {
  /** CC MR index (TDX: 0 MRTD, 1..4 RTMR0..3; CCA: the RSI index), not a PCR index. */
  readonly mrIndex: number;
  readonly eventType: number;
  readonly digests: readonly CcDigest[];
  readonly event: Uint8Array;
}

/** A CC_EVENT as parsed from a log: `offset` is where its record starts. */
export interface CcEventRecord extends CcEvent {
  readonly offset: number;
}

/** Event bodies larger than this are taken for a corrupt EventSize rather than a real event. */
export const DEFAULT_MAX_EVENT_SIZE = 16 * 1024 * 1024;

/** Bytes of the encoded record. */
export function ccEventSize(ev: CcEvent): number {
  let size = 16 + ev.event.length;
  for (const d of ev.digests) size += 2 + d.digest.length;
  return size;
}

/** The record's bytes: a new array, or a view of the first bytes of `into` (which must be large enough). */
export function encodeCcEvent(ev: CcEvent, into?: Uint8Array): Uint8Array {
  checkUint(ev.mrIndex, 32, 'mrIndex');
  checkUint(ev.eventType, 32, 'eventType');
  checkUint(ev.event.length, 32, 'event size');
  // Records parsers would take for zero fill or CCEL padding (see parseCcEventLog) are refused.
  if (ev.digests.length === 0) throw new RangeError('a CC event needs at least one digest');
  if (ev.mrIndex === ev.eventType && (ev.mrIndex === 0 || ev.mrIndex === 0xffffffff)) {
    throw new RangeError(`a CC event with mrIndex and eventType both 0x${ev.mrIndex.toString(16)} reads as CCEL padding`);
  }
  // Loops, not callbacks: the mirror encodes a record on every PCR extend.
  for (let i = 0; i < ev.digests.length; i++) {
    const { hashAlg, digest } = ev.digests[i]!;
    checkUint(hashAlg, 16, 'hashAlg');
    for (let j = 0; j < i; j++) if (ev.digests[j]!.hashAlg === hashAlg) throw new RangeError(`digest list names ${hashAlgName(hashAlg)} twice`);
    const known = hashInfo(hashAlg)?.digestSize;
    if (known !== undefined && digest.length !== known) {
      throw new RangeError(`${hashAlgName(hashAlg)} digest is ${digest.length} bytes, expected ${known}`);
    }
  }
  const w = new LeWriter(ccEventSize(ev), into);
  w.u32(ev.mrIndex);
  w.u32(ev.eventType);
  w.u32(ev.digests.length);
  for (const { hashAlg, digest } of ev.digests) {
    w.u16(hashAlg);
    w.put(digest);
  }
  w.u32(ev.event.length);
  w.put(ev.event);
  return w.done();
}

/**
 * Reads the CC_EVENT record at the reader's position. `digestSizes` maps TPM_ALG_ID to digest
 * size (the Spec ID table plus known hashes). Throws EventLogError: `truncated` when the data ends
 * inside the record, `malformed` for a zero or impossible digest count, an algorithm of unknown
 * size, an algorithm listed twice, or an EventSize above `maxEventSize`. Digests and event are
 * views into the reader's bytes.
 */
export function readCcEvent(r: LeReader, digestSizes: ReadonlyMap<number, number>, maxEventSize = DEFAULT_MAX_EVENT_SIZE): CcEventRecord {
  r.beginRecord();
  const offset = r.pos;
  const mrIndex = r.u32('MrIndex');
  const eventType = r.u32('EventType');
  const countAt = r.pos;
  const count = r.u32('digest count');
  if (count === 0 || count > digestSizes.size) {
    throw r.malformed(countAt, `digest count ${count} (must be 1..${digestSizes.size}, the algorithms with known sizes)`);
  }
  const digests: CcDigest[] = [];
  for (let i = 0; i < count; i++) {
    const algAt = r.pos;
    const hashAlg = r.u16('hashAlg');
    const size = digestSizes.get(hashAlg);
    if (size === undefined) throw r.malformed(algAt, `digest ${i}: hash algorithm ${hashAlgName(hashAlg)} is neither in the Spec ID event nor a known hash`);
    if (digests.some((d) => d.hashAlg === hashAlg)) throw r.malformed(algAt, `digest ${i}: ${hashAlgName(hashAlg)} listed twice`);
    digests.push({ hashAlg, digest: r.take(size, 'digest') });
  }
  const sizeAt = r.pos;
  const eventSize = r.u32('EventSize');
  if (eventSize > maxEventSize) throw r.malformed(sizeAt, `EventSize ${eventSize} exceeds the ${maxEventSize}-byte limit`);
  return { offset, mrIndex, eventType, digests, event: r.take(eventSize, 'event') };
}
