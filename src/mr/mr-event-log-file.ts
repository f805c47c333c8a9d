/**
 * The MR event log file: a CC event log (Spec ID record, then one CC_EVENT per mirrored change)
 * appended in place. A record is appended before its register moves (it is the write-ahead intent,
 * see mr-mirror.ts), so an append is all or nothing: a failed one is cut off again. Opening the
 * log cuts a torn final record, which only a crash mid-append leaves, before its register moved.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, writeFileSync, writeSync, constants } from 'node:fs';
import { newCcEventLog, parseCcEventLog, type ParsedCcEventLog } from '../eventlog/cc-event-log.js';
import type { CcEventRecord } from '../eventlog/cc-event.js';

export function readMrEventLog(path: string): ParsedCcEventLog {
  return parseCcEventLog(readFileSync(path));
}

export interface OpenedLog {
  file: MrEventLogFile;
  /** The complete records' bytes as opened. */
  bytes: Uint8Array;
  events: CcEventRecord[];
  /** Where `events` start if resumeAt chose an offset. */
  from: number | undefined;
}

/** Raised once an append could not be undone: the log's end is unknown until it is opened again. */
export class MrLogDamagedError extends Error {
  constructor(path: string, cause: unknown) {
    super(`MR event log ${path} could not be restored after a failed append (${(cause as Error).message}); restart to recover it`);
    this.name = 'MrLogDamagedError';
  }
}

export class MrEventLogFile {
  private damaged: MrLogDamagedError | undefined;

  private constructor(readonly path: string, private readonly fd: number, private size: number) {}

  /** Opens the log at `path`, creating it (mode 0600) for registers of `hashAlgs` if missing. */
  static open(path: string, hashAlgs: readonly number[]): MrEventLogFile {
    return MrEventLogFile.openParsed(path, hashAlgs).file;
  }

  /**
   * open(), also handing over what it read on the way for start-up to check: the log's bytes and
   * its records, all of them or those from the offset `resumeAt` picks (a replay checkpoint that
   * fits these bytes), in which case the records before it are not even parsed.
   */
  static openParsed(path: string, hashAlgs: readonly number[], resumeAt: (bytes: Uint8Array) => number | undefined = () => undefined): OpenedLog {
    try {
      writeFileSync(path, newCcEventLog(hashAlgs), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const bytes = readFileSync(path);
    const from = resumeAt(bytes);
    const log = parseCcEventLog(bytes, from === undefined ? {} : { from });
    const logged = log.specId.algorithms.map((a) => a.hashAlg).join(',');
    if (logged !== hashAlgs.join(',')) {
      throw new Error(`MR event log ${path} is for other registers (algorithms ${logged}); start a new log or reset the registers`);
    }
    const fd = openSync(path, constants.O_RDWR | constants.O_APPEND);
    // A torn record or a zero-filled tail (power loss) is cut, so appends follow the last good record.
    if (fstatSync(fd).size > log.validLength) ftruncateSync(fd, log.validLength);
    return { file: new MrEventLogFile(path, fd, log.validLength), bytes: bytes.subarray(0, log.validLength), events: log.events, from };
  }

  /** Bytes of complete records: where the next record goes. */
  get length(): number {
    return this.size;
  }

  /**
   * Appends the record with one write (to the kernel: a killed process loses nothing written, see
   * docs/mr-mirror.md); if that fails or comes up short, the log is cut back to where it was and
   * the error rethrown. If even the cut fails, this and every later append throw MrLogDamagedError.
   */
  append(record: Uint8Array): void {
    if (this.damaged) throw this.damaged;
    try {
      const written = writeSync(this.fd, record);
      if (written !== record.length) throw new Error(`short append to the MR event log (${written} of ${record.length} bytes)`);
      this.size += written;
    } catch (err) {
      this.truncate(this.size);
      throw err;
    }
  }

  /** Cuts the log back to `length` (a record boundary): a record whose extend did not happen. */
  truncate(length: number): void {
    try {
      ftruncateSync(this.fd, length);
      this.size = length;
    } catch (err) {
      this.damaged = new MrLogDamagedError(this.path, err);
      throw this.damaged;
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}
