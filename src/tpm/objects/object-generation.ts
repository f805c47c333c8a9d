/**
 * Making the sensitive area and the unique field of a new object from its template (Part 1 §27.1,
 * the reference's CryptCreateObject). All randomness comes from `rng`: the TPM's RNG for Create,
 * the hierarchy seed's KDFa stream for CreatePrimary (so primaries are reproducible).
 */
import { TPM_ALG, TPMA_OBJECT, anySet } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { hashInfo } from '../spec/hash-algs.js';
import { eccCurve } from '../capability/ecc-curves.js';
import { hash } from '../crypto/hash.js';
import { generateRsaKey, rsaExponent } from '../crypto/rsa.js';
import { generateEccKey } from '../crypto/ecc.js';
import { checkPrimeSync } from 'node:crypto';
import type { PublicArea, SensitiveArea, SensitiveCreate } from '../marshal/object-types.js';
import { isStorageParent } from './object-templates.js';

export type ByteSource = (n: number) => Uint8Array;

export interface GeneratedObject {
  publicArea: PublicArea;
  sensitive: SensitiveArea;
}

/** Errors of this module say which parameter they concern: the caller numbers them. */
export class SensitiveError extends TpmError {}


/** Keyed-hash and symmetric objects take their key from inSensitive.data when sensitiveDataOrigin is clear. */
function suppliedOrGenerated(area: PublicArea, data: Uint8Array, size: number, rng: ByteSource): Uint8Array {
  if (anySet(area.objectAttributes, TPMA_OBJECT.sensitiveDataOrigin)) {
    if (data.length !== 0) throw new SensitiveError(TPM_RC.ATTRIBUTES);
    return rng(size);
  }
  return data;
}

/**
 * The object's sensitive area and its template with `unique` filled in. A storage parent, a
 * keyed-hash and a symmetric object get a seedValue of the nameAlg's size (the parent's protection
 * seed, or the obfuscation of `unique`).
 */
export function generateObject(template: PublicArea, create: SensitiveCreate, rng: ByteSource): GeneratedObject {
  const digestSize = hashInfo(template.nameAlg)!.digestSize;
  const base = { authValue: create.userAuth, seedValue: new Uint8Array(0) };
  switch (template.type) {
    case TPM_ALG.RSA: {
      if (create.data.length !== 0) throw new SensitiveError(TPM_RC.SIZE);
      const { keyBits, exponent } = template.parameters;
      if (exponent !== 0 && (exponent < 3 || exponent % 2 === 0 || !checkPrimeSync(BigInt(exponent)))) throw new TpmError(TPM_RC.VALUE);
      const key = generateRsaKey(keyBits, rsaExponent(exponent), rng);
      const seedValue = isStorageParent(template) ? rng(digestSize) : base.seedValue;
      return {
        publicArea: { ...template, unique: key.n },
        sensitive: { sensitiveType: TPM_ALG.RSA, ...base, seedValue, sensitive: key.p },
      };
    }
    case TPM_ALG.ECC: {
      if (create.data.length !== 0) throw new SensitiveError(TPM_RC.SIZE);
      const curve = eccCurve(template.parameters.curveID)!;
      const key = generateEccKey(curve, rng);
      const seedValue = isStorageParent(template) ? rng(digestSize) : base.seedValue;
      return {
        publicArea: { ...template, unique: { x: key.x, y: key.y } },
        sensitive: { sensitiveType: TPM_ALG.ECC, ...base, seedValue, sensitive: key.d },
      };
    }
    case TPM_ALG.KEYEDHASH: {
      const { scheme } = template.parameters;
      const keyHash = scheme.hashAlg !== undefined && scheme.hashAlg !== TPM_ALG.NULL ? scheme.hashAlg : template.nameAlg;
      const sealed = !anySet(template.objectAttributes, TPMA_OBJECT.sign | TPMA_OBJECT.decrypt);
      // Sealed data is always the caller's; a key may be generated.
      if (sealed && anySet(template.objectAttributes, TPMA_OBJECT.sensitiveDataOrigin)) throw new TpmError(TPM_RC.ATTRIBUTES);
      const bits = sealed ? create.data : suppliedOrGenerated(template, create.data, hashInfo(keyHash)!.digestSize, rng);
      const seedValue = rng(digestSize);
      return {
        publicArea: { ...template, unique: hash(template.nameAlg, seedValue, bits) },
        sensitive: { sensitiveType: TPM_ALG.KEYEDHASH, ...base, seedValue, sensitive: bits },
      };
    }
    case TPM_ALG.SYMCIPHER: {
      const keyBytes = template.parameters.sym.keyBits / 8;
      const key = suppliedOrGenerated(template, create.data, keyBytes, rng);
      if (key.length !== keyBytes) throw new SensitiveError(TPM_RC.KEY_SIZE);
      const seedValue = rng(digestSize);
      return {
        publicArea: { ...template, unique: hash(template.nameAlg, seedValue, key) },
        sensitive: { sensitiveType: TPM_ALG.SYMCIPHER, ...base, seedValue, sensitive: key },
      };
    }
  }
}
