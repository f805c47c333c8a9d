/**
 * The checks a public template passes before an object is made from it (Part 3 §12.1, the
 * reference's PublicAttributesValidation and SchemeChecks): errors are unnumbered, the command
 * numbers them with its inPublic parameter.
 */
import { TPM_ALG, TPMA_OBJECT, anySet } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { hashInfo } from '../spec/hash-algs.js';
import type { PublicArea } from '../marshal/object-types.js';


/** A storage key (Part 1 §25.1): restricted decrypt key with a symmetric algorithm for its children. */
export function isStorageParent(area: PublicArea): boolean {
  const a = area.objectAttributes;
  if (!anySet(a, TPMA_OBJECT.restricted) || !anySet(a, TPMA_OBJECT.decrypt) || anySet(a, TPMA_OBJECT.sign)) return false;
  switch (area.type) {
    case TPM_ALG.RSA:
    case TPM_ALG.ECC:
      return area.parameters.symmetric.algorithm !== TPM_ALG.NULL;
    case TPM_ALG.SYMCIPHER:
      return true;
    default:
      return false;
  }
}

/** The symmetric definition a parent protects its children with. */
export function parentSymmetric(area: PublicArea): { algorithm: number; keyBits: number; mode: number } {
  return area.type === TPM_ALG.SYMCIPHER ? area.parameters.sym : (area.parameters as { symmetric: { algorithm: number; keyBits: number; mode: number } }).symmetric;
}

function checkAttributes(area: PublicArea, parent: PublicArea | undefined): void {
  const a = area.objectAttributes;
  // fixedTPM needs fixedParent; a child of a duplicable parent cannot be fixedTPM.
  if (anySet(a, TPMA_OBJECT.fixedTPM) && !anySet(a, TPMA_OBJECT.fixedParent)) throw new TpmError(TPM_RC.ATTRIBUTES);
  if (parent && anySet(a, TPMA_OBJECT.fixedTPM) && !anySet(parent.objectAttributes, TPMA_OBJECT.fixedTPM)) throw new TpmError(TPM_RC.ATTRIBUTES);
  if (anySet(a, TPMA_OBJECT.restricted)) {
    // A restricted key is either a signing or a decryption key (Part 1 §25.2).
    if (anySet(a, TPMA_OBJECT.sign) === anySet(a, TPMA_OBJECT.decrypt)) throw new TpmError(TPM_RC.ATTRIBUTES);
  }
}

/** The asymmetric schemes of each use by key type (the reference's CryptIsAsymSignScheme / CryptIsAsymDecryptScheme). */
const SIGN_SCHEMES: Partial<Record<number, readonly number[]>> = {
  [TPM_ALG.RSA]: [TPM_ALG.RSASSA, TPM_ALG.RSAPSS],
  [TPM_ALG.ECC]: [TPM_ALG.ECDSA, TPM_ALG.ECDAA, TPM_ALG.ECSCHNORR, TPM_ALG.SM2],
};
const DECRYPT_SCHEMES: Partial<Record<number, readonly number[]>> = {
  [TPM_ALG.RSA]: [TPM_ALG.RSAES, TPM_ALG.OAEP],
  [TPM_ALG.ECC]: [TPM_ALG.ECDH, TPM_ALG.ECMQV, TPM_ALG.SM2],
};

/** The scheme rules by key use (Part 3 §12.1.1, SchemeChecks). */
function checkSchemes(area: PublicArea): void {
  const a = area.objectAttributes;
  const restricted = anySet(a, TPMA_OBJECT.restricted);
  const sign = anySet(a, TPMA_OBJECT.sign);
  const decrypt = anySet(a, TPMA_OBJECT.decrypt);
  switch (area.type) {
    case TPM_ALG.KEYEDHASH: {
      const scheme = area.parameters.scheme;
      // A sealed data object has no use and no scheme; an HMAC key signs, an XOR key derives.
      if (!sign && !decrypt && scheme.scheme !== TPM_ALG.NULL) throw new TpmError(TPM_RC.SCHEME);
      if (sign && decrypt && scheme.scheme !== TPM_ALG.NULL) throw new TpmError(TPM_RC.SCHEME);
      if (sign && !decrypt && scheme.scheme === TPM_ALG.XOR) throw new TpmError(TPM_RC.SCHEME);
      if (decrypt && !sign && scheme.scheme === TPM_ALG.HMAC) throw new TpmError(TPM_RC.SCHEME);
      if (restricted && scheme.scheme === TPM_ALG.NULL) throw new TpmError(TPM_RC.SCHEME);
      return;
    }
    case TPM_ALG.SYMCIPHER:
      return;
    case TPM_ALG.RSA:
    case TPM_ALG.ECC: {
      const { symmetric, scheme } = area.parameters;
      if (restricted && decrypt) {
        // A storage key: a symmetric algorithm for its children, no asymmetric scheme.
        if (symmetric.algorithm === TPM_ALG.NULL) throw new TpmError(TPM_RC.SYMMETRIC);
        if (scheme.scheme !== TPM_ALG.NULL) throw new TpmError(TPM_RC.SCHEME);
        if (area.type === TPM_ALG.ECC && area.parameters.kdf.scheme !== TPM_ALG.NULL) throw new TpmError(TPM_RC.KDF);
        return;
      }
      // One use, one scheme of that use: a sign key a signing scheme with a hash (or none, if
      // unrestricted), a decrypt key a decryption scheme or none; a key of both uses or neither none.
      if (sign === decrypt) {
        if (scheme.scheme !== TPM_ALG.NULL) throw new TpmError(TPM_RC.SCHEME);
      } else if (sign) {
        if (SIGN_SCHEMES[area.type]!.includes(scheme.scheme)) {
          if (scheme.hashAlg === TPM_ALG.NULL) throw new TpmError(TPM_RC.SCHEME);
        } else if (restricted || scheme.scheme !== TPM_ALG.NULL) {
          throw new TpmError(TPM_RC.SCHEME);
        }
      } else if (scheme.scheme !== TPM_ALG.NULL && !DECRYPT_SCHEMES[area.type]!.includes(scheme.scheme)) {
        throw new TpmError(TPM_RC.SCHEME);
      }
      // Only storage keys carry a symmetric algorithm.
      if (symmetric.algorithm !== TPM_ALG.NULL) throw new TpmError(TPM_RC.SYMMETRIC);
      if (scheme.scheme !== TPM_ALG.NULL && scheme.hashAlg !== undefined && hashInfo(scheme.hashAlg) === undefined) throw new TpmError(TPM_RC.HASH);
      return;
    }
  }
}

/**
 * Checks a template for CreatePrimary, Create and CreateLoaded. `parent` is the parent's public
 * area, absent for a primary object.
 */
export function validateTemplate(area: PublicArea, parent: PublicArea | undefined): void {
  const info = hashInfo(area.nameAlg);
  if (!info) throw new TpmError(TPM_RC.HASH);
  if (area.authPolicy.length !== 0 && area.authPolicy.length !== info.digestSize) throw new TpmError(TPM_RC.SIZE);
  checkAttributes(area, parent);
  checkSchemes(area);
}

/**
 * Checks a public area LoadExternal loads (the reference's ObjectLoad): with a sensitive area and
 * a Name, as a template; public only, or without a Name (nameAlg NULL), only its schemes.
 */
export function validateExternal(area: PublicArea, withSensitive: boolean): void {
  if (withSensitive && area.nameAlg !== TPM_ALG.NULL) validateTemplate(area, undefined);
  else checkSchemes(area);
}
