/**
 * d * Q with both coordinates, for ECDH_KeyGen and ECDH_ZGen, without BigInt arithmetic on the
 * secret d: node's ECDH (OpenSSL) computes x(d * Q) and x((d + 1) * Q); y is one of the two roots
 * that decompressing x gives, and only the right one satisfies x(candidate + Q) = x((d + 1) * Q).
 * That check adds public values (the result and the input point) only.
 */
import { ECDH, createECDH } from 'node:crypto';
import type { EccCurve } from '../capability/ecc-curves.js';
import { fromBigInt, leftPad, toBigInt } from './big-endian-int.js';
import { eccCoordinateBytes } from './ecc.js';
import { pointAdd, type Point } from './ecc-point.js';

export interface AffinePoint {
  x: Uint8Array;
  y: Uint8Array;
}

/** x(k * Q) by node's ECDH; an invalid Q throws (the caller's TPM_RC_ECC_POINT). */
function sharedX(curve: EccCurve, k: bigint, encodedQ: Buffer): Buffer {
  const ecdh = createECDH(curve.nodeName);
  ecdh.setPrivateKey(fromBigInt(k, eccCoordinateBytes(curve)));
  return ecdh.computeSecret(encodedQ);
}

const decompressed = (curve: EccCurve, x: Buffer, prefix: number): Point => {
  const size = eccCoordinateBytes(curve);
  const full = ECDH.convertKey(Buffer.concat([Buffer.of(prefix), x]), curve.nodeName, undefined, undefined, 'uncompressed') as Buffer;
  return { x: toBigInt(full.subarray(1, 1 + size)), y: toBigInt(full.subarray(1 + size)) };
};

/** d * Q for d in [1, order - 1] and Q on the curve. */
export function ecdhPoint(curve: EccCurve, d: Uint8Array, q: AffinePoint): AffinePoint {
  const size = eccCoordinateBytes(curve);
  const pad = (b: Uint8Array): Buffer => Buffer.from(leftPad(b, size));
  const encodedQ = Buffer.concat([Buffer.of(4), pad(q.x), pad(q.y)]);
  const Q: Point = { x: toBigInt(q.x), y: toBigInt(q.y) };
  const dn = toBigInt(d);
  const x = sharedX(curve, dn, encodedQ);
  // d = order - 1: d * Q = -Q, and (d + 1) * Q is the point at infinity.
  if (dn + 1n === curve.order) return { x: pad(q.x), y: fromBigInt(curve.prime - Q!.y, size) };
  const next = toBigInt(sharedX(curve, dn + 1n, encodedQ));
  for (const prefix of [2, 3]) {
    const candidate = decompressed(curve, x, prefix);
    if (pointAdd(curve, candidate, Q)?.x === next) return { x: Buffer.from(x), y: fromBigInt(candidate!.y, size) };
  }
  throw new RangeError('no point matches');
}
