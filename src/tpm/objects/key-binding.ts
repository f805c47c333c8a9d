/**
 * Whether a sensitive area belongs to a public area (Part 1 §27.3, the reference's
 * CryptValidateKeys): same type, the RSA prime divides the modulus, the ECC scalar yields the
 * public point, and a keyed-hash or symmetric object's unique is H(seedValue || key).
 */
import { TPM_ALG } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { hashInfo } from '../spec/hash-algs.js';
import { eccCurve } from '../capability/ecc-curves.js';
import { hash } from '../crypto/hash.js';
import { bytesEqual } from '../crypto/bytes.js';
import { toBigInt } from '../crypto/big-endian-int.js';
import { eccPublicPoint } from '../crypto/ecc.js';
import type { EccPoint, PublicArea, SensitiveArea } from '../marshal/object-types.js';
import { publicKeyOf } from './key-objects.js';

const same = (a: Uint8Array, b: Uint8Array): boolean => toBigInt(a) === toBigInt(b);

/** Throws TPM_RC_TYPE for a type mismatch and TPM_RC_BINDING for keys that do not belong together (unnumbered). */
export function checkKeyBinding(pub: PublicArea, sensitive: SensitiveArea): void {
  if (pub.type !== sensitive.sensitiveType) throw new TpmError(TPM_RC.TYPE);
  const digestSize = hashInfo(pub.nameAlg)?.digestSize ?? 0;
  if (sensitive.seedValue.length > digestSize) throw new TpmError(TPM_RC.KEY_SIZE);
  switch (pub.type) {
    case TPM_ALG.RSA: {
      const n = toBigInt(pub.unique as Uint8Array);
      const p = toBigInt(sensitive.sensitive);
      if (sensitive.sensitive.length * 2 !== pub.parameters.keyBits / 8 || p <= 1n || n % p !== 0n) throw new TpmError(TPM_RC.BINDING);
      return;
    }
    case TPM_ALG.ECC: {
      const curve = eccCurve(pub.parameters.curveID)!;
      const d = toBigInt(sensitive.sensitive);
      if (d === 0n || d >= curve.order) throw new TpmError(TPM_RC.BINDING);
      const point = eccPublicPoint(curve, sensitive.sensitive);
      const u = pub.unique as EccPoint;
      if (!same(point.x, u.x) || !same(point.y, u.y)) throw new TpmError(TPM_RC.BINDING);
      return;
    }
    case TPM_ALG.KEYEDHASH:
    case TPM_ALG.SYMCIPHER:
      if (pub.type === TPM_ALG.SYMCIPHER && sensitive.sensitive.length !== pub.parameters.sym.keyBits / 8) throw new TpmError(TPM_RC.KEY_SIZE);
      if (!bytesEqual(pub.unique as Uint8Array, hash(pub.nameAlg, sensitive.seedValue, sensitive.sensitive))) throw new TpmError(TPM_RC.BINDING);
  }
}

/**
 * A public-only key (LoadExternal without a sensitive area): an RSA modulus of the declared size
 * (TPM_RC_KEY) and an ECC point on the curve (TPM_RC_ECC_POINT), unnumbered.
 */
export function checkPublicKey(pub: PublicArea): void {
  if (pub.type === TPM_ALG.RSA && (pub.unique as Uint8Array).length !== pub.parameters.keyBits / 8) throw new TpmError(TPM_RC.KEY);
  if (pub.type === TPM_ALG.ECC) publicKeyOf(pub);
}
