import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, closeSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readIfExists, removeIfExists, writeDurable } from '../../src/store/durable-file.js';

describe('store/durable-file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mrtpm-durable-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes bytes and strings with mode 0600 and leaves no temp file', () => {
    const p = join(dir, 'seeds.bin');
    writeDurable(p, Uint8Array.of(1, 2, 3, 255));
    assert.deepEqual([...readFileSync(p)], [1, 2, 3, 255]);
    assert.equal(statSync(p).mode & 0o777, 0o600);
    writeDurable(join(dir, 'state.json'), '{"a":1}');
    assert.equal(readFileSync(join(dir, 'state.json'), 'utf8'), '{"a":1}');
    assert.deepEqual(readdirSync(dir).sort(), ['seeds.bin', 'state.json']);
  });

  it('writes only the bytes of a Uint8Array view, not its whole backing buffer', () => {
    const backing = Uint8Array.of(9, 9, 1, 2, 9);
    writeDurable(join(dir, 'v'), backing.subarray(2, 4));
    assert.deepEqual([...readFileSync(join(dir, 'v'))], [1, 2]);
  });

  it('replaces by rename: a reader holding the old file still sees the old content', () => {
    const p = join(dir, 'nv.bin');
    writeDurable(p, 'old-content');
    const oldIno = statSync(p).ino;
    const fd = openSync(p, 'r');
    try {
      writeDurable(p, 'new');
      const buf = Buffer.alloc(32);
      const n = readSync(fd, buf, 0, 32, 0);
      assert.equal(buf.subarray(0, n).toString(), 'old-content');
    } finally {
      closeSync(fd);
    }
    assert.equal(readFileSync(p, 'utf8'), 'new');
    assert.notEqual(statSync(p).ino, oldIno);
    assert.deepEqual(readdirSync(dir), ['nv.bin']);
  });

  it('tightens an existing file that had a looser mode to 0600', () => {
    const p = join(dir, 'loose');
    writeFileSync(p, 'x');
    chmodSync(p, 0o644);
    writeDurable(p, 'y');
    assert.equal(statSync(p).mode & 0o777, 0o600);
  });

  it('readIfExists returns undefined for a missing file and the bytes otherwise', () => {
    assert.equal(readIfExists(join(dir, 'missing')), undefined);
    writeDurable(join(dir, 'there'), 'abc');
    assert.equal(readIfExists(join(dir, 'there'))?.toString(), 'abc');
  });

  it('readIfExists still reports errors other than a missing file', () => {
    assert.throws(() => readIfExists(dir), /EISDIR/);
  });

  it('removeIfExists removes and tolerates a missing file', () => {
    const p = join(dir, 'gone');
    writeDurable(p, 'x');
    removeIfExists(p);
    assert.equal(readIfExists(p), undefined);
    assert.doesNotThrow(() => removeIfExists(p));
  });
});
