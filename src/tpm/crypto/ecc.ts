/**
 * ECC keys as the TPM keeps them (private scalar d, public point x, y) and as node:crypto uses them.
 * Key generation takes its randomness from a byte source (FIPS 186-4 B.4.1: extra bits, then
 * reduction into [1, n - 1]), so a primary derived from a seed stream is the same every time.
 */
import { createECDH, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { EccCurve } from '../capability/ecc-curves.js';
import { base64url, fromBigInt, leftPad, toBigInt } from './big-endian-int.js';

export interface EccKeyMaterial {
  d: Uint8Array;
  x: Uint8Array;
  y: Uint8Array;
}

export const eccCoordinateBytes = (curve: EccCurve): number => Math.ceil(curve.keyBits / 8);

/** The public point of a private scalar. */
export function eccPublicPoint(curve: EccCurve, d: Uint8Array): { x: Uint8Array; y: Uint8Array } {
  const size = eccCoordinateBytes(curve);
  const ecdh = createECDH(curve.nodeName);
  ecdh.setPrivateKey(leftPad(d, size));
  const point = ecdh.getPublicKey();
  return { x: new Uint8Array(point.subarray(1, 1 + size)), y: new Uint8Array(point.subarray(1 + size)) };
}

export function generateEccKey(curve: EccCurve, rng: (n: number) => Uint8Array): EccKeyMaterial {
  const size = eccCoordinateBytes(curve);
  const c = toBigInt(rng(size + 8));
  const d = fromBigInt((c % (curve.order - 1n)) + 1n, size);
  return { d, ...eccPublicPoint(curve, d) };
}


export function eccPrivateKey(curve: EccCurve, d: Uint8Array, x: Uint8Array, y: Uint8Array): KeyObject {
  const size = eccCoordinateBytes(curve);
  return createPrivateKey({
    key: { kty: 'EC', crv: curve.jwkName, d: base64url(leftPad(d, size)), x: base64url(leftPad(x, size)), y: base64url(leftPad(y, size)) },
    format: 'jwk',
  });
}

/** A public key from a point; a point not on the curve is a RangeError (the caller's TPM_RC_ECC_POINT). */
export function eccPublicKey(curve: EccCurve, x: Uint8Array, y: Uint8Array): KeyObject {
  const size = eccCoordinateBytes(curve);
  if (x.length > size || y.length > size) throw new RangeError('coordinate too large');
  try {
    return createPublicKey({ key: { kty: 'EC', crv: curve.jwkName, x: base64url(leftPad(x, size)), y: base64url(leftPad(y, size)) }, format: 'jwk' });
  } catch {
    throw new RangeError('point not on curve');
  }
}

/** Whether (x, y) is a point of the curve (the reference's CryptEccIsPointOnCurve). */
export function isPointOnCurve(curve: EccCurve, point: { x: Uint8Array; y: Uint8Array }): boolean {
  try {
    eccPublicKey(curve, point.x, point.y);
    return true;
  } catch {
    return false;
  }
}

export interface EccDomain {
  p: Uint8Array;
  a: Uint8Array;
  b: Uint8Array;
  gX: Uint8Array;
  gY: Uint8Array;
  n: Uint8Array;
}

const domains = new Map<number, EccDomain>();

/**
 * The domain parameters of a NIST curve (a = -3): p and n from the curve table, G from node's ECDH
 * with the private key 1, and b = y^2 - x^3 + 3x at G.
 */
export function eccDomain(curve: EccCurve): EccDomain {
  let domain = domains.get(curve.curveID);
  if (domain) return domain;
  const size = eccCoordinateBytes(curve);
  const g = eccPublicPoint(curve, Uint8Array.of(1));
  const p = curve.prime;
  const x = toBigInt(g.x);
  const y = toBigInt(g.y);
  const b = (((y * y - x * x * x + 3n * x) % p) + p) % p;
  domain = { p: fromBigInt(p, size), a: fromBigInt(p - 3n, size), b: fromBigInt(b, size), gX: g.x, gY: g.y, n: fromBigInt(curve.order, size) };
  domains.set(curve.curveID, domain);
  return domain;
}
