/**
 * Bounds-checked little-endian reading and writing of event-log bytes (TCG logs are little-endian
 * and packed; src/tpm/marshal is big-endian). One reader walks a whole log, so parsing allocates
 * nothing per field; byte fields are views into the input, never copies.
 */

/**
 * A record the parser cannot accept. `truncated`: the data ends inside the record (a torn append).
 * `malformed`: a field holds an impossible value; `fieldOffset` is where that field starts.
 */
export class EventLogError extends Error {
  constructor(
    readonly kind: 'truncated' | 'malformed',
    readonly offset: number,
    readonly fieldOffset: number,
    reason: string,
  ) {
    super(`CC event log: ${kind} record at offset ${offset}: ${reason}`);
    this.name = 'EventLogError';
  }
}

export class LeReader {
  private readonly view: DataView;
  /** Start of the record being read: errors name it. */
  recordOffset = 0;

  constructor(
    readonly bytes: Uint8Array,
    public pos = 0,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  beginRecord(): void {
    this.recordOffset = this.pos;
  }

  malformed(fieldOffset: number, reason: string): EventLogError {
    return new EventLogError('malformed', this.recordOffset, fieldOffset, reason);
  }

  u8(field: string): number {
    this.need(1, field);
    return this.view.getUint8(this.pos++);
  }

  u16(field: string): number {
    this.need(2, field);
    const value = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return value;
  }

  u32(field: string): number {
    this.need(4, field);
    const value = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return value;
  }

  take(length: number, field: string): Uint8Array {
    this.need(length, field);
    const out = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  private need(length: number, field: string): void {
    if (length > this.remaining) {
      throw new EventLogError('truncated', this.recordOffset, this.pos, `${field} needs ${length} bytes at offset ${this.pos}, ${this.remaining} left`);
    }
  }
}

/** The bytes of a TCG log as a plain Uint8Array view (a Buffer's subarrays would be Buffers). */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Little-endian writer over a buffer sized in advance by the encoder: a new one, or the first
 * `size` bytes of `into` when the caller reuses a scratch buffer (allocating the backing store is
 * most of an encode's cost on a hot path).
 */
export class LeWriter {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private pos = 0;

  constructor(size: number, into?: Uint8Array) {
    if (into && into.length < size) throw new RangeError(`encoder needs ${size} bytes, the buffer has ${into.length}`);
    this.bytes = into ? into.subarray(0, size) : new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, size);
  }

  u8(value: number): void {
    this.view.setUint8(this.pos++, value);
  }

  u16(value: number): void {
    this.view.setUint16(this.pos, value, true);
    this.pos += 2;
  }

  u32(value: number): void {
    this.view.setUint32(this.pos, value, true);
    this.pos += 4;
  }

  put(data: Uint8Array): void {
    this.bytes.set(data, this.pos);
    this.pos += data.length;
  }

  /** `n` zero bytes (a reused buffer holds the last encoding's bytes there). */
  zeros(n: number): void {
    this.bytes.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }

  /** The encoded bytes; throws if the precomputed size was wrong (an encoder bug). */
  done(): Uint8Array {
    if (this.pos !== this.bytes.length) throw new Error(`event-log encoder wrote ${this.pos} of ${this.bytes.length} bytes`);
    return this.bytes;
  }
}

/** Throws a RangeError naming `field` unless `value` is an integer in [0, 2^bits). */
export function checkUint(value: number, bits: 8 | 16 | 32, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    throw new RangeError(`${field} must be an unsigned ${bits}-bit integer, got ${value}`);
  }
}

/** A buffer an encoder on a hot path reuses; what `fit` hands out is overwritten by the next encode. */
export class ScratchBuffer {
  private bytes = new Uint8Array(256);

  /** At least `size` bytes. */
  fit(size: number): Uint8Array {
    if (this.bytes.length < size) this.bytes = new Uint8Array(Math.max(size, 2 * this.bytes.length));
    return this.bytes;
  }
}
