/**
 * The firmware's CC event log (ACPI CCEL table's log area). Linux exposes the area, LAML bytes from
 * LASA, at /sys/firmware/acpi/tables/data/CCEL (root-only); its unused tail is 0xFF/0x00 padding.
 * The kernel does not log runtime extends there, so the live registers are the replay of CCEL
 * followed by the log of whoever extends at runtime (mrtpm).
 */
import { readFileSync } from 'node:fs';
import type { CcEvent } from './cc-event.js';
import { parseCcEventLog, type ParsedCcEventLog } from './cc-event-log.js';
import { replayCcEvents, type ReplayRegister } from './replay.js';

export const CCEL_DATA_PATH = '/sys/firmware/acpi/tables/data/CCEL';

/** The parsed CCEL (events up to the padding), or undefined when the file does not exist. */
export function readCcel(path: string = CCEL_DATA_PATH): ParsedCcEventLog | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parseCcEventLog(bytes);
}

/** Register values after the CCEL's events (zero without a CCEL): where a runtime log starts from. */
export function replayCcel(ccel: ParsedCcEventLog | undefined, registers: readonly ReplayRegister[]): Map<number, Uint8Array> {
  return replayCcEvents(ccel?.events ?? [], registers, { logName: 'CCEL' });
}

/** Register values after mrtpm's `log`, from `start` (what CCEL gave, or a checkpoint). */
export function replayLogFrom(log: readonly CcEvent[], registers: readonly ReplayRegister[], start: ReadonlyMap<number, Uint8Array>): Map<number, Uint8Array> {
  return replayCcEvents(log, registers, { start, logName: 'mrtpm event log' });
}

/** Register values after the CCEL's events (when there is a CCEL) and then `log`'s events. */
export function replayCcelThenLog(
  ccel: ParsedCcEventLog | undefined,
  log: readonly CcEvent[],
  registers: readonly ReplayRegister[],
): Map<number, Uint8Array> {
  return replayLogFrom(log, registers, replayCcel(ccel, registers));
}
