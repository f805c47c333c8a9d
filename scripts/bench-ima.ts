/**
 * The IMA list benchmark: a 100,000-entry list measured in-process (file digest of a small
 * in-memory file, ima-ng template data, SHA-1 + SHA-256 + SHA-384 template hashes, the ascii and
 * binary lists for each written to a temp directory in batches of 1,000 entries; no TPM round
 * trips), then the binary list read, parsed and replayed into PCR 10 of the three banks. Outside
 * the timing, the SHA-384 ascii list (other format, other template-hash column) must replay to
 * the same values.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { imaNgTemplateData } from '../src/ima/ima-template.js';
import { imaNgMeasurement, type ImaMeasurement } from '../src/ima/ima-measure.js';
import { ASCII_LIST, BINARY_LIST, ImaListFiles } from '../src/ima/ima-list-files.js';
import { parseAsciiList, parseBinaryList } from '../src/ima/ima-list.js';
import { digestOf } from '../src/ima/digest.js';
import { replayImaList } from '../src/ima/ima-replay.js';
import { makeTempDir, removeDir } from '../test/helpers/state-dirs.js';

const BANKS = ['sha1', 'sha256', 'sha384'];
const BATCH = 1000;

export interface ImaSpeed {
  entries: number;
  binaryListBytes: number;
  measureMs: number;
  replayMs: number;
  totalMs: number;
}

export async function imaSpeed(entries: number): Promise<ImaSpeed> {
  const dir = await makeTempDir('mrtpm-bench-ima');
  const list = ImaListFiles.open(dir);
  try {
    list.create(BANKS);
    const content = Buffer.alloc(64);
    const t0 = performance.now();
    let batch: ImaMeasurement[] = [];
    for (let i = 0; i < entries; i++) {
      content.writeUInt32LE(i, 0);
      const path = `/usr/lib/bench/file-${i}.so`;
      batch.push(imaNgMeasurement(imaNgTemplateData('sha256', digestOf('sha256', content), path), BANKS));
      if (batch.length === BATCH || i === entries - 1) {
        list.append(batch);
        batch = [];
      }
    }
    const t1 = performance.now();
    const bytes = readFileSync(join(dir, `${BINARY_LIST}_sha1`));
    const replay = replayImaList(parseBinaryList(bytes), BANKS);
    const t2 = performance.now();
    const cross = replayImaList(parseAsciiList(readFileSync(join(dir, `${ASCII_LIST}_sha384`), 'utf8')), BANKS, 'sha384');
    for (const b of BANKS) {
      if (!Buffer.from(replay.banks.get(b)!.get(10)!).equals(cross.banks.get(b)!.get(10)!)) throw new Error(`the benchmark lists do not replay alike (${b})`);
    }
    if (replay.entries !== entries || replay.badTemplateHashes.length + cross.badTemplateHashes.length > 0) throw new Error('the benchmark list does not replay');
    return { entries, binaryListBytes: bytes.length, measureMs: t1 - t0, replayMs: t2 - t1, totalMs: t2 - t0 };
  } finally {
    list.release();
    await removeDir(dir);
  }
}
