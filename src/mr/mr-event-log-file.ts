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

export class MrEventLogFile {
  private constructor(readonly path: string, private readonly fd: number, private size: number) {}

  /** Opens the log at `path`, creating it (mode 0600) for registers of `hashAlgs` if missing. */
  static open(path: string, hashAlgs: readonly number[]): MrEventLogFile {
    return MrEventLogFile.openParsed(path, hashAlgs).file;
  }

  /** open(), also handing over the records it parsed on the way (start-up checks them). */
  static openParsed(path: string, hashAlgs: readonly number[]): { file: MrEventLogFile; events: CcEventRecord[] } {
    try {
      writeFileSync(path, newCcEventLog(hashAlgs), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const log = readMrEventLog(path);
    const logged = log.specId.algorithms.map((a) => a.hashAlg).join(',');
    if (logged !== hashAlgs.join(',')) {
      throw new Error(`MR event log ${path} is for other registers (algorithms ${logged}); start a new log or reset the registers`);
    }
    const fd = openSync(path, constants.O_RDWR | constants.O_APPEND);
    // A torn record or a zero-filled tail (power loss) is cut, so appends follow the last good record.
    if (fstatSync(fd).size > log.validLength) ftruncateSync(fd, log.validLength);
    return { file: new MrEventLogFile(path, fd, log.validLength), events: log.events };
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
