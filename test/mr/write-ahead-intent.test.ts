/** The intent file on its own: what is written is what is read back, at any log offset. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IntentFile, type MrIntent } from '../../src/mr/write-ahead-intent.js';

describe('mr/write-ahead intent file', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'mrtpm-intent-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const intent = (logOffset: number, recordSize: number): MrIntent => ({
    logOffset,
    register: 'rtmr3',
    old: new Uint8Array(48).fill(1),
    expected: new Uint8Array(48).fill(2),
    record: Uint8Array.from({ length: recordSize }, (_, i) => i & 0xff),
  });

  it('reads back each intent written, offsets past 2^32 and records past the first buffer included; clear forgets it', () => {
    const file = new IntentFile(join(dir, 'intent'));
    try {
      assert.equal(file.read(), undefined);
      for (const written of [intent(65, 150), intent(2 ** 40 + 7, 150), intent(Number.MAX_SAFE_INTEGER, 3000), intent(400, 10)]) {
        file.write(written);
        assert.deepEqual(file.read(), written);
      }
      assert.equal(statSync(join(dir, 'intent')).mode & 0o777, 0o600);
      file.clear();
      assert.equal(file.read(), undefined);
    } finally {
      file.close();
    }
  });
});
