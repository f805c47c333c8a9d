/**
 * What a guest boot measured, as the host reconstructs it: the firmware's TCG log read by
 * tpm2_eventlog, the SHA-384 digest the kernel's IMA extended for each entry, and the TDX RTMRs
 * that history must leave in the mirror (UEFI 2.10 §38.4.1: PCR 1,7 -> RTMR0, 2-6 -> RTMR1,
 * 8-15 -> RTMR2; PCR 0 goes to MRTD, which nothing extends at run time).
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseBinaryList } from '../../src/ima/ima-list.js';
import { templateHash } from '../../src/ima/ima-template.js';
import { runCommand } from './processes.js';
import { parseEventlogEvents, parsePcrRead, type EventlogEntry } from './tool-output.js';

export interface FirmwareLog {
  events: EventlogEntry[];
  /** tpm2_eventlog's replay: bank -> PCR -> hex. */
  pcrs: Map<string, Map<number, string>>;
}

/** `tpm2_eventlog` on the guest's binary_bios_measurements (written to `file`). */
export async function readFirmwareLog(log: Uint8Array, file: string): Promise<FirmwareLog> {
  writeFileSync(file, log);
  const r = await runCommand('tpm2_eventlog', [file]);
  if (r.code !== 0) throw new Error(`tpm2_eventlog ${file}: ${r.stdout}${r.stderr}`);
  const replay = r.stdout.indexOf('\npcrs:\n');
  if (replay < 0) throw new Error(`tpm2_eventlog printed no pcrs: ${r.stdout.slice(-2000)}`);
  return { events: parseEventlogEvents(r.stdout.slice(0, replay)), pcrs: parsePcrRead(r.stdout.slice(replay)) };
}

/** How the kernel extended its SHA-384 bank: the bank's own template hash, or the SHA-1 one zero-padded. */
export type Sha384Method = 'bank-hash' | 'padded-sha1';

/** Each IMA entry's SHA-384 extend, from the binary list (SHA-1 template-hash column). */
export function imaSha384Extends(binaryList: Uint8Array, method: Sha384Method): Uint8Array[] {
  return parseBinaryList(binaryList).map((e) => {
    if (e.templateHash.every((b) => b === 0)) return new Uint8Array(48).fill(0xff);
    if (method === 'bank-hash') return templateHash('sha384', e.templateName, e.templateData!);
    const padded = new Uint8Array(48);
    padded.set(e.templateHash);
    return padded;
  });
}

export interface BootMeasurements {
  firmware: EventlogEntry[];
  ima: Uint8Array[];
}

const rtmrOf = (pcr: number): number | undefined => (pcr === 1 || pcr === 7 ? 0 : pcr >= 2 && pcr <= 6 ? 1 : pcr >= 8 && pcr <= 15 ? 2 : undefined);

/** RTMR0-2 after these boots on fresh registers, each boot's firmware events before its IMA entries. */
export function expectedRtmrs(boots: readonly BootMeasurements[]): string[] {
  const rtmrs = [0, 1, 2].map(() => Buffer.alloc(48));
  const extend = (i: number, digest: Uint8Array): void => {
    rtmrs[i] = createHash('sha384').update(rtmrs[i]!).update(digest).digest();
  };
  for (const boot of boots) {
    for (const e of boot.firmware) {
      const rtmr = rtmrOf(e.pcrIndex);
      const sha384 = e.digests.find(([bank]) => bank === 'sha384')?.[1];
      if (rtmr === undefined || e.eventType === 'EV_NO_ACTION') continue;
      if (!sha384) throw new Error(`firmware event ${e.eventType} in PCR ${e.pcrIndex} has no sha384 digest`);
      extend(rtmr, Buffer.from(sha384, 'hex'));
    }
    for (const digest of boot.ima) extend(2, digest);
  }
  return rtmrs.map((r) => r.toString('hex'));
}
