/**
 * The protections of a duplicated object's sensitive area (Part 1 §23.3, the reference's
 * SensitiveToDuplicate / DuplicateToSensitive):
 * - inner wrap, with a symmetric key the caller and the TPM share: CFB with a zero IV over
 *   innerIntegrity || TPM2B_SENSITIVE, innerIntegrity being TPM2B(H_nameAlg(TPM2B_SENSITIVE || Name));
 * - outer wrap, with a seed shared with the new parent: outerWrap under the new parent's nameAlg
 *   and symmetric definition.
 * Either may be absent; with neither, the blob is the TPM2B_SENSITIVE in the clear.
 */
import { TPM_ALG } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { hash } from '../crypto/hash.js';
import { concatBytes } from '../crypto/bytes.js';
import { symmetricDecrypt, symmetricEncrypt, type SymmetricDef } from '../crypto/symmetric.js';
import { timingSafeEqual } from '../auth/compare.js';
import { encode } from '../marshal/codec.js';
import { Reader } from '../marshal/reader.js';
import { TPM2B_DIGEST } from '../marshal/types.js';
import { TPM2B_SENSITIVE, type SensitiveArea } from '../marshal/object-types.js';
import { outerUnwrap, outerWrap, readDecryptedSensitive, type OuterWrapKey } from './sensitive-protection.js';

export interface InnerWrapKey {
  symmetric: SymmetricDef;
  key: Uint8Array;
}

export interface DuplicationKeys {
  /** The object's nameAlg: the inner integrity hash. */
  nameAlg: number;
  inner?: InnerWrapKey;
  outer?: OuterWrapKey;
}

/** The inner wrap is CFB whatever mode the caller's definition names. */
const cfb = (k: InnerWrapKey): SymmetricDef => ({ ...k.symmetric, mode: TPM_ALG.CFB });
const zeroIv = (): Uint8Array => new Uint8Array(16);

/** TPM2B_PRIVATE contents of a duplicate (Duplicate). */
export function wrapDuplicate(keys: DuplicationKeys, name: Uint8Array, sensitive: SensitiveArea): Uint8Array {
  let data = encode(TPM2B_SENSITIVE, sensitive);
  if (keys.inner) {
    const integrity = encode(TPM2B_DIGEST, hash(keys.nameAlg, data, name));
    data = symmetricEncrypt(cfb(keys.inner), keys.inner.key, zeroIv(), concatBytes(integrity, data));
  }
  return keys.outer ? outerWrap(keys.outer, name, data) : data;
}

/**
 * The sensitive area of a duplicate (Import): a failed outer or inner integrity is TPM_RC_INTEGRITY,
 * a malformed blob TPM_RC_SIZE / INSUFFICIENT / SENSITIVE (unnumbered: Import numbers them as duplicate).
 */
export function unwrapDuplicate(keys: DuplicationKeys, name: Uint8Array, blob: Uint8Array): SensitiveArea {
  let data = keys.outer ? outerUnwrap(keys.outer, name, blob) : blob;
  if (keys.inner) {
    const plain = symmetricDecrypt(cfb(keys.inner), keys.inner.key, zeroIv(), data);
    const r = new Reader(plain);
    const integrity = TPM2B_DIGEST.read(r);
    data = r.bytes(r.remaining);
    if (!timingSafeEqual(integrity, hash(keys.nameAlg, data, name))) throw new TpmError(TPM_RC.INTEGRITY);
  }
  return readDecryptedSensitive(data);
}
