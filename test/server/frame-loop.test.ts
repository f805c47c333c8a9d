import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { FrameLoop, type Outcome } from '../../src/server/frame-loop.js';
import type { Parsed } from '../../src/server/framing.js';

/** u8 length | body; the reply echoes the body. */
const parse = (bytes: Buffer): Parsed<Buffer> =>
  bytes.length < 1 || bytes.length < 1 + bytes[0]! ? { need: 1 + (bytes[0] ?? 0) } : { frame: bytes.subarray(1, 1 + bytes[0]!), length: 1 + bytes[0]! };
const frame = (text: string): Buffer => Buffer.concat([Buffer.from([text.length]), Buffer.from(text)]);

/** A socket stand-in: push() delivers bytes; writes complete at once unless held, like a full kernel buffer. */
class Wire extends Duplex {
  readonly written: string[] = [];
  hold = false;
  private held: (() => void)[] = [];
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.written.push(chunk.toString());
    if (this.hold) this.held.push(done);
    else done();
  }
  release(): void {
    this.hold = false;
    for (const done of this.held.splice(0)) done();
  }
}

describe('server/frame-loop', () => {
  let wire: Wire;
  let handled: string[];
  let next: (body: string) => Outcome['next'];
  let loop: FrameLoop<Buffer>;

  beforeEach(async () => {
    wire = new Wire();
    handled = [];
    next = () => 'continue';
    loop = new FrameLoop(wire, parse, (body) => {
      handled.push(body.toString());
      if (body.toString() === 'throw') throw new Error('handler failed');
      return { reply: Buffer.from(body.toString().toUpperCase()), next: next(body.toString()) };
    });
    await tick(); // the reader's 'data' listener makes the stream flow from the next tick on
  });

  it('answers frames that arrived whole inside the data callback, in order', () => {
    wire.push(Buffer.concat([frame('ab'), frame('c')]));
    assert.deepEqual(wire.written, ['AB', 'C'], 'written before push() returned');
  });

  it('waits for the rest of a frame split across chunks', async () => {
    const bytes = frame('hello');
    wire.push(bytes.subarray(0, 3));
    await tick();
    assert.deepEqual(handled, []);
    wire.push(bytes.subarray(3));
    assert.deepEqual(wire.written, ['HELLO']);
  });

  it('handles the next frame only once the previous reply is written', async () => {
    wire.hold = true;
    wire.push(Buffer.concat([frame('a'), frame('b')]));
    assert.deepEqual(handled, ['a']);
    await tick();
    assert.deepEqual(handled, ['a']);
    wire.release();
    await tick();
    assert.deepEqual(handled, ['a', 'b']);
    assert.deepEqual(wire.written, ['A', 'B']);
  });

  it('ends with eof at a frame boundary and truncated inside a frame', async () => {
    wire.push(frame('a'));
    wire.push(null);
    assert.equal(await loop.ended, 'eof');
    const other = new Wire();
    const cut = new FrameLoop(other, parse, () => ({ next: 'continue' }));
    other.push(frame('abc').subarray(0, 2));
    other.push(null);
    assert.equal(await cut.ended, 'truncated');
  });

  it('ends with the outcome that is not continue, leaving later frames alone', async () => {
    next = (body) => (body === 'bye' ? 'close' : 'continue');
    wire.push(Buffer.concat([frame('a'), frame('bye'), frame('b')]));
    assert.equal(await loop.ended, 'close');
    assert.deepEqual(handled, ['a', 'bye']);
    assert.deepEqual(wire.written, ['A', 'BYE']);
  });

  it('rejects with what a handler throws', async () => {
    wire.push(Buffer.concat([frame('throw'), frame('b')]));
    await assert.rejects(loop.ended, /handler failed/);
    assert.deepEqual(handled, ['throw']);
  });
});
