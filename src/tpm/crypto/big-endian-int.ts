/** Unsigned big-endian octet strings as BigInt (JavaScript's native bignum) and back. */
export function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt('0x' + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex'));
}

/** The value as exactly `size` octets (size 0: as few as it needs). */
export function fromBigInt(v: bigint, size = 0): Uint8Array {
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  const raw = Buffer.from(hex, 'hex');
  if (size === 0 || raw.length === size) return new Uint8Array(raw);
  if (raw.length > size) throw new RangeError('integer too large');
  const out = new Uint8Array(size);
  out.set(raw, size - raw.length);
  return out;
}

/** An unsigned integer's octets at exactly `size` (leading zeros added or dropped). */
export const leftPad = (b: Uint8Array, size: number): Uint8Array => fromBigInt(toBigInt(b), size);

/** a^-1 mod m (extended Euclid); a and m coprime. */
export function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1] = [((a % m) + m) % m, m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new RangeError('not invertible');
  return ((s0 % m) + m) % m;
}

export const base64url = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
