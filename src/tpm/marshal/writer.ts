/** Growable big-endian output buffer. */
export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  private len = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  get length(): number {
    return this.len;
  }

  /** Start over, keeping the buffer (a Writer reused per command spares an allocation). */
  reset(): this {
    this.len = 0;
    return this;
  }

  private grow(n: number): number {
    if (this.len + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    const at = this.len;
    this.len += n;
    return at;
  }
  u8(v: number): this {
    const at = this.grow(1);
    this.buf[at] = v;
    return this;
  }
  // grow() first: it may replace this.view, which must not be read before it.
  u16(v: number): this {
    const at = this.grow(2);
    this.view.setUint16(at, v);
    return this;
  }
  u32(v: number): this {
    const at = this.grow(4);
    this.view.setUint32(at, v >>> 0);
    return this;
  }
  u64(v: bigint): this {
    const at = this.grow(8);
    this.view.setBigUint64(at, v);
    return this;
  }
  bytes(b: Uint8Array): this {
    const at = this.grow(b.length);
    this.buf.set(b, at);
    return this;
  }
  /** Overwrite a u32 written earlier (sizes known only afterwards). */
  patchU32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0);
  }
  patchU16(at: number, v: number): void {
    this.view.setUint16(at, v);
  }
  /** The bytes written since `from`, as a view; later writes do not change what it shows. */
  since(from: number): Uint8Array {
    return this.buf.subarray(from, this.len);
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
