/**
 * P-256 arithmetic of the tests' own (FIPS 186-4 D.1.2.3, a = -3), independent of the engine's,
 * to check the points and scalars of Commit, ZGen_2Phase and ECDAA signatures; node's ECDH makes
 * the key pairs of party B.
 */
import { createECDH, createHash, randomBytes } from 'node:crypto';
import { tpm2b } from './tpm-wire.js';

export const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
export const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;

/** A point; null is the point at infinity (and, in a TPM2B_ECC_POINT, empty coordinates). */
export type Pt = { x: bigint; y: bigint } | null;
export const G: Pt = { x: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n, y: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n };

export const mod = (a: bigint, m = P): bigint => ((a % m) + m) % m;
function power(base: bigint, e: bigint): bigint {
  let r = 1n;
  for (let b = mod(base); e > 0n; e >>= 1n, b = (b * b) % P) if (e & 1n) r = (r * b) % P;
  return r;
}
const inverse = (a: bigint): bigint => power(a, P - 2n);

export function add(p: Pt, q: Pt): Pt {
  if (!p) return q;
  if (!q) return p;
  if (p.x === q.x && mod(p.y + q.y) === 0n) return null;
  const l = p.x === q.x ? mod((3n * p.x * p.x - 3n) * inverse(2n * p.y)) : mod((q.y - p.y) * inverse(q.x - p.x));
  const x = mod(l * l - p.x - q.x);
  return { x, y: mod(l * (p.x - x) - p.y) };
}

export function mul(k: bigint, p: Pt): Pt {
  let r: Pt = null;
  for (let a = p, e = k; e > 0n; e >>= 1n, a = add(a, a)) if (e & 1n) r = add(r, a);
  return r;
}

export const isOnCurve = (p: Pt): boolean => p !== null && mod(p.y * p.y) === mod(p.x * p.x * p.x - 3n * p.x + B);
export const samePoint = (p: Pt, q: Pt): boolean => p !== null && q !== null && p.x === q.x && p.y === q.y;

export const big = (b: Uint8Array): bigint => (b.length ? BigInt(`0x${Buffer.from(b).toString('hex')}`) : 0n);
export const bytes32 = (v: bigint): Buffer => Buffer.from(v.toString(16).padStart(64, '0'), 'hex');

/** TPM2B_ECC_POINT (as the tools read and write it too); null gives empty coordinates. */
export const pointBytes = (p: Pt): Buffer =>
  tpm2b(Buffer.concat([tpm2b(p ? bytes32(p.x) : Buffer.alloc(0)), tpm2b(p ? bytes32(p.y) : Buffer.alloc(0))]));

/** TPMS_ECC_POINT at `at`; empty coordinates are null. */
export function eccPointAt(buf: Buffer, at: number): Pt {
  const xSize = buf.readUInt16BE(at);
  const x = buf.subarray(at + 2, at + 2 + xSize);
  const y = buf.subarray(at + 4 + xSize, at + 4 + xSize + buf.readUInt16BE(at + 2 + xSize));
  return x.length + y.length === 0 ? null : { x: big(x), y: big(y) };
}

/** TPM2B_ECC_POINT at `at`, and the offset after it. */
export const parsePoint = (buf: Buffer, at = 0): { point: Pt; end: number } => ({ point: eccPointAt(buf, at + 2), end: at + 2 + buf.readUInt16BE(at) });

/** A key pair of node's ECDH as scalar and point. */
export function nodeKey(): { d: bigint; Q: Pt } {
  const ecdh = createECDH('prime256v1');
  const pub = ecdh.generateKeys();
  return { d: big(ecdh.getPrivateKey()), Q: { x: big(pub.subarray(1, 33)), y: big(pub.subarray(33)) } };
}

/** Commit's P2 = (H_SHA256(s2) mod p, y2) on the curve, for some s2. */
export function p2Input(): { s2: Buffer; P2: { x: bigint; y: bigint } } {
  for (;;) {
    const s2 = randomBytes(20);
    const x = mod(big(createHash('sha256').update(s2).digest()));
    const y = power(mod(x * x * x - 3n * x + B), (P + 1n) / 4n);
    if (isOnCurve({ x, y })) return { s2, P2: { x, y } };
  }
}

/** The verifier's check of an ECDAA signature (k, s) over `digest` with E = [r]G of its Commit: s G = E + H(k || digest) Q. */
export function ecdaaVerifies(k: Uint8Array, s: bigint, digest: Uint8Array, E: Pt, Q: Pt): boolean {
  const T = mod(big(createHash('sha256').update(k).update(digest).digest()), N);
  return samePoint(mul(s, G), add(E, mul(T, Q)));
}
