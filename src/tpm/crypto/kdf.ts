import { createHash, createHmac } from 'node:crypto';
import type { TPM_ALG_ID } from '../spec/constants.js';
import { nulTerminated, u32be } from './bytes.js';
import { bytesOf, requireHashAlg } from './hash.js';

/**
 * Runs a counter-mode KDF: concatenates block(1), block(2), ... until `bits` are covered, then
 * truncates to ceil(bits / 8) octets and, when `bits` is not a multiple of 8, clears the unused
 * high bits of the first octet (the output is a big-endian number of `bits` bits).
 */
function counterMode(digestSize: number, bits: number, block: (counter: Uint8Array) => Uint8Array, firstCounter = 1): Uint8Array {
  if (!Number.isInteger(bits) || bits < 0 || bits > 0xffffffff) throw new RangeError(`invalid KDF output size ${bits}`);
  const out = new Uint8Array(Math.ceil(bits / 8));
  for (let i = firstCounter, at = 0; at < out.length; i++, at += digestSize) {
    out.set(block(u32be(i)).subarray(0, out.length - at), at);
  }
  if (bits % 8 !== 0) out[0] = out[0]! & ((1 << bits % 8) - 1);
  return out;
}

/**
 * KDFa, TPM 2.0 Part 1 §11.4.10.2: SP800-108 counter-mode KDF with HMAC.
 * K(i) = HMAC(key, [i]32 || label || 00 || contextU || contextV || [bits]32), i = 1, 2, ...
 * `firstCounter` continues a stream in steps of `bits` (the reference's counterInOut).
 */
export function kdfa(
  hashAlg: TPM_ALG_ID,
  key: Uint8Array,
  label: string,
  contextU: Uint8Array,
  contextV: Uint8Array,
  bits: number,
  firstCounter = 1,
): Uint8Array {
  const { name: nodeName, digestSize } = requireHashAlg(hashAlg);
  const labelBytes = nulTerminated(label);
  return counterMode(digestSize, bits, (counter) => {
    const h = createHmac(nodeName, key);
    for (const part of [counter, labelBytes, contextU, contextV, u32be(bits)]) h.update(part);
    return bytesOf(h.digest());
  }, firstCounter);
}

/**
 * KDFe, TPM 2.0 Part 1 §11.4.10.3: SP800-56A concatenation KDF.
 * K(i) = H([i]32 || Z || label || 00 || partyUInfo || partyVInfo), i = 1, 2, ...
 */
export function kdfe(
  hashAlg: TPM_ALG_ID,
  z: Uint8Array,
  label: string,
  partyUInfo: Uint8Array,
  partyVInfo: Uint8Array,
  bits: number,
): Uint8Array {
  const { name: nodeName, digestSize } = requireHashAlg(hashAlg);
  const labelBytes = nulTerminated(label);
  return counterMode(digestSize, bits, (counter) => {
    const h = createHash(nodeName);
    for (const part of [counter, z, labelBytes, partyUInfo, partyVInfo]) h.update(part);
    return bytesOf(h.digest());
  });
}

/**
 * A deterministic byte stream from KDFa's blocks, for key derivation whose length is not known in
 * advance (prime search): block i = HMAC(key, [i]32 || label || 00 || contextU || contextV || [0]32).
 * The length field is zero because the stream is open-ended; see docs/objects.md.
 */
export function kdfaStream(hashAlg: TPM_ALG_ID, key: Uint8Array, label: string, contextU: Uint8Array, contextV: Uint8Array): (n: number) => Uint8Array {
  const { name: nodeName } = requireHashAlg(hashAlg);
  const labelBytes = nulTerminated(label);
  let counter = 0;
  let pending: Uint8Array = new Uint8Array(0);
  return (n) => {
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      if (pending.length === 0) {
        const h = createHmac(nodeName, key);
        for (const part of [u32be(++counter), labelBytes, contextU, contextV, u32be(0)]) h.update(part);
        pending = bytesOf(h.digest());
      }
      const take = Math.min(pending.length, n - at);
      out.set(pending.subarray(0, take), at);
      pending = pending.subarray(take);
      at += take;
    }
    return out;
  };
}
