/**
 * ECDSA of a digest the caller already computed (SEC 1 §4.1, FIPS 186-4 §6.4). node:crypto signs
 * and verifies messages only (it hashes them first, also with a null algorithm, which means
 * SHA-256), so the scheme is written here: node multiplies the generator (the step that involves
 * the nonce), BigInt does the arithmetic modulo the order and, for verification, the point sum
 * u1 * G + u2 * Q (ecc-point.ts).
 */
import type { EccCurve } from '../capability/ecc-curves.js';
import { fromBigInt, modInverse, toBigInt } from './big-endian-int.js';
import { eccCoordinateBytes } from './ecc.js';
import { baseMultiply, pointAdd, pointMultiply } from './ecc-point.js';

export interface EcdsaSignature {
  r: Uint8Array;
  s: Uint8Array;
}

/** The digest as an integer of at most the order's bit length (its leftmost bits). */
function digestInteger(curve: EccCurve, digest: Uint8Array): bigint {
  const excess = digest.length * 8 - curve.order.toString(2).length;
  return excess > 0 ? toBigInt(digest) >> BigInt(excess) : toBigInt(digest);
}

/** A signature with the private scalar d; the nonce comes from `rng`. */
export function ecdsaSign(curve: EccCurve, d: Uint8Array, digest: Uint8Array, rng: (n: number) => Uint8Array): EcdsaSignature {
  const n = curve.order;
  const e = digestInteger(curve, digest);
  const size = eccCoordinateBytes(curve);
  for (;;) {
    const k = (toBigInt(rng(size + 8)) % (n - 1n)) + 1n;
    const r = baseMultiply(curve, k)!.x % n;
    if (r === 0n) continue;
    const s = (modInverse(k, n) * (e + r * toBigInt(d))) % n;
    if (s === 0n) continue;
    return { r: fromBigInt(r, size), s: fromBigInt(s, size) };
  }
}

/** Verification against the public point (x, y), which the caller has checked is on the curve. */
export function ecdsaVerify(curve: EccCurve, x: Uint8Array, y: Uint8Array, digest: Uint8Array, sig: EcdsaSignature): boolean {
  const n = curve.order;
  const r = toBigInt(sig.r);
  const s = toBigInt(sig.s);
  if (r <= 0n || r >= n || s <= 0n || s >= n) return false;
  const w = modInverse(s, n);
  const u1 = (digestInteger(curve, digest) * w) % n;
  const u2 = (r * w) % n;
  const R = pointAdd(curve, u1 === 0n ? null : baseMultiply(curve, u1), pointMultiply(curve, { x: toBigInt(x), y: toBigInt(y) }, u2));
  return R !== null && R.x % n === r;
}
