/**
 * An append-only journal of whole state images beside a snapshot file. A change is one record
 * written after the last one and fdatasync'd: one device flush, where replacing the snapshot (temp
 * file, fsync, rename, directory fsync) costs two and a file creation. The newest intact record is
 * the state; the snapshot is the state when the journal is empty. Records end at the first octet
 * that does not start one: the file is zero-filled ahead of them (see GROWTH).
 *
 * Record: 'MRJ1', u32 payload length, SHA-256 of the payload, payload. A crash mid-append leaves a
 * torn last record, which fails its length or checksum and is ignored: its change was never
 * acknowledged, since the append returns only after the flush.
 */
import { closeSync, fdatasyncSync, openSync, readFileSync, writeSync, constants } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import { fsyncDirectory } from './durable-file.js';

const MAGIC = Buffer.from('MRJ1');
const HEADER = MAGIC.length + 4 + 32;

const digest = (payload: Uint8Array): Buffer => createHash('sha256').update(payload).digest();

/** Offsets of the records whose header and payload lie within `bytes`, in order. */
function recordOffsets(bytes: Buffer): number[] {
  const offsets: number[] = [];
  let at = 0;
  while (at + HEADER <= bytes.length && bytes.subarray(at, at + MAGIC.length).equals(MAGIC)) {
    const end = at + HEADER + bytes.readUInt32BE(at + MAGIC.length);
    if (end > bytes.length) break;
    offsets.push(at);
    at = end;
  }
  return offsets;
}

const payloadAt = (bytes: Buffer, at: number): Buffer => bytes.subarray(at + HEADER, at + HEADER + bytes.readUInt32BE(at + MAGIC.length));
const intact = (bytes: Buffer, at: number): boolean =>
  digest(payloadAt(bytes, at)).equals(bytes.subarray(at + MAGIC.length + 4, at + HEADER));

/**
 * Where the intact records end. Only the last record can be torn, because opening the journal
 * wipes it before anything is written after it.
 */
function intactLength(bytes: Buffer): number {
  const offsets = recordOffsets(bytes);
  const last = offsets.at(-1);
  if (last === undefined) return 0;
  return intact(bytes, last) ? last + HEADER + bytes.readUInt32BE(last + MAGIC.length) : last;
}

/** The payload of the newest intact record (usually the last: only it is hashed then). */
export function newestRecord(bytes: Buffer): Buffer | undefined {
  const at = recordOffsets(bytes).reverse().find((o) => intact(bytes, o));
  return at === undefined ? undefined : payloadAt(bytes, at);
}

/**
 * The file grows by zero-filled steps of this size. Appends then overwrite blocks that exist, so
 * their fdatasync flushes data only; an append that grows the file also flushes the new size (the
 * cost of every append in a journal that grows record by record: 2-7x that of an overwrite).
 */
const GROWTH = 256 << 10;
const ZEROS = Buffer.alloc(64 << 10);

/** Whether any octet of `bytes` from `from` on is not zero. */
const nonZeroFrom = (bytes: Buffer, from: number): boolean => bytes.subarray(from).some((b) => b !== 0);

export class StateJournal {
  private fd: number | undefined;
  /** Where the next record goes: the end of the intact records; zeros follow it up to `size`. */
  private end = 0;
  private size = 0;

  constructor(readonly path: string) {}

  /** The newest state recorded, if any. */
  newest(): Buffer | undefined {
    try {
      return newestRecord(readFileSync(this.path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Bytes of records in the journal (what compaction is decided on). */
  get length(): number {
    this.open();
    return this.end;
  }

  /** Appends a state image and waits until it is on the device. */
  append(payload: Uint8Array): void {
    const fd = this.open();
    const header = Buffer.alloc(HEADER);
    MAGIC.copy(header);
    header.writeUInt32BE(payload.length, MAGIC.length);
    digest(payload).copy(header, MAGIC.length + 4);
    const record = Buffer.concat([header, payload]);
    const end = this.end + record.length;
    if (end > this.size) this.zeroFill(this.size, Math.ceil(end / GROWTH) * GROWTH);
    const written = writeSync(fd, record, 0, record.length, this.end);
    if (written !== record.length) {
      this.zeroFill(this.end, this.end + written);
      throw new Error(`short write to ${this.path} (${written} of ${record.length} bytes)`);
    }
    fdatasyncSync(fd);
    this.end = end;
  }

  /** Empties the journal, durably: call only once a snapshot holds the newest state. The file keeps its size. */
  clear(): void {
    this.open();
    this.zeroFill(0, this.end);
    fdatasyncSync(this.fd!);
    this.end = 0;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Writes zeros over [from, to), growing the file if `to` is past its end. */
  private zeroFill(from: number, to: number): void {
    for (let at = from; at < to;) {
      const n = writeSync(this.fd!, ZEROS, 0, Math.min(ZEROS.length, to - at), at);
      if (n === 0) throw new Error(`cannot write zeros to ${this.path}`);
      at += n;
    }
    this.size = Math.max(this.size, to);
  }

  /**
   * Opens (mode 0600) for writing in place. A new journal's directory entry is made durable once
   * here, so that later appends need only their own flush.
   */
  private open(): number {
    if (this.fd !== undefined) return this.fd;
    let created = false;
    try {
      this.fd = openSync(this.path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
      created = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      this.fd = openSync(this.path, constants.O_RDWR);
    }
    if (created) fsyncDirectory(dirname(this.path));
    const bytes = created ? Buffer.alloc(0) : readFileSync(this.path);
    this.size = bytes.length;
    this.end = intactLength(bytes);
    // A torn last record (a crash mid-append) is wiped, so that nothing after the next record can pass for one.
    if (nonZeroFrom(bytes, this.end)) {
      this.zeroFill(this.end, this.size);
      fdatasyncSync(this.fd);
    }
    return this.fd;
  }
}
