/**
 * Signing with a loaded key and checking a signature against one (CryptSelectSignScheme,
 * CryptSign and CryptValidateSignature of the reference): which scheme a key signs with, and one
 * signer per scheme. Errors are unnumbered; the commands number them.
 */
import { TPM_ALG } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { hashInfo, type HashAlgInfo } from '../spec/hash-algs.js';
import { hmac } from '../crypto/hash.js';
import { timingSafeEqual } from '../auth/compare.js';
import { rsassaSign, rsassaVerify, rsapssSign, rsapssVerify, pssSaltLength } from '../crypto/rsa-signature.js';
import { ecdsaSign, ecdsaVerify } from '../crypto/ecdsa.js';
import { ecdaaSign } from '../crypto/ecdaa.js';
import { committedR, endCommit } from '../commit/commitments.js';
import type { CommitState } from '../state/tpm-state.js';
import type { Scheme } from '../marshal/public-parms-types.js';
import type { EccPoint } from '../marshal/object-types.js';
import type { Signature } from '../marshal/signature-types.js';
import type { TpmObject } from './tpm-object.js';
import { curveOf, privateKeyOf, publicKeyOf } from './key-objects.js';

type SigningKey = Pick<TpmObject, 'publicArea' | 'sensitive' | 'name'>;

/** What signing needs of the TPM: randomness, and the commitments that ECDAA signatures use up. */
export interface SigningContext {
  random(n: number): Uint8Array;
  readonly persistent: { commit: CommitState };
  touchPersistent(): void;
}

interface Signer {
  /** The object type whose keys use the scheme. */
  type: number;
  sign(key: SigningKey, h: HashAlgInfo, digest: Uint8Array, tpm: SigningContext, scheme: Scheme): Uint8Array[];
  /** Absent for ECDAA: the TPM cannot verify what it signs (CryptValidateSignature: TPM_RC_SCHEME). */
  verify?(key: SigningKey, h: HashAlgInfo, digest: Uint8Array, parts: Uint8Array[]): boolean;
}

const modulusBytes = (key: SigningKey): number => (key.publicArea.unique as Uint8Array).length;
const point = (key: SigningKey): EccPoint => key.publicArea.unique as EccPoint;

const SIGNERS: Partial<Record<number, Signer>> = {
  [TPM_ALG.RSASSA]: {
    type: TPM_ALG.RSA,
    sign: (key, h, digest) => [rsassaSign(privateKeyOf(key), h, digest)],
    verify: (key, h, digest, [sig]) => sig!.length === modulusBytes(key) && rsassaVerify(publicKeyOf(key.publicArea), h, digest, sig!),
  },
  [TPM_ALG.RSAPSS]: {
    type: TPM_ALG.RSA,
    sign: (key, h, digest, tpm) =>
      [rsapssSign(privateKeyOf(key), h, digest, modulusBytes(key), tpm.random(pssSaltLength(h, modulusBytes(key))))],
    verify: (key, h, digest, [sig]) => sig!.length === modulusBytes(key) && rsapssVerify(publicKeyOf(key.publicArea), h, digest, sig!),
  },
  [TPM_ALG.ECDSA]: {
    type: TPM_ALG.ECC,
    sign: (key, _h, digest, tpm) => {
      const { r, s } = ecdsaSign(curveOf(key.publicArea), key.sensitive.sensitive, digest, (n) => tpm.random(n));
      return [r, s];
    },
    verify: (key, _h, digest, [r, s]) => ecdsaVerify(curveOf(key.publicArea), point(key).x, point(key).y, digest, { r: r!, s: s! }),
  },
  [TPM_ALG.ECDAA]: {
    type: TPM_ALG.ECC,
    // The second half of a Commit by this key: its r, once. A count not outstanding is TPM_RC_VALUE.
    sign: (key, h, digest, tpm, scheme) => {
      const curve = curveOf(key.publicArea);
      const count = scheme.count ?? 0;
      const r = committedR(tpm.persistent.commit, curve, key.name, count);
      if (!r) throw new TpmError(TPM_RC.VALUE);
      const { k, s } = ecdaaSign(curve, h.alg, key.sensitive.sensitive, r, digest, (n) => tpm.random(n));
      endCommit(tpm.persistent.commit, count);
      tpm.touchPersistent();
      return [k, s];
    },
  },
  [TPM_ALG.HMAC]: {
    type: TPM_ALG.KEYEDHASH,
    sign: (key, h, digest) => [hmac(h.alg, key.sensitive.sensitive, digest)],
    verify: (key, h, digest, [mac]) => timingSafeEqual(mac!, hmac(h.alg, key.sensitive.sensitive, digest)),
  },
};

/** The scheme in a key's parameters (SYMCIPHER keys have none). */
export function keyScheme(key: SigningKey): Scheme | undefined {
  const pub = key.publicArea;
  return pub.type === TPM_ALG.SYMCIPHER ? undefined : pub.parameters.scheme;
}

/**
 * The scheme a signature with `key` uses (CryptSelectSignScheme): the key's when `requested` is
 * NULL (unless it is ECDAA, whose commit count only the caller can name), `requested` when the key
 * has none, and either when both agree. Anything else, or a scheme the key's type cannot sign
 * with, is TPM_RC_SCHEME.
 */
export function selectSignScheme(key: SigningKey, requested: Scheme): Scheme & { hashAlg: number } {
  const own = keyScheme(key);
  if (!own) throw new TpmError(TPM_RC.SCHEME);
  let chosen: Scheme;
  if (own.scheme === TPM_ALG.NULL) chosen = requested;
  else if (requested.scheme === TPM_ALG.NULL && own.scheme !== TPM_ALG.ECDAA) chosen = own;
  else if (own.scheme === requested.scheme && own.hashAlg === requested.hashAlg) chosen = requested;
  else throw new TpmError(TPM_RC.SCHEME);
  if (SIGNERS[chosen.scheme]?.type !== key.publicArea.type || chosen.hashAlg === undefined) throw new TpmError(TPM_RC.SCHEME);
  return { ...chosen, hashAlg: chosen.hashAlg };
}

/** Signs `digest` with a scheme selectSignScheme chose. */
export function sign(key: SigningKey, scheme: Scheme & { hashAlg: number }, digest: Uint8Array, tpm: SigningContext): Signature {
  const h = hashInfo(scheme.hashAlg);
  if (!h) throw new TpmError(TPM_RC.SCHEME);
  return { sigAlg: scheme.scheme, hash: scheme.hashAlg, parts: SIGNERS[scheme.scheme]!.sign(key, h, digest, tpm, scheme) };
}

/**
 * Checks `signature` over `digest` (CryptValidateSignature): a scheme the key's type does not
 * sign with is TPM_RC_SCHEME; a signature that does not verify is TPM_RC_SIGNATURE, as is an
 * HMAC signature whose scheme differs from the key's own (no weaker hash than the key allows).
 */
export function verifySignature(key: SigningKey, digest: Uint8Array, signature: Signature): void {
  const signer = SIGNERS[signature.sigAlg];
  if (!signer?.verify || signer.type !== key.publicArea.type) throw new TpmError(TPM_RC.SCHEME);
  const own = keyScheme(key)!;
  if (signature.sigAlg === TPM_ALG.HMAC && own.scheme !== TPM_ALG.NULL && own.hashAlg !== signature.hash) {
    throw new TpmError(TPM_RC.SIGNATURE);
  }
  if (!signer.verify(key, hashInfo(signature.hash)!, digest, signature.parts)) throw new TpmError(TPM_RC.SIGNATURE);
}
