import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { ByteReader } from '../../src/server/byte-reader.js';
import type { Parsed } from '../../src/server/framing.js';

/** u8 length | body */
const lengthPrefixed = (bytes: Buffer): Parsed<Buffer> =>
  bytes.length < 1 || bytes.length < 1 + bytes[0]! ? { need: 1 + (bytes[0] ?? 0) } : { frame: bytes.subarray(1, 1 + bytes[0]!), length: 1 + bytes[0]! };

describe('server/byte-reader', () => {
  it('returns exact reads however the bytes were segmented', async () => {
    await fc.assert(fc.asyncProperty(
      fc.uint8Array({ minLength: 1, maxLength: 300 }),
      fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }),
      fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 20 }),
      async (data, cuts, reads) => {
        const stream = new PassThrough();
        const reader = new ByteReader(stream);
        let offset = 0;
        for (let i = 0; offset < data.length; i++) {
          const n = cuts[i % cuts.length]!;
          stream.write(data.subarray(offset, offset + n));
          offset += n;
        }
        stream.end();
        const got: Buffer[] = [];
        let consumed = 0;
        for (const n of reads) {
          const bytes = await reader.read(n);
          if (consumed + n > data.length) {
            assert.equal(bytes, 'end');
            return;
          }
          assert.ok(typeof bytes !== 'string');
          got.push(bytes);
          consumed += n;
        }
        assert.deepEqual(Buffer.concat(got), Buffer.from(data.subarray(0, consumed)));
      },
    ), { numRuns: 200 });
  });

  it('reads big-endian u32s and counts received bytes', async () => {
    const stream = new PassThrough();
    const reader = new ByteReader(stream);
    stream.write(Buffer.from('0000', 'hex'));
    const pending = reader.readU32();
    stream.write(Buffer.from('0102ff', 'hex'));
    assert.equal(await pending, 0x102);
    assert.equal(reader.buffered, 1);
    assert.equal(reader.received, 5);
    assert.deepEqual(reader.takeAll(), Buffer.from('ff', 'hex'));
  });

  it('times out at the deadline and keeps what arrived', async () => {
    const stream = new PassThrough();
    const reader = new ByteReader(stream);
    stream.write(Buffer.from('01', 'hex'));
    const started = Date.now();
    assert.equal(await reader.read(2, Date.now() + 50), 'timeout');
    assert.ok(Date.now() - started >= 45);
    stream.write(Buffer.from('02', 'hex'));
    assert.deepEqual(await reader.read(2), Buffer.from('0102', 'hex'));
  });

  it('waitForData waits for the first byte, false at end', async () => {
    const stream = new PassThrough();
    const reader = new ByteReader(stream);
    const waiting = reader.waitForData();
    stream.write(Buffer.from('aa', 'hex'));
    assert.equal(await waiting, true);
    reader.takeAll();
    stream.end();
    assert.equal(await reader.waitForData(), false);
  });

  it('pauses a source that floods it and resumes when read', async () => {
    const stream = new PassThrough();
    const reader = new ByteReader(stream, 8);
    stream.write(Buffer.alloc(10, 1));
    await new Promise((r) => setImmediate(r));
    assert.ok(stream.isPaused());
    stream.write(Buffer.alloc(10, 2));
    const bytes = await reader.read(20);
    assert.ok(typeof bytes !== 'string');
    assert.equal(bytes.length, 20);
    assert.equal(bytes[19], 2);
  });

  it('cuts frames however the bytes were segmented, then reports the end', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 10 }),
      fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 10 }),
      async (bodies, cuts) => {
        const data = Buffer.concat(bodies.map((b) => Buffer.concat([Buffer.from([b.length]), b])));
        const stream = new PassThrough();
        const reader = new ByteReader(stream);
        for (let offset = 0, i = 0; offset < data.length; i++) {
          const n = cuts[i % cuts.length]!;
          stream.write(data.subarray(offset, offset + n));
          offset += n;
        }
        stream.end();
        for (const body of bodies) assert.deepEqual(await reader.nextFrame(lengthPrefixed), Buffer.from(body));
        assert.equal(await reader.nextFrame(lengthPrefixed), 'end');
      },
    ), { numRuns: 200 });
  });

  it('frame() parses again only once the bytes the parser asked for are there', async () => {
    const stream = new PassThrough();
    const reader = new ByteReader(stream);
    let parses = 0;
    const counted = (bytes: Buffer): Parsed<Buffer> => {
      parses++;
      return lengthPrefixed(bytes);
    };
    assert.equal(reader.frame(counted), undefined);
    assert.equal(parses, 0, 'nothing buffered, nothing to parse');
    for (const part of ['05', '6162', '6364']) {
      stream.write(Buffer.from(part, 'hex'));
      await new Promise((r) => setImmediate(r));
      assert.equal(reader.frame(counted), undefined);
    }
    assert.equal(parses, 1);
    stream.write(Buffer.from('65ff', 'hex'));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(reader.frame(counted), Buffer.from('abcde'));
    assert.equal(reader.buffered, 1);
  });

  it('keeps a source flowing while a frame consumer waits for a frame above the high-water mark', async () => {
    const stream = new PassThrough();
    const frames: Buffer[] = [];
    const reader: ByteReader = new ByteReader(stream, 8, () => {
      const frame = reader.frame(lengthPrefixed);
      if (frame) frames.push(frame);
    });
    stream.write(Buffer.concat([Buffer.from([20]), Buffer.alloc(11, 7)]));
    await new Promise((r) => setImmediate(r));
    assert.ok(!stream.isPaused());
    stream.write(Buffer.alloc(9, 7));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(frames, [Buffer.alloc(20, 7)]);
  });
});
