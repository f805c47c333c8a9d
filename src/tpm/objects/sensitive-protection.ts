/**
 * Protection of an object's sensitive area outside the TPM (Part 1 §23.4, the "outer wrap"): the
 * marshaled TPM2B_SENSITIVE encrypted with a key derived from a seed and the object's Name, and an
 * integrity HMAC over the ciphertext and the Name. For a child of a storage key the seed is the
 * parent's seedValue and the hash its nameAlg; duplication uses a seed shared with the new parent.
 */
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { hashInfo, MAX_DIGEST_SIZE } from '../spec/hash-algs.js';
import { hmac } from '../crypto/hash.js';
import { kdfa } from '../crypto/kdf.js';
import { concatBytes } from '../crypto/bytes.js';
import { symmetricDecrypt, symmetricEncrypt, type SymmetricDef } from '../crypto/symmetric.js';
import { timingSafeEqual } from '../auth/compare.js';
import { encode } from '../marshal/codec.js';
import { Reader } from '../marshal/reader.js';
import { TPM2B_SENSITIVE, type PublicArea, type SensitiveArea } from '../marshal/object-types.js';
import type { TpmObject } from './tpm-object.js';
import { parentSymmetric } from './object-templates.js';

const EMPTY = new Uint8Array(0);

export interface OuterWrapKey {
  hashAlg: number;
  seed: Uint8Array;
  symmetric: SymmetricDef;
}

const zeroIv = (def: SymmetricDef): Uint8Array => new Uint8Array(def.keyBits > 0 ? 16 : 0);

/** outerHMAC || ENC(data): `data` encrypted under KDFa(seed, "STORAGE", name) with a zero IV. */
export function outerWrap(key: OuterWrapKey, name: Uint8Array, data: Uint8Array): Uint8Array {
  const symKey = kdfa(key.hashAlg, key.seed, 'STORAGE', name, EMPTY, key.symmetric.keyBits);
  const encrypted = symmetricEncrypt(key.symmetric, symKey, zeroIv(key.symmetric), data);
  const mac = integrity(key, name, encrypted);
  return concatBytes(Uint8Array.of(mac.length >> 8, mac.length & 0xff), mac, encrypted);
}

function integrity(key: OuterWrapKey, name: Uint8Array, encrypted: Uint8Array): Uint8Array {
  const hmacKey = kdfa(key.hashAlg, key.seed, 'INTEGRITY', EMPTY, EMPTY, hashInfo(key.hashAlg)!.digestSize * 8);
  return hmac(key.hashAlg, hmacKey, encrypted, name);
}

/**
 * Checks and removes an outer wrap: a malformed integrity field is TPM_RC_SIZE / INSUFFICIENT, a
 * wrong HMAC TPM_RC_INTEGRITY (unnumbered: the caller numbers them with its parameter).
 */
export function outerUnwrap(key: OuterWrapKey, name: Uint8Array, blob: Uint8Array): Uint8Array {
  if (blob.length < 2) throw new TpmError(TPM_RC.INSUFFICIENT);
  const size = (blob[0]! << 8) | blob[1]!;
  if (size > MAX_DIGEST_SIZE) throw new TpmError(TPM_RC.SIZE);
  if (blob.length < 2 + size) throw new TpmError(TPM_RC.INSUFFICIENT);
  const mac = blob.subarray(2, 2 + size);
  const encrypted = blob.subarray(2 + size);
  if (size !== hashInfo(key.hashAlg)!.digestSize || !timingSafeEqual(mac, integrity(key, name, encrypted))) {
    throw new TpmError(TPM_RC.INTEGRITY);
  }
  const symKey = kdfa(key.hashAlg, key.seed, 'STORAGE', name, EMPTY, key.symmetric.keyBits);
  return symmetricDecrypt(key.symmetric, symKey, zeroIv(key.symmetric), encrypted);
}

/** The outer wrap key of a seed shared with the key `protector` (duplication, credentials): its nameAlg and symmetric. */
export function sharedSeedKey(protector: PublicArea, seed: Uint8Array): OuterWrapKey {
  return { hashAlg: protector.nameAlg, seed, symmetric: parentSymmetric(protector) };
}

/** The key a storage parent protects its children with. */
export function storageKey(parent: TpmObject): OuterWrapKey {
  return sharedSeedKey(parent.publicArea, parent.sensitive.seedValue);
}

/** TPM2B_PRIVATE of a child of `parent` (Create). */
export function protectSensitive(parent: TpmObject, name: Uint8Array, sensitive: SensitiveArea): Uint8Array {
  return outerWrap(storageKey(parent), name, encode(TPM2B_SENSITIVE, sensitive));
}

/** A TPM2B_SENSITIVE that was decrypted: anything that does not unmarshal exactly is TPM_RC_SENSITIVE. */
export function readDecryptedSensitive(plain: Uint8Array): SensitiveArea {
  try {
    const r = new Reader(plain);
    const s = TPM2B_SENSITIVE.read(r);
    if (r.remaining !== 0) throw new TpmError(TPM_RC.SENSITIVE);
    return s;
  } catch {
    throw new TpmError(TPM_RC.SENSITIVE);
  }
}

/** The sensitive area of a child of `parent` from its TPM2B_PRIVATE (Load). */
export function unprotectSensitive(parent: TpmObject, name: Uint8Array, blob: Uint8Array): SensitiveArea {
  return readDecryptedSensitive(outerUnwrap(storageKey(parent), name, blob));
}
