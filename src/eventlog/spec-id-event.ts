/**
 * The Spec ID event: the first record of a TCG crypto-agile (and so of a CC) event log. It is a
 * legacy SHA-1-format TCG_PCR_EVENT whose payload, TCG_EfiSpecIDEventStruct ("Spec ID Event03",
 * TCG PC Client Platform Firmware Profile), lists the log's hash algorithms and digest sizes.
 */
import { HASH_ALGS, hashInfo } from '../tpm/spec/hash-algs.js';
import { EV_NO_ACTION } from './event-types.js';
import { checkUint, EventLogError, LeReader, LeWriter, plainBytes } from './le-bytes.js';

export interface SpecIdAlgorithm {
  /** TPM_ALG_ID. */
  readonly hashAlg: number;
  readonly digestSize: number;
}

export interface SpecIdEvent {
  /** TCG ACPI platform class: 0 client, 1 server. */
  readonly platformClass: number;
  readonly specVersionMinor: number;
  readonly specVersionMajor: number;
  readonly specErrata: number;
  /** Size of UINTN in the log's structures: 1 = 32-bit, 2 = 64-bit. */
  readonly uintnSize: number;
  readonly algorithms: readonly SpecIdAlgorithm[];
  readonly vendorInfo: Uint8Array;
}

/** The 16-byte signature field: "Spec ID Event03" and its NUL. */
export const SPEC_ID_SIGNATURE = 'Spec ID Event03';
const SIGNATURE_BYTES = new TextEncoder().encode(`${SPEC_ID_SIGNATURE}\0`);

/**
 * What mrtpm writes (edk2's TPM 2.0 values): client platform, PFP 2.0 errata 0, 64-bit UINTN.
 * A parser only needs the algorithm table; these fields say which spec the log follows.
 */
const SPEC_ID_FIXED = { platformClass: 0, specVersionMinor: 0, specVersionMajor: 2, specErrata: 0, uintnSize: 2 } as const;

/** TCG_PCR_EVENT header: PCRIndex u32, EventType u32, SHA-1 digest[20], EventSize u32. */
const LEGACY_DIGEST_SIZE = 20;
const LEGACY_HEADER_SIZE = 4 + 4 + LEGACY_DIGEST_SIZE + 4;
/** signature[16], platformClass u32, 4 version/size bytes, numberOfAlgorithms u32. */
const STRUCT_FIXED_SIZE = 16 + 4 + 4 + 4;
const MAX_VENDOR_INFO = 0xff;

const KNOWN_DIGEST_SIZES: ReadonlyMap<number, number> = new Map(HASH_ALGS.map((h) => [h.alg, h.digestSize]));

/** The Spec ID record (header and TCG_EfiSpecIDEventStruct) for a log of the given algorithms. */
export function encodeSpecIdRecord(algs: readonly SpecIdAlgorithm[], vendorInfo: Uint8Array = new Uint8Array(0)): Uint8Array {
  checkAlgorithmTable(algs, (reason) => new RangeError(`Spec ID event: ${reason}`));
  if (vendorInfo.length > MAX_VENDOR_INFO) throw new RangeError(`Spec ID event: vendorInfo is ${vendorInfo.length} bytes, at most ${MAX_VENDOR_INFO}`);
  const eventSize = STRUCT_FIXED_SIZE + 4 * algs.length + 1 + vendorInfo.length;
  const w = new LeWriter(LEGACY_HEADER_SIZE + eventSize);
  w.u32(0);
  w.u32(EV_NO_ACTION);
  w.put(new Uint8Array(LEGACY_DIGEST_SIZE));
  w.u32(eventSize);
  w.put(SIGNATURE_BYTES);
  w.u32(SPEC_ID_FIXED.platformClass);
  w.u8(SPEC_ID_FIXED.specVersionMinor);
  w.u8(SPEC_ID_FIXED.specVersionMajor);
  w.u8(SPEC_ID_FIXED.specErrata);
  w.u8(SPEC_ID_FIXED.uintnSize);
  w.u32(algs.length);
  for (const { hashAlg, digestSize } of algs) {
    w.u16(hashAlg);
    w.u16(digestSize);
  }
  w.u8(vendorInfo.length);
  w.put(vendorInfo);
  return w.done();
}

/** Parses a Spec ID record at the start of `bytes`; `length` is the record's size in bytes. */
export function parseSpecIdRecord(bytes: Uint8Array): { specId: SpecIdEvent; length: number } {
  const reader = new LeReader(plainBytes(bytes));
  const specId = readSpecIdRecord(reader);
  return { specId, length: reader.pos };
}

/** Reads the Spec ID record at the reader's position; throws EventLogError. */
export function readSpecIdRecord(r: LeReader): SpecIdEvent {
  r.beginRecord();
  r.u32('PCRIndex');
  const typeAt = r.pos;
  const eventType = r.u32('EventType');
  if (eventType !== EV_NO_ACTION) throw r.malformed(typeAt, `the first record must be the Spec ID event (EV_NO_ACTION), found event type ${eventType}`);
  r.take(LEGACY_DIGEST_SIZE, 'SHA-1 digest');
  const eventSize = r.u32('EventSize');
  const structStart = r.pos;
  r.take(eventSize, 'Spec ID event');
  // Fields are read from the event's own bytes: running out there means EventSize is too small.
  const s = new LeReader(r.bytes.subarray(0, structStart + eventSize), structStart);
  s.recordOffset = r.recordOffset;
  try {
    return readSpecIdStruct(s, structStart + eventSize);
  } catch (error) {
    if (error instanceof EventLogError && error.kind === 'truncated') {
      throw r.malformed(error.fieldOffset, `EventSize ${eventSize} is too small for the Spec ID event's fields (${error.message})`);
    }
    throw error;
  }
}

function readSpecIdStruct(s: LeReader, end: number): SpecIdEvent {
  const signatureAt = s.pos;
  const signature = s.take(SIGNATURE_BYTES.length, 'signature');
  if (!signature.every((b, i) => b === SIGNATURE_BYTES[i])) {
    throw s.malformed(signatureAt, `signature is not "${SPEC_ID_SIGNATURE}" (found ${JSON.stringify(Buffer.from(signature).toString('latin1'))})`);
  }
  const platformClass = s.u32('platformClass');
  const specVersionMinor = s.u8('specVersionMinor');
  const specVersionMajor = s.u8('specVersionMajor');
  const specErrata = s.u8('specErrata');
  const uintnSize = s.u8('uintnSize');
  const countAt = s.pos;
  const count = s.u32('numberOfAlgorithms');
  if (count > s.remaining / 4) throw s.malformed(countAt, `numberOfAlgorithms ${count} does not fit the event`);
  const algorithms: SpecIdAlgorithm[] = [];
  for (let i = 0; i < count; i++) algorithms.push({ hashAlg: s.u16('algorithmId'), digestSize: s.u16('digestSize') });
  checkAlgorithmTable(algorithms, (reason) => s.malformed(countAt, reason));
  const vendorInfoSize = s.u8('vendorInfoSize');
  const vendorInfo = s.take(vendorInfoSize, 'vendorInfo');
  if (s.pos !== end) throw s.malformed(s.pos, `unused bytes after vendorInfo inside EventSize (${end - s.pos})`);
  return { platformClass, specVersionMinor, specVersionMajor, specErrata, uintnSize, algorithms, vendorInfo };
}

/** A usable table: non-empty, no algorithm twice, sizes non-zero and right for the hashes we know. */
function checkAlgorithmTable(algs: readonly SpecIdAlgorithm[], fail: (reason: string) => Error): void {
  if (algs.length === 0) throw fail('no algorithms');
  const seen = new Set<number>();
  for (const { hashAlg, digestSize } of algs) {
    checkUint(hashAlg, 16, 'algorithmId');
    checkUint(digestSize, 16, 'digestSize');
    const name = hashAlgName(hashAlg);
    if (seen.has(hashAlg)) throw fail(`algorithm ${name} listed twice`);
    seen.add(hashAlg);
    const known = KNOWN_DIGEST_SIZES.get(hashAlg);
    if (digestSize === 0 || (known !== undefined && known !== digestSize)) {
      throw fail(`digest size ${digestSize} for ${name}${known === undefined ? '' : `, which has ${known}-byte digests`}`);
    }
  }
}

/** "sha384" etc. for the hashes mrtpm knows, otherwise the TPM_ALG_ID as hex ("0x0012"). */
export function hashAlgName(hashAlg: number): string {
  return hashInfo(hashAlg)?.name ?? `0x${hashAlg.toString(16).padStart(4, '0')}`;
}

/**
 * Digest size by TPM_ALG_ID for parsing the records that follow: the Spec ID table, falling back
 * to the hashes mrtpm knows for algorithms the table does not list.
 */
export function specIdDigestSizes(specId: SpecIdEvent): ReadonlyMap<number, number> {
  const sizes = new Map(KNOWN_DIGEST_SIZES);
  for (const { hashAlg, digestSize } of specId.algorithms) sizes.set(hashAlg, digestSize);
  return sizes;
}
