/**
 * The events the PCR->MR mirror writes into the MR event log, carried as TCG_PCClientTaggedEvent
 * payloads (EV_EVENT_TAG) so that CC event log parsers skip them cleanly. Little-endian like the
 * log around them. Since version 2 a mirrored record also carries its register's value before and
 * after its extend: it is appended before the register moves, so it is its own write-ahead
 * intent. The byte layout is documented in docs/mr-mirror.md.
 */
import type { TaggedHash } from '../tpm/marshal/types.js';
import type { BankAllocation } from '../tpm/state/tpm-state.js';
import type { StartupKind } from '../tpm/pcr/pcr-banks.js';
import { LeReader, LeWriter, plainBytes } from '../eventlog/le-bytes.js';

/** taggedEventID: the ASCII bytes "MRTP" read as a little-endian u32. */
export const MRTPM_TAGGED_EVENT_ID = 0x5054524d;
const VERSION = 2;
/** Version 1 records (before append-first) have no register values; they still decode. */
const VERSION_WITHOUT_VALUES = 1;

export type MirrorEvent =
  | { kind: 'extend'; pcr: number; command: number; applied: readonly TaggedHash[]; mrSourceAlg: number; eventData: Uint8Array }
  | { kind: 'pcr-reset'; pcr: number }
  | { kind: 'startup'; startup: StartupKind; locality: number; allocation: readonly BankAllocation[]; hcrtm: readonly TaggedHash[] }
  | { kind: 'operator-extend'; register: string };

/** A mirrored record's register, before and after the record's extend: expected = H(old || digest). */
export interface RegisterValues {
  readonly old: Uint8Array;
  readonly expected: Uint8Array;
}

/** A decoded mirror event; `values` is absent in unmirrored (EV_NO_ACTION) and version 1 records. */
export type DecodedMirrorEvent = MirrorEvent & { readonly values?: RegisterValues };

const KIND_CODES = { extend: 1, 'pcr-reset': 2, startup: 3, 'operator-extend': 4 } as const;
const STARTUP_CODES: readonly StartupKind[] = ['reset', 'restart', 'resume'];

const digestsSize = (list: readonly TaggedHash[]): number => 4 + list.reduce((n, d) => n + 4 + d.digest.length, 0);

function writeDigests(w: LeWriter, list: readonly TaggedHash[]): void {
  w.u32(list.length);
  for (const d of list) {
    w.u16(d.hashAlg);
    w.u16(d.digest.length);
    w.put(d.digest);
  }
}

function readDigests(r: LeReader): TaggedHash[] {
  const digests: TaggedHash[] = [];
  for (let n = r.u32('digest count'); n > 0; n--) {
    const hashAlg = r.u16('hashAlg');
    digests.push({ hashAlg, digest: r.take(r.u16('digest size'), 'digest') });
  }
  return digests;
}

/** Bytes of the kind-specific fields, so the writer can be sized before writing. */
function bodySize(e: MirrorEvent): number {
  switch (e.kind) {
    case 'extend': return 10 + digestsSize(e.applied) + 4 + e.eventData.length;
    case 'pcr-reset': return 4;
    case 'startup': return 6 + 6 * e.allocation.length + digestsSize(e.hcrtm);
    case 'operator-extend': return 1 + Buffer.byteLength(e.register, 'utf8');
  }
}

const pcrBitmap = (pcrs: readonly number[]): number => pcrs.reduce((m, p) => (m | (1 << p)) >>> 0, 0);
const bitmapPcrs = (map: number): number[] => Array.from({ length: 32 }, (_, p) => p).filter((p) => (map >>> p) & 1);

/** taggedEventID and taggedEventDataSize, then the data: version, kind and the kind's fields. */
const TAG_HEADER = 8;

/** Bytes encodeMirrorEvent writes for `e` with register values of `valueSize` bytes (0: an unmirrored record). */
export const mirrorEventSize = (e: MirrorEvent, valueSize = 0): number => TAG_HEADER + 2 + bodySize(e) + 2 + 2 * valueSize;

/**
 * The TCG_PCClientTaggedEvent bytes of a mirror event: a new array, or a view of the first bytes
 * of `into`. Room for two register values of `valueSize` bytes is left zeroed at the end, for
 * setRegisterValues once the extend is worked out (a marker's extend depends on these bytes).
 */
export function encodeMirrorEvent(e: MirrorEvent, valueSize = 0, into?: Uint8Array): Uint8Array {
  const size = mirrorEventSize(e, valueSize);
  const w = new LeWriter(size, into);
  w.u32(MRTPM_TAGGED_EVENT_ID);
  w.u32(size - TAG_HEADER);
  w.u8(VERSION);
  w.u8(KIND_CODES[e.kind]);
  switch (e.kind) {
    case 'extend':
      w.u32(e.pcr);
      w.u32(e.command);
      w.u16(e.mrSourceAlg);
      writeDigests(w, e.applied);
      w.u32(e.eventData.length);
      w.put(e.eventData);
      break;
    case 'pcr-reset':
      w.u32(e.pcr);
      break;
    case 'startup':
      w.u8(STARTUP_CODES.indexOf(e.startup));
      w.u8(e.locality);
      w.u32(e.allocation.length);
      for (const b of e.allocation) {
        w.u16(b.hash);
        w.u32(pcrBitmap(b.pcrs));
      }
      writeDigests(w, e.hcrtm);
      break;
    case 'operator-extend': {
      const name = Buffer.from(e.register, 'utf8');
      w.u8(name.length);
      w.put(name);
      break;
    }
  }
  w.u16(valueSize);
  w.zeros(2 * valueSize);
  return w.done();
}

/** Fills in the register values of an event encoded with room for them (values of that size). */
export function setRegisterValues(event: Uint8Array, values: RegisterValues): void {
  const n = values.old.length;
  event.set(values.old, event.length - 2 * n);
  event.set(values.expected, event.length - n);
}

/**
 * What a marker's register digest hashes: the event's version, kind and fields, which do not
 * depend on the register values that follow them.
 */
export const markerDigestInput = (event: Uint8Array, valueSize: number): Uint8Array => event.subarray(TAG_HEADER, event.length - 2 - 2 * valueSize);

/**
 * The mirror event in a log record's event bytes, or undefined if they are not one (firmware
 * events). Its digests and event data are views into `event`, like the parsed log's own fields.
 */
export function decodeMirrorEvent(event: Uint8Array): DecodedMirrorEvent | undefined {
  const r = new LeReader(plainBytes(event));
  if (event.length < 8 || r.u32('taggedEventID') !== MRTPM_TAGGED_EVENT_ID) return undefined;
  const size = r.u32('taggedEventDataSize');
  if (size !== r.remaining) throw r.malformed(4, `taggedEventDataSize ${size} but ${r.remaining} bytes follow`);
  const version = r.u8('version');
  if (version !== VERSION && version !== VERSION_WITHOUT_VALUES) throw r.malformed(8, `mrtpm event version ${version} is not ${VERSION}`);
  const kind = r.u8('kind');
  let e: MirrorEvent;
  switch (kind) {
    case KIND_CODES.extend: {
      const pcr = r.u32('pcr');
      const command = r.u32('command');
      const mrSourceAlg = r.u16('mrSourceAlg');
      const applied = readDigests(r);
      e = { kind: 'extend', pcr, command, mrSourceAlg, applied, eventData: r.take(r.u32('eventSize'), 'eventData') };
      break;
    }
    case KIND_CODES['pcr-reset']:
      e = { kind: 'pcr-reset', pcr: r.u32('pcr') };
      break;
    case KIND_CODES.startup: {
      const startup = STARTUP_CODES[r.u8('startup kind')];
      if (!startup) throw r.malformed(10, 'unknown startup kind');
      const locality = r.u8('locality');
      const allocation = Array.from({ length: r.u32('bank count') }, () => ({ hash: r.u16('bank hash'), pcrs: bitmapPcrs(r.u32('bank PCRs')) }));
      e = { kind: 'startup', startup, locality, allocation, hcrtm: readDigests(r) };
      break;
    }
    case KIND_CODES['operator-extend']:
      e = { kind: 'operator-extend', register: Buffer.from(r.take(r.u8('name size'), 'register')).toString('utf8') };
      break;
    default:
      throw r.malformed(9, `unknown mrtpm event kind ${kind}`);
  }
  if (version !== VERSION_WITHOUT_VALUES) {
    const valueSize = r.u16('register value size');
    // Added to the decoded object rather than spread into a new one: replay decodes every record.
    if (valueSize > 0) (e as { values?: RegisterValues }).values = { old: r.take(valueSize, 'old register value'), expected: r.take(valueSize, 'expected register value') };
  }
  if (r.remaining !== 0) throw r.malformed(r.pos, `${r.remaining} trailing bytes in an mrtpm event`);
  return e;
}
