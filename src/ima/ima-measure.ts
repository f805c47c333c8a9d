/** One IMA measurement as the kernel makes it with the ima-ng template: the entry and its per-bank template hashes. */
import { closeSync, openSync, readSync, realpathSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { BOOT_AGGREGATE_NAME, imaNgTemplateData, templateHash } from './ima-template.js';
import type { ImaEntry } from './ima-list.js';

/** CONFIG_IMA_MEASURE_PCR_IDX. */
export const IMA_PCR = 10;
export const IMA_NG = 'ima-ng';

export interface ImaMeasurement {
  /** With the SHA-1 template hash, as the legacy lists show it. */
  entry: ImaEntry;
  /** Template hash per hash name (sha1 and every bank asked for). */
  templateHashes: Map<string, Uint8Array>;
}

/** The entry for ima-ng template data, with the template hash of each of `hashes`. */
export function imaNgMeasurement(data: Uint8Array, hashes: readonly string[]): ImaMeasurement {
  const templateHashes = new Map([...new Set(['sha1', ...hashes])].map((h) => [h, templateHash(h, IMA_NG, data)]));
  return { entry: { pcr: IMA_PCR, templateHash: templateHashes.get('sha1')!, templateName: IMA_NG, templateData: data }, templateHashes };
}

export function bootAggregateMeasurement(bank: string, aggregate: Uint8Array, hashes: readonly string[]): ImaMeasurement {
  return imaNgMeasurement(imaNgTemplateData(bank, aggregate, BOOT_AGGREGATE_NAME), hashes);
}

const CHUNK = 1 << 20;

/** A file's digest, read in chunks so that a large file does not have to fit in memory. */
export function hashFile(path: string, hashName: string): Uint8Array {
  const h = createHash(hashName);
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest();
}

/** A file measured as IMA records it: its real path (what d_path gives for the opened file) and its digest. */
export function fileMeasurement(file: string, fileHash: string, hashes: readonly string[]): ImaMeasurement {
  const path = realpathSync(file);
  return imaNgMeasurement(imaNgTemplateData(fileHash, hashFile(path, fileHash), path), hashes);
}
