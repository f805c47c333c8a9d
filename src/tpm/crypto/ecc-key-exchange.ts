/**
 * Two-phase EC key exchanges (the reference's CryptEcc2PhaseKeyExchange) with static key dsA and
 * ephemeral key deA of party A against party B's public QsB and QeB, all on one curve. Secret
 * scalars only ever reach node's ECDH (ecdhPoint).
 */
import { TPM_ALG } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import type { EccCurve } from '../capability/ecc-curves.js';
import { ecdhPoint, type AffinePoint } from './ecdh-point.js';

export interface TwoPhaseResult {
  z1: AffinePoint;
  /** Empty coordinates for the schemes with one result. */
  z2: AffinePoint;
}

type KeyExchange = (curve: EccCurve, dsA: Uint8Array, deA: Uint8Array, QsB: AffinePoint, QeB: AffinePoint) => TwoPhaseResult;

const KEY_EXCHANGES: Partial<Record<number, KeyExchange>> = {
  // SP800-56A §6.1.1.2 Full Unified Model, C(2e, 2s, ECC CDH): Zs = [dsA]QsB, Ze = [deA]QeB.
  [TPM_ALG.ECDH]: (curve, dsA, deA, QsB, QeB) => ({ z1: ecdhPoint(curve, dsA, QsB), z2: ecdhPoint(curve, deA, QeB) }),
};

/** Z1 and Z2 of `scheme`; a scheme without an exchange here is TPM_RC_SCHEME (unnumbered). */
export function twoPhaseKeyExchange(
  curve: EccCurve, scheme: number, dsA: Uint8Array, deA: Uint8Array, QsB: AffinePoint, QeB: AffinePoint,
): TwoPhaseResult {
  const exchange = KEY_EXCHANGES[scheme];
  if (!exchange) throw new TpmError(TPM_RC.SCHEME);
  return exchange(curve, dsA, deA, QsB, QeB);
}
