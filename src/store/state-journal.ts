/**
 * An append-only journal of whole state images beside a snapshot file. A change is one record
 * appended and fdatasync'd: one device flush, where replacing the snapshot (temp file, fsync,
 * rename, directory fsync) costs two and a file creation. The newest intact record is the state;
 * the snapshot is the state when the journal is empty.
 *
 * Record: 'MRJ1', u32 payload length, SHA-256 of the payload, payload. A crash mid-append leaves a
 * torn last record, which fails its length or checksum and is ignored: its change was never
 * acknowledged, since the append returns only after the flush.
 */
import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, fsyncSync, openSync, readFileSync, writeSync, constants } from 'node:fs';
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
 * cuts it off before anything is appended after it.
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

export class StateJournal {
  private fd: number | undefined;
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

  /** Bytes in the journal (what compaction is decided on). */
  get length(): number {
    this.open();
    return this.size;
  }

  /** Appends a state image and waits until it is on the device. */
  append(payload: Uint8Array): void {
    const fd = this.open();
    const header = Buffer.alloc(HEADER);
    MAGIC.copy(header);
    header.writeUInt32BE(payload.length, MAGIC.length);
    digest(payload).copy(header, MAGIC.length + 4);
    const record = Buffer.concat([header, payload]);
    const written = writeSync(fd, record);
    this.size += written;
    if (written !== record.length) throw new Error(`short append to ${this.path} (${written} of ${record.length} bytes)`);
    fdatasyncSync(fd);
  }

  /** Empties the journal, durably: call only once a snapshot holds the newest state. */
  clear(): void {
    const fd = this.open();
    ftruncateSync(fd, 0);
    fsyncSync(fd);
    this.size = 0;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /**
   * Opens (mode 0600) for appending. A new journal's directory entry is made durable once here,
   * so that later appends need only their own flush.
   */
  private open(): number {
    if (this.fd !== undefined) return this.fd;
    let created = false;
    try {
      this.fd = openSync(this.path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL, 0o600);
      created = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      this.fd = openSync(this.path, constants.O_RDWR | constants.O_APPEND);
    }
    if (created) fsyncDirectory(dirname(this.path));
    this.size = fstatSync(this.fd).size;
    // A torn last record (a crash mid-append) is cut, so that appends follow the last intact one.
    const length = created ? 0 : intactLength(readFileSync(this.path));
    if (length < this.size) {
      ftruncateSync(this.fd, length);
      fsyncSync(this.fd);
      this.size = length;
    }
    return this.fd;
  }
}
