/**
 * The write-ahead record of one MR extend: written before the hardware extend, so that after a
 * crash recovery can tell whether the extend happened (the register holds `expected`) and finish
 * its log append, or did not (the register still holds `old`). One fixed file, overwritten by
 * each extend with one write at offset 0 and self-checked by a SHA-256, so a torn write reads as
 * "no intent" (the extend it would announce never started).
 */
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync, constants } from 'node:fs';
import { hash } from '../tpm/crypto/hash.js';
import { TPM_ALG } from '../tpm/spec/constants.js';

export interface MrIntent {
  /** Log length when the intent was written: the record goes at this offset. */
  logOffset: number;
  register: string;
  old: Uint8Array;
  expected: Uint8Array;
  /** The complete log record to append once the extend happened. */
  record: Uint8Array;
}

const MAGIC = Buffer.from('MRTPINT1', 'latin1');
const CHECK_SIZE = 32;

function encode(i: MrIntent): Buffer {
  const name = Buffer.from(i.register, 'utf8');
  const body = Buffer.alloc(8 + 1 + name.length + 2 + i.old.length + i.expected.length + 4 + i.record.length);
  let at = body.writeBigUInt64LE(BigInt(i.logOffset), 0);
  at = body.writeUInt8(name.length, at);
  at += name.copy(body, at);
  at = body.writeUInt16LE(i.old.length, at);
  body.set(i.old, at);
  body.set(i.expected, at + i.old.length);
  at = body.writeUInt32LE(i.record.length, at + 2 * i.old.length);
  body.set(i.record, at);
  const head = Buffer.alloc(MAGIC.length + 4);
  MAGIC.copy(head);
  head.writeUInt32LE(body.length, MAGIC.length);
  return Buffer.concat([head, body, hash(TPM_ALG.SHA256, body)]);
}

function decode(file: Buffer): MrIntent | undefined {
  if (file.length < MAGIC.length + 4 || !file.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const length = file.readUInt32LE(MAGIC.length);
  const body = file.subarray(MAGIC.length + 4, MAGIC.length + 4 + length);
  const check = file.subarray(MAGIC.length + 4 + length, MAGIC.length + 4 + length + CHECK_SIZE);
  if (body.length !== length || check.length !== CHECK_SIZE || !check.equals(hash(TPM_ALG.SHA256, body))) return undefined;
  let at = 0;
  const logOffset = Number(body.readBigUInt64LE(at));
  const nameLength = body.readUInt8((at += 8));
  const register = body.subarray(at + 1, (at += 1 + nameLength)).toString('utf8');
  const size = body.readUInt16LE(at);
  const old = new Uint8Array(body.subarray(at + 2, (at += 2 + size)));
  const expected = new Uint8Array(body.subarray(at, (at += size)));
  const recordLength = body.readUInt32LE(at);
  return { logOffset, register, old, expected, record: new Uint8Array(body.subarray(at + 4, at + 4 + recordLength)) };
}

export class IntentFile {
  private readonly fd: number;

  constructor(path: string) {
    this.fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600);
  }

  /** The last intent written, if it is complete. */
  read(): MrIntent | undefined {
    return decode(readFileSync(this.fd));
  }

  write(intent: MrIntent): void {
    const bytes = encode(intent);
    if (writeSync(this.fd, bytes, 0, bytes.length, 0) !== bytes.length) throw new Error('short write of the MR intent record');
  }

  /** Forgets the intent once recovery has settled it. */
  clear(): void {
    ftruncateSync(this.fd, 0);
  }

  close(): void {
    closeSync(this.fd);
  }
}
