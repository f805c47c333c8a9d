/**
 * Two-phase EC key exchanges (the reference's CryptEcc2PhaseKeyExchange) with static key dsA and
 * ephemeral key deA of party A against party B's public QsB and QeB, all on one curve. Points are
 * multiplied by secret scalars only in node's ECDH (ecdhPoint); MQV and SM2 first combine the two
 * secret scalars mod n in BigInt, which is not constant time (as the ECDSA of ecdsa.ts).
 */
import { TPM_ALG } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import type { EccCurve } from '../capability/ecc-curves.js';
import { fromBigInt, toBigInt } from './big-endian-int.js';
import { eccCoordinateBytes, eccPublicPoint } from './ecc.js';
import { ecdhPoint, type AffinePoint } from './ecdh-point.js';
import { pointAdd, pointMultiply, type Point } from './ecc-point.js';

export interface TwoPhaseResult {
  z1: AffinePoint;
  /** Empty coordinates for the schemes with one result. */
  z2: AffinePoint;
}

type KeyExchange = (curve: EccCurve, dsA: Uint8Array, deA: Uint8Array, QsB: AffinePoint, QeB: AffinePoint) => TwoPhaseResult;

const EMPTY: AffinePoint = { x: new Uint8Array(0), y: new Uint8Array(0) };
const bitLength = (v: bigint): number => v.toString(2).length;
const toPoint = (p: AffinePoint): Point => ({ x: toBigInt(p.x), y: toBigInt(p.y) });

/** An associate value: 2^w + (x mod 2^w). */
const associate = (x: Uint8Array, w: number): bigint => (1n << BigInt(w)) + (toBigInt(x) & ((1n << BigInt(w)) - 1n));

/**
 * [t](P + [a]Q) for the secret t = (u + a' v) mod n, where only t is secret: the public point is
 * combined in BigInt, the product taken by node. A zero t or a sum at infinity is TPM_RC_NO_RESULT.
 */
function combined(curve: EccCurve, t: bigint, P: AffinePoint, a: bigint, Q: AffinePoint): AffinePoint {
  const sum = pointAdd(curve, toPoint(P), pointMultiply(curve, toPoint(Q), a));
  if (t === 0n || !sum) throw new TpmError(TPM_RC.NO_RESULT);
  const size = eccCoordinateBytes(curve);
  return ecdhPoint(curve, fromBigInt(t, size), { x: fromBigInt(sum.x, size), y: fromBigInt(sum.y, size) });
}

const KEY_EXCHANGES: Partial<Record<number, KeyExchange>> = {
  // SP800-56A §6.1.1.2 Full Unified Model, C(2e, 2s, ECC CDH): Zs = [dsA]QsB, Ze = [deA]QeB.
  [TPM_ALG.ECDH]: (curve, dsA, deA, QsB, QeB) => ({ z1: ecdhPoint(curve, dsA, QsB), z2: ecdhPoint(curve, deA, QeB) }),
  // SP800-56A §6.1.1.4 Full MQV, C(2e, 2s, ECC MQV), cofactor 1: avf(Q) = 2^ceil(f/2) + (xQ mod
  // 2^ceil(f/2)) with f the bit length of n; implicitsigA = deA + avf(QeA) dsA; Z = [implicitsigA](QeB + [avf(QeB)]QsB).
  // (libtpms 0.9.2 never sets the order it reduces by and goes into failure mode.)
  [TPM_ALG.ECMQV]: (curve, dsA, deA, QsB, QeB) => {
    const w = Math.ceil(bitLength(curve.order) / 2);
    const QeA = eccPublicPoint(curve, deA);
    const implicitSig = (toBigInt(deA) + associate(QeA.x, w) * toBigInt(dsA)) % curve.order;
    return { z1: combined(curve, implicitSig, QeB, associate(QeB.x, w), QsB), z2: EMPTY };
  },
  // SM2 key exchange (GB/T 32918.3), here on any curve: w = ceil(f/2) - 1 with f the bit length of n;
  // tA = dsA + avf(QeA) deA; Z = [tA](QsB + [avf(QeB)]QeB). (libtpms 0.9.2 answers with a Z no
  // party B computes, for any w; see docs/ecc-two-phase.md.)
  [TPM_ALG.SM2]: (curve, dsA, deA, QsB, QeB) => {
    const w = Math.ceil(bitLength(curve.order) / 2) - 1;
    const QeA = eccPublicPoint(curve, deA);
    const tA = (toBigInt(dsA) + associate(QeA.x, w) * toBigInt(deA)) % curve.order;
    return { z1: combined(curve, tA, QsB, associate(QeB.x, w), QeB), z2: EMPTY };
  },
};

/** Z1 and Z2 of `scheme`; a scheme without an exchange here is TPM_RC_SCHEME (unnumbered). */
export function twoPhaseKeyExchange(
  curve: EccCurve, scheme: number, dsA: Uint8Array, deA: Uint8Array, QsB: AffinePoint, QeB: AffinePoint,
): TwoPhaseResult {
  const exchange = KEY_EXCHANGES[scheme];
  if (!exchange) throw new TpmError(TPM_RC.SCHEME);
  return exchange(curve, dsA, deA, QsB, QeB);
}
