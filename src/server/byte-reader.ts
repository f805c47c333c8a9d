import type { Readable } from 'node:stream';

/** Why a read returned no bytes: the stream ended first, or the deadline passed. */
export type ReadStop = 'end' | 'timeout';

/**
 * Turns a byte stream into exact-length reads. Wire protocols are length-prefixed while TCP and
 * pipes deliver arbitrary segments: a prefix and its body may arrive apart, or several frames at
 * once, so protocol code asks for "n bytes" and never looks at segment boundaries.
 */
export class ByteReader {
  private chunks: Buffer[] = [];
  private size = 0;
  private ended = false;
  private wake: (() => void) | undefined;
  /** Bytes ever received; lets swtpm tell an empty connection from a used one. */
  received = 0;

  /** @param highWater pause the source while this many bytes wait unread and nobody is reading */
  constructor(private readonly source: Readable, private readonly highWater = 4 << 20) {
    source.on('data', (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      this.chunks.push(bytes);
      this.size += bytes.length;
      this.received += bytes.length;
      if (!this.wake && this.size >= this.highWater) source.pause();
      this.notify();
    });
    const finish = (): void => {
      this.ended = true;
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

  /**
   * Exactly n bytes, or why not. deadline is an absolute Date.now() value; without it the read
   * waits as long as the stream stays open.
   */
  async read(n: number, deadline?: number): Promise<Buffer | ReadStop> {
    while (this.size < n) {
      if (this.ended) return 'end';
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
      if (this.ended) return false;
      await this.more();
    }
    return true;
  }

  /** Consumes and returns everything buffered. */
  takeAll(): Buffer {
    return this.take(this.size);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.size = rest.length;
    return out;
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
