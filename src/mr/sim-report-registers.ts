/** What a simulator's report states: its register file, read so that no value is caught mid-extend. */
import { bytesEqual } from '../tpm/crypto/bytes.js';
import type { CcPlatform } from './mr-backend.js';
import { readRegisterFile, type RegisterFileSnapshot } from './register-file.js';

/** Reads before giving up on a file whose registers keep changing. */
const MAX_READS = 8;

const sameValues = (a: RegisterFileSnapshot, b: RegisterFileSnapshot): boolean =>
  a.registers.every((r) => bytesEqual(a.read(r.name), b.read(r.name)));

/**
 * The register file at `path`, read without a lock (a serving vTPM holds the file) until two reads
 * in a row agree: a lock-free read may catch a value torn by an extend, which a report must never
 * state. Real hardware needs no such care (TDG.MR.REPORT and RSI attestation are atomic).
 */
export function stableRegisters(path: string, platform: CcPlatform): RegisterFileSnapshot {
  let last = readRegisterFile(path);
  if (last.platform !== platform) throw new Error(`${path} is a ${last.platform} register file, not ${platform}`);
  for (let i = 1; i < MAX_READS; i++) {
    const next = readRegisterFile(path);
    if (sameValues(last, next)) return next;
    last = next;
  }
  throw new Error(`${path}: the registers changed on each of ${MAX_READS} reads`);
}
