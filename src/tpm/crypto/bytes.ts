/** Big-endian u32, the width of TPM_CC, TPM_RC and the KDF counters. */
export function u32be(value: number): Uint8Array {
  // Byte by byte: a DataView per call would cost more than the hash it feeds.
  return Uint8Array.of(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
}

/** Big-endian u16, the width of TPM_ST and TPM_ALG_ID. */
export function u16be(value: number): Uint8Array {
  return Uint8Array.of((value >>> 8) & 0xff, value & 0xff);
}

/** Big-endian u64 (TPMS_TIME_INFO fields, context sequence numbers). */
export function u64be(value: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, value);
  return b;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The label as the KDFs hash it: ASCII with one terminating NUL (Part 1 §11.4.10). */
export function nulTerminated(label: string): Uint8Array {
  return concatBytes(new TextEncoder().encode(label), new Uint8Array(1));
}

/** Byte equality for values that are not secret (register values, digests in a public log). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Lower-case hex of the bytes (a view, no copy). */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** True for a non-empty run of hex byte pairs, either case. */
export function isHexBytes(text: string): boolean {
  return /^([0-9a-f]{2})+$/i.test(text);
}
