/**
 * Points of the NIST prime curves in affine coordinates over BigInt, for what node:crypto does not
 * expose: the sum of two points (ECDSA verification of a digest, choosing the y of an ECDH result).
 * The curves' a is -3. Not constant time, so it only ever sees public values; products with a
 * secret scalar are node's (baseMultiply, ecdh-point.ts).
 */
import { createECDH } from 'node:crypto';
import type { EccCurve } from '../capability/ecc-curves.js';
import { fromBigInt, modInverse, toBigInt } from './big-endian-int.js';
import { eccCoordinateBytes } from './ecc.js';

/** A point; null is the point at infinity. */
export type Point = { x: bigint; y: bigint } | null;

const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m;

export function pointAdd(curve: EccCurve, P: Point, Q: Point): Point {
  if (!P) return Q;
  if (!Q) return P;
  const p = curve.prime;
  let slope: bigint;
  if (P.x === Q.x) {
    if (mod(P.y + Q.y, p) === 0n) return null;
    slope = mod((3n * P.x * P.x - 3n) * modInverse(2n * P.y, p), p);
  } else {
    slope = mod((Q.y - P.y) * modInverse(Q.x - P.x, p), p);
  }
  const x = mod(slope * slope - P.x - Q.x, p);
  return { x, y: mod(slope * (P.x - x) - P.y, p) };
}

/** k * P by double-and-add. */
export function pointMultiply(curve: EccCurve, P: Point, k: bigint): Point {
  let R: Point = null;
  for (let bit = BigInt(k.toString(2).length - 1); bit >= 0n; bit--) {
    R = pointAdd(curve, R, R);
    if ((k >> bit) & 1n) R = pointAdd(curve, R, P);
  }
  return R;
}

/** k * G, computed by node:crypto (k in [1, order - 1]). */
export function baseMultiply(curve: EccCurve, k: bigint): Point {
  const size = eccCoordinateBytes(curve);
  const ecdh = createECDH(curve.nodeName);
  ecdh.setPrivateKey(fromBigInt(k, size));
  const encoded = ecdh.getPublicKey();
  return { x: toBigInt(encoded.subarray(1, 1 + size)), y: toBigInt(encoded.subarray(1 + size)) };
}
