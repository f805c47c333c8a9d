/**
 * The IMA lists of a state directory, laid out as securityfs shows them since Linux 6.10 ("ima:
 * add crypto agility support for template-hash algorithm"): `ascii_runtime_measurements_<hash>`
 * and `binary_runtime_measurements_<hash>` for SHA-1 and every PCR bank, the template-hash column
 * holding that hash; the legacy names are symlinks to the `_sha1` files. The set of hashes is
 * fixed when the list starts, as the kernel fixes it at boot.
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, rmSync, statSync, symlinkSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { openStateDir, type StateDir } from '../store/state-dir.js';
import { asciiAfterHash, asciiEntry, binaryAfterHash, binaryEntry } from './ima-list.js';
import type { ImaMeasurement } from './ima-measure.js';

/** The directory under a state directory where `mrtpm ima` keeps the lists. */
export const IMA_LIST_DIR = 'ima';
export const ASCII_LIST = 'ascii_runtime_measurements';
export const BINARY_LIST = 'binary_runtime_measurements';
const PER_HASH = new RegExp(`^${BINARY_LIST}_(sha1|sha256|sha384|sha512)$`);

/** The hash of a list file's template-hash column, from its name (`..._sha256`); SHA-1 otherwise. */
export function listHashOf(file: string): string {
  return /_(sha1|sha256|sha384|sha512)$/.exec(file)?.[1] ?? 'sha1';
}

export class ImaListFiles {
  private constructor(private readonly dir: StateDir) {}

  /** Locks the list directory (created 0700): one writer at a time keeps list order = extend order. */
  static open(dir: string): ImaListFiles {
    return new ImaListFiles(openStateDir(dir));
  }

  get path(): string {
    return this.dir.dir;
  }

  /** The hashes the list keeps files for; empty when no list has started. */
  hashes(): string[] {
    return readdirSync(this.dir.dir).flatMap((f) => PER_HASH.exec(f)?.[1] ?? []).sort((a, b) => (a === 'sha1' ? -1 : b === 'sha1' ? 1 : a.localeCompare(b)));
  }

  /** True until an entry is in the list (no files, or files a refused first extend left empty). */
  isEmpty(): boolean {
    const first = this.dir.path(`${BINARY_LIST}_sha1`);
    return !existsSync(first) || statSync(first).size === 0;
  }

  /** Starts a new, empty list (dropping any old one) with files for SHA-1 and `hashes`. */
  create(hashes: readonly string[]): void {
    for (const f of readdirSync(this.dir.dir)) if (f.startsWith(ASCII_LIST) || f.startsWith(BINARY_LIST)) rmSync(join(this.dir.dir, f));
    for (const h of new Set(['sha1', ...hashes])) {
      for (const base of [ASCII_LIST, BINARY_LIST]) closeSync(openSync(this.dir.path(`${base}_${h}`), 'wx', 0o600));
    }
    for (const base of [ASCII_LIST, BINARY_LIST]) symlinkSync(`${base}_sha1`, join(this.dir.dir, base));
  }

  /**
   * Appends measurements to every file of the list; returns the undo that cuts them off again
   * (used when the TPM refuses the extend, so that list and PCR stay one history).
   */
  append(measurements: readonly ImaMeasurement[]): () => void {
    const forms = measurements.map((m) => ({ m, binary: binaryAfterHash(m.entry), ascii: asciiAfterHash(m.entry) }));
    const files = this.hashes().flatMap((h) => [
      { path: this.dir.path(`${ASCII_LIST}_${h}`), bytes: Buffer.from(forms.map((f) => asciiEntry(f.m.entry.pcr, hashOf(f.m, h), f.ascii)).join('')) },
      { path: this.dir.path(`${BINARY_LIST}_${h}`), bytes: Buffer.concat(forms.map((f) => binaryEntry(f.m.entry.pcr, hashOf(f.m, h), f.binary))) },
    ]);
    const written: { path: string; size: number }[] = [];
    const undo = (): void => { for (const f of written) truncateSync(f.path, f.size); };
    try {
      for (const f of files) {
        const fd = openSync(f.path, 'a');
        try {
          written.push({ path: f.path, size: fstatSync(fd).size });
          if (writeSync(fd, f.bytes) !== f.bytes.length) throw new Error(`short write to ${f.path}`);
        } finally {
          closeSync(fd);
        }
      }
    } catch (e) {
      undo();
      throw e;
    }
    return undo;
  }

  release(): void {
    this.dir.release();
  }
}

function hashOf(m: ImaMeasurement, h: string): Uint8Array {
  const digest = m.templateHashes.get(h);
  if (!digest) throw new RangeError(`no ${h} template hash`);
  return digest;
}
