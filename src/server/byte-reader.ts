import type { Readable } from 'node:stream';
import type { FrameParser } from './framing.js';

/** Why a read returned no bytes: the stream ended first, or the deadline passed. */
export type ReadStop = 'end' | 'timeout';

/**
 * Turns a byte stream into exact-length reads or whole frames. Wire protocols are length-prefixed
 * while TCP and pipes deliver arbitrary segments: a prefix and its body may arrive apart, or several
 * frames at once, so protocol code asks for "n bytes" or "the next frame" and never looks at
 * segment boundaries.
 */
export class ByteReader {
  private chunks: Buffer[] = [];
  private size = 0;
  private finished = false;
  private wake: (() => void) | undefined;
  /** What the last frame() call found missing: bytes to buffer before parsing again. */
  private need = 0;
  /** Bytes ever received; lets swtpm tell an empty connection from a used one. */
  received = 0;

  /**
   * @param highWater pause the source while this many bytes wait unread and nobody is reading
   * @param onChange called synchronously after each chunk and at the end of the stream, for a
   *   consumer that takes frames inside the source's callbacks (see FrameLoop)
   */
  constructor(
    private readonly source: Readable,
    private readonly highWater = 4 << 20,
    private readonly onChange?: () => void,
  ) {
    source.on('data', (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      this.chunks.push(bytes);
      this.size += bytes.length;
      this.received += bytes.length;
      this.onChange?.();
      if (!this.wake && this.size >= this.need && this.size >= this.highWater) source.pause();
      this.notify();
    });
    const finish = (): void => {
      this.finished = true;
      this.onChange?.();
      this.notify();
    };
    source.on('end', finish);
    source.on('close', finish);
    source.on('error', finish);
  }

  /** Bytes already received and not yet consumed. */
  get buffered(): number {
    return this.size;
  }

  /** The stream has ended (or failed): what is buffered is all there will be. */
  get ended(): boolean {
    return this.finished;
  }

  /**
   * The next frame, consumed; undefined while its bytes are still missing (the source then flows).
   * Parsing waits until as many bytes are buffered as the parser last asked for, so a large frame
   * arriving in many segments is parsed (and its segments joined) once.
   */
  frame<F>(parse: FrameParser<F>): F | undefined {
    if (this.size > 0 && this.size >= this.need) {
      const parsed = parse(this.contiguous());
      if ('frame' in parsed) {
        this.take(parsed.length);
        return parsed.frame;
      }
      this.need = parsed.need;
    }
    if (this.source.isPaused()) this.source.resume();
    return undefined;
  }

  /** The next frame, waiting for its bytes; 'end' if the stream ends first. */
  async nextFrame<F>(parse: FrameParser<F>): Promise<F | 'end'> {
    for (;;) {
      const frame = this.frame(parse);
      if (frame !== undefined) return frame;
      if (this.finished) return 'end';
      await this.more();
    }
  }

  /**
   * Exactly n bytes, or why not. deadline is an absolute Date.now() value; without it the read
   * waits as long as the stream stays open.
   */
  async read(n: number, deadline?: number): Promise<Buffer | ReadStop> {
    while (this.size < n) {
      if (this.finished) return 'end';
      if (!(await this.more(deadline))) return 'timeout';
    }
    return this.take(n);
  }

  /** A big-endian u32, or why not. */
  async readU32(deadline?: number): Promise<number | ReadStop> {
    const bytes = await this.read(4, deadline);
    return typeof bytes === 'string' ? bytes : bytes.readUInt32BE(0);
  }

  /** Resolves true once at least one byte is buffered, false if the stream ends first. */
  async waitForData(): Promise<boolean> {
    while (this.size === 0) {
      if (this.finished) return false;
      await this.more();
    }
    return true;
  }

  /** Consumes and returns everything buffered. */
  takeAll(): Buffer {
    return this.take(this.size);
  }

  private take(n: number): Buffer {
    const all = this.contiguous();
    this.size -= n;
    this.need = 0;
    this.chunks = this.size > 0 ? [all.subarray(n)] : [];
    return n === all.length ? all : all.subarray(0, n);
  }

  /** Everything buffered as one buffer (joined once, then kept joined). */
  private contiguous(): Buffer {
    if (this.chunks.length === 1) return this.chunks[0]!;
    const all = Buffer.concat(this.chunks, this.size);
    this.chunks = all.length > 0 ? [all] : [];
    return all;
  }

  /** Waits for the next data or end event; false if the deadline passed first. */
  private more(deadline?: number): Promise<boolean> {
    if (this.source.isPaused()) this.source.resume();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      this.wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      if (deadline !== undefined) {
        timer = setTimeout(() => {
          this.wake = undefined;
          resolve(false);
        }, Math.max(0, deadline - Date.now()));
      }
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
