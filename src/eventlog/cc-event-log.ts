/**
 * A whole CC event log: the Spec ID record, then CC_EVENT records up to the end of the data, to
 * CCEL padding, or to a torn final record (a crash during an append). See docs/event-log.md.
 */
import { bytesOf, digestSize } from '../tpm/crypto/hash.js';
import { encodeCcEvent, readCcEvent, DEFAULT_MAX_EVENT_SIZE, type CcEvent, type CcEventRecord } from './cc-event.js';
import { eventTypeName } from './event-types.js';
import { EventLogError, LeReader, plainBytes } from './le-bytes.js';
import { encodeSpecIdRecord, hashAlgName, readSpecIdRecord, specIdDigestSizes, SPEC_ID_SIGNATURE, type SpecIdEvent } from './spec-id-event.js';
import { toHex } from '../tpm/crypto/bytes.js';

/**
 * Why parsing stopped: `end` of the data; `padding`, an 8-byte all-0xFF or all-0x00 word where a
 * record would start (the unused CCEL area); `torn`, a final record that is incomplete, or whose
 * bad field is followed only by 0x00 or only by 0xFF bytes (an append cut short, zero-filled).
 */
export type CcEventLogTail = 'end' | 'padding' | 'torn';

export interface ParsedCcEventLog {
  readonly specId: SpecIdEvent;
  readonly events: CcEventRecord[];
  /** Bytes of the Spec ID record and the complete CC_EVENT records: where a writer appends next. */
  readonly validLength: number;
  readonly tail: CcEventLogTail;
}

export interface ParseCcEventLogOptions {
  /** Larger EventSize values are corruption, not a torn tail (default DEFAULT_MAX_EVENT_SIZE). */
  readonly maxEventSize?: number;
  /**
   * Skip the records before this offset, which the caller knows to be a record boundary (a
   * replay checkpoint): `events` then starts there. Default: right after the Spec ID record.
   */
  readonly from?: number;
}

const FILL_WORD = 8;

/**
 * Parses a CC event log. Throws EventLogError (naming the record's offset) when the Spec ID record
 * is missing or bad, or when a record before the tail is malformed; a torn tail is reported, not
 * thrown. Digests and event bytes are views into `bytes`.
 */
export function parseCcEventLog(bytes: Uint8Array, options: ParseCcEventLogOptions = {}): ParsedCcEventLog {
  const data = plainBytes(bytes);
  const r = new LeReader(data);
  const specId = readSpecIdRecord(r);
  if (options.from !== undefined) {
    if (options.from < r.pos || options.from > data.length) throw new RangeError(`cannot resume the log at ${options.from}: records are at ${r.pos}..${data.length}`);
    r.pos = options.from;
  }
  const sizes = specIdDigestSizes(specId);
  const maxEventSize = options.maxEventSize ?? DEFAULT_MAX_EVENT_SIZE;
  const events: CcEventRecord[] = [];
  for (;;) {
    const offset = r.pos;
    if (r.remaining === 0) return { specId, events, validLength: offset, tail: 'end' };
    if (r.remaining >= FILL_WORD && isFill(data, offset, offset + FILL_WORD)) return { specId, events, validLength: offset, tail: 'padding' };
    try {
      events.push(readCcEvent(r, sizes, maxEventSize));
    } catch (error) {
      if (error instanceof EventLogError && (error.kind === 'truncated' || isFill(data, error.fieldOffset, data.length))) {
        return { specId, events, validLength: offset, tail: 'torn' };
      }
      throw error;
    }
  }
}

/** True if data[from, to) is non-empty and all 0x00 or all 0xFF. */
function isFill(data: Uint8Array, from: number, to: number): boolean {
  if (from >= to) return false;
  const fill = data[from];
  if (fill !== 0x00 && fill !== 0xff) return false;
  for (let i = from + 1; i < to; i++) if (data[i] !== fill) return false;
  return true;
}

/** The first bytes of a new log: its Spec ID record for these hashes (TPM_ALG_IDs mrtpm implements). */
export function newCcEventLog(hashAlgs: readonly number[]): Uint8Array {
  return encodeSpecIdRecord(hashAlgs.map((hashAlg) => ({ hashAlg, digestSize: digestSize(hashAlg) })));
}

/** A log's bytes: the Spec ID record followed by the encoded events (tests and tools). */
export function encodeCcEventLog(specIdRecord: Uint8Array, events: readonly CcEvent[]): Uint8Array {
  return bytesOf(Buffer.concat([specIdRecord, ...events.map((ev) => encodeCcEvent(ev))]));
}

export interface CcDigestJson {
  readonly hashAlg: string;
  readonly digest: string;
}

export interface CcEventJson {
  /** Present for events parsed from a log. */
  readonly offset?: number;
  readonly mrIndex: number;
  readonly eventType: string;
  readonly digests: CcDigestJson[];
  readonly event: string;
}

export interface SpecIdEventJson {
  readonly signature: string;
  readonly platformClass: number;
  readonly specVersionMajor: number;
  readonly specVersionMinor: number;
  readonly specErrata: number;
  readonly uintnSize: number;
  readonly algorithms: { readonly hashAlg: string; readonly digestSize: number }[];
  readonly vendorInfo: string;
}

export interface CcEventLogJson {
  readonly specId: SpecIdEventJson;
  readonly events: CcEventJson[];
  readonly validLength: number;
  readonly tail: CcEventLogTail;
}

/** JSON for `mrtpm mr log --json`: hash and event-type names, lower-case hex bytes, fixed key order. */
export function eventToJson(ev: CcEvent | CcEventRecord): CcEventJson {
  return {
    ...('offset' in ev ? { offset: ev.offset } : {}),
    mrIndex: ev.mrIndex,
    eventType: eventTypeName(ev.eventType),
    digests: ev.digests.map((d) => ({ hashAlg: hashAlgName(d.hashAlg), digest: toHex(d.digest) })),
    event: toHex(ev.event),
  };
}

export function logToJson(log: ParsedCcEventLog): CcEventLogJson {
  const s = log.specId;
  return {
    specId: {
      signature: SPEC_ID_SIGNATURE,
      platformClass: s.platformClass,
      specVersionMajor: s.specVersionMajor,
      specVersionMinor: s.specVersionMinor,
      specErrata: s.specErrata,
      uintnSize: s.uintnSize,
      algorithms: s.algorithms.map((a) => ({ hashAlg: hashAlgName(a.hashAlg), digestSize: a.digestSize })),
      vendorInfo: toHex(s.vendorInfo),
    },
    events: log.events.map(eventToJson),
    validLength: log.validLength,
    tail: log.tail,
  };
}
