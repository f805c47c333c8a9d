/**
 * The write-ahead record of one MR extend: written before the hardware extend, so that after a
 * crash recovery can tell whether the extend happened (the register holds `expected`) and finish
 * its log append, or did not (the register still holds `old`). One fixed file, overwritten by
 * each extend with one write at offset 0. It carries no checksum of its own: recovery checks that
 * `expected` = H(old || the record's digest), which a torn intent fails (mr-mirror.ts).
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync, constants } from 'node:fs';

export interface MrIntent {
  /** Log length when the intent was written: the record goes at this offset. */
  logOffset: number;
  register: string;
  old: Uint8Array;
  expected: Uint8Array;
  /** The complete log record to append once the extend happened. */
  record: Uint8Array;
}

const MAGIC = Buffer.from('MRTPINT2', 'latin1');
const HEAD = MAGIC.length + 4;

/** Writes the intent into `out` (at least intentSize bytes, MAGIC already at its start); returns its length. */
function encodeInto(out: Buffer, i: MrIntent): number {
  // The u64 log offset as two u32 halves: no BigInt on the extend path (offsets stay below 2^53).
  let at = out.writeUInt32LE(i.logOffset % 2 ** 32, HEAD);
  at = out.writeUInt32LE(Math.floor(i.logOffset / 2 ** 32), at);
  at = out.writeUInt8(Buffer.byteLength(i.register, 'utf8'), at);
  at += out.write(i.register, at, 'utf8');
  at = out.writeUInt16LE(i.old.length, at);
  out.set(i.old, at);
  out.set(i.expected, (at += i.old.length));
  at = out.writeUInt32LE(i.record.length, at + i.expected.length);
  out.set(i.record, at);
  at += i.record.length;
  out.writeUInt32LE(at - HEAD, MAGIC.length);
  return at;
}

function withMagic(size: number): Buffer {
  const out = Buffer.alloc(size);
  MAGIC.copy(out, 0);
  return out;
}

const intentSize = (i: MrIntent): number => HEAD + 8 + 1 + Buffer.byteLength(i.register, 'utf8') + 2 + 2 * i.old.length + 4 + i.record.length;

function decode(file: Buffer): MrIntent | undefined {
  if (file.length < HEAD || !file.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const body = file.subarray(HEAD, HEAD + file.readUInt32LE(MAGIC.length));
  try {
    let at = 0;
    const logOffset = Number(body.readBigUInt64LE(at));
    const nameLength = body.readUInt8((at += 8));
    const register = body.subarray(at + 1, (at += 1 + nameLength)).toString('utf8');
    const size = body.readUInt16LE(at);
    const old = new Uint8Array(body.subarray(at + 2, (at += 2 + size)));
    const expected = new Uint8Array(body.subarray(at, (at += size)));
    const recordLength = body.readUInt32LE(at);
    const record = new Uint8Array(body.subarray(at + 4, at + 4 + recordLength));
    if (old.length !== size || expected.length !== size || record.length !== recordLength) return undefined;
    return { logOffset, register, old, expected, record };
  } catch {
    return undefined;
  }
}

export class IntentFile {
  private readonly fd: number;
  /** Reused for every intent, MAGIC written once: an extend allocates nothing here. */
  private scratch = withMagic(512);

  constructor(path: string) {
    this.fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600);
  }

  /** The last intent written, if it parses (recovery still checks it for tearing). */
  read(): MrIntent | undefined {
    // Positional: readFileSync(fd) would read on from where a previous read stopped.
    const file = Buffer.alloc(fstatSync(this.fd).size);
    return decode(file.subarray(0, readSync(this.fd, file, 0, file.length, 0)));
  }

  write(intent: MrIntent): void {
    const size = intentSize(intent);
    if (size > this.scratch.length) this.scratch = withMagic(size);
    const length = encodeInto(this.scratch, intent);
    if (writeSync(this.fd, this.scratch, 0, length, 0) !== length) throw new Error('short write of the MR intent record');
  }

  /** Forgets the intent once recovery has settled it. */
  clear(): void {
    ftruncateSync(this.fd, 0);
  }

  close(): void {
    closeSync(this.fd);
  }
}
