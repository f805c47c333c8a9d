/**
 * The MR event log file: a CC event log (Spec ID record, then one CC_EVENT per mirrored change)
 * appended in place. Opening it cuts a torn final record, which only a crash mid-append leaves;
 * the write-ahead intent then restores that record if its extend happened.
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

export class MrEventLogFile {
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

  append(record: Uint8Array): void {
    const written = writeSync(this.fd, record);
    this.size += written;
    if (written !== record.length) throw new Error(`short append to the MR event log (${written} of ${record.length} bytes)`);
  }

  close(): void {
    closeSync(this.fd);
  }
}
