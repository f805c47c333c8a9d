import { TPM_RC, TpmError } from '../spec/tpm-rc.js';

/** Big-endian cursor over a command buffer; running short is TPM_RC_INSUFFICIENT, as Part 1 §39 asks. */
export class Reader {
  private offset = 0;
  constructor(readonly buf: Uint8Array, private end = buf.length) {}

  get position(): number {
    return this.offset;
  }
  get remaining(): number {
    return this.end - this.offset;
  }

  private need(n: number): number {
    if (this.end - this.offset < n) throw new TpmError(TPM_RC.INSUFFICIENT);
    const at = this.offset;
    this.offset += n;
    return at;
  }
  u8(): number {
    return this.buf[this.need(1)]!;
  }
  u16(): number {
    const at = this.need(2);
    return (this.buf[at]! << 8) | this.buf[at + 1]!;
  }
  u32(): number {
    const at = this.need(4);
    return ((this.buf[at]! << 24) | (this.buf[at + 1]! << 16) | (this.buf[at + 2]! << 8) | this.buf[at + 3]!) >>> 0;
  }
  u64(): bigint {
    const hi = BigInt(this.u32());
    return (hi << 32n) | BigInt(this.u32());
  }
  bytes(n: number): Uint8Array {
    const at = this.need(n);
    return this.buf.subarray(at, at + n);
  }
  /** A reader over the next n bytes; this reader skips them. */
  sub(n: number): Reader {
    const at = this.need(n);
    const r = new Reader(this.buf, at + n);
    r.offset = at;
    return r;
  }
}
