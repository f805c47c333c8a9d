/**
 * Secret sharing with a decrypt key (Part 1 §11.4.10, Annex B.10 / C.6.1): how a caller hands the
 * TPM a seed only the key can recover (recoverSecret), and how the TPM hands one to another key
 * (shareSecret, Duplicate's outer wrap). Used for salted sessions ("SECRET"), Import ("DUPLICATE")
 * and ActivateCredential ("IDENTITY").
 * - RSA: the seed is OAEP-encrypted with the key's nameAlg (or its OAEP scheme's hash) and the
 *   label (NUL included).
 * - ECC: the secret is an ephemeral public point; Z = x of d * point, and the seed is
 *   KDFe(nameAlg, Z, label, ephemeral.x, key.x, digest bits).
 */
import { constants, diffieHellman, privateDecrypt, publicEncrypt } from 'node:crypto';
import { TPM_ALG } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { hashInfo } from '../spec/hash-algs.js';
import { kdfe } from '../crypto/kdf.js';
import { nulTerminated } from '../crypto/bytes.js';
import { eccPrivateKey, eccPublicKey, generateEccKey } from '../crypto/ecc.js';
import { decode, encode } from '../marshal/codec.js';
import { TPMS_ECC_POINT, type EccPoint, type PublicArea } from '../marshal/object-types.js';
import type { Scheme } from '../marshal/public-parms-types.js';
import type { TpmObject } from './tpm-object.js';
import { curveOf, privateKeyOf, publicKeyOf } from './key-objects.js';

export type SecretLabel = 'SECRET' | 'DUPLICATE' | 'IDENTITY';

/**
 * The OAEP hash of an RSA key: its own OAEP scheme's, or nameAlg when it has none (as the reference
 * TPM's CryptSecretDecrypt does); any other scheme cannot share secrets and gives TPM_ALG_NULL.
 */
function oaepHashAlg(scheme: Scheme, nameAlg: number): number {
  if (scheme.scheme === TPM_ALG.NULL) return nameAlg;
  return scheme.scheme === TPM_ALG.OAEP ? scheme.hashAlg ?? TPM_ALG.NULL : TPM_ALG.NULL;
}

/**
 * The seed in `encrypted` for a decrypt key. A key that cannot decrypt is TPM_RC_KEY, an RSA key
 * with a scheme other than OAEP TPM_RC_SCHEME; a secret that does not decrypt (or holds more than a
 * digest) or is no point on the curve is TPM_RC_VALUE / TPM_RC_ECC_POINT (unnumbered: the caller
 * numbers them with its parameter).
 */
export function recoverSecret(key: TpmObject, label: SecretLabel, encrypted: Uint8Array): Uint8Array {
  const pub = key.publicArea;
  const nameAlg = pub.nameAlg;
  const info = hashInfo(nameAlg);
  if (!info) throw new TpmError(TPM_RC.KEY);
  if (pub.type === TPM_ALG.RSA) {
    const oaep = oaepHash(pub);
    if (encrypted.length !== pub.parameters.keyBits / 8) throw new TpmError(TPM_RC.VALUE);
    let seed: Uint8Array;
    try {
      seed = new Uint8Array(privateDecrypt({
        key: privateKeyOf(key), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaep.name, oaepLabel: nulTerminated(label),
      }, encrypted));
    } catch {
      throw new TpmError(TPM_RC.VALUE);
    }
    if (seed.length > oaep.digestSize) throw new TpmError(TPM_RC.VALUE);
    return seed;
  }
  if (pub.type === TPM_ALG.ECC) {
    const curve = curveOf(pub);
    let point: EccPoint;
    try {
      point = decode(TPMS_ECC_POINT, encrypted);
    } catch {
      throw new TpmError(TPM_RC.SIZE);
    }
    let ephemeral;
    try {
      ephemeral = eccPublicKey(curve, point.x, point.y);
    } catch {
      throw new TpmError(TPM_RC.ECC_POINT);
    }
    // Z is the full-size x coordinate; the party infos are the x coordinates exactly as marshaled
    // (a sender that drops a leading zero octet hashes the shorter one, as the reference TPM does).
    const z = new Uint8Array(diffieHellman({ privateKey: privateKeyOf(key), publicKey: ephemeral }));
    return eccSeed(pub, z, label, point);
  }
  throw new TpmError(TPM_RC.KEY);
}

/** The OAEP hash of an RSA key that shares secrets; a key with another scheme is TPM_RC_SCHEME. */
function oaepHash(pub: PublicArea & { type: typeof TPM_ALG.RSA }): NonNullable<ReturnType<typeof hashInfo>> {
  const oaep = hashInfo(oaepHashAlg(pub.parameters.scheme, pub.nameAlg));
  if (!oaep) throw new TpmError(TPM_RC.SCHEME);
  return oaep;
}

/** KDFe(nameAlg, Z, label, ephemeral.x, key.x), the coordinates as marshaled. */
const eccSeed = (pub: PublicArea, z: Uint8Array, label: SecretLabel, ephemeral: EccPoint): Uint8Array =>
  kdfe(pub.nameAlg, z, label, ephemeral.x, (pub.unique as EccPoint).x, hashInfo(pub.nameAlg)!.digestSize * 8);

/**
 * A fresh seed for the key `pub` and the secret that carries it (the reference's
 * CryptSecretEncrypt): RSA encrypts a random seed of the nameAlg's size with OAEP, ECC makes an
 * ephemeral key whose public point is the secret. A key that cannot do either is TPM_RC_KEY.
 */
export function shareSecret(pub: PublicArea, label: SecretLabel, rng: (n: number) => Uint8Array): { seed: Uint8Array; encryptedSecret: Uint8Array } {
  const info = hashInfo(pub.nameAlg);
  if (!info) throw new TpmError(TPM_RC.KEY);
  if (pub.type === TPM_ALG.RSA) {
    const seed = rng(info.digestSize);
    const encryptedSecret = new Uint8Array(publicEncrypt({
      key: publicKeyOf(pub), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHash(pub).name, oaepLabel: nulTerminated(label),
    }, seed));
    return { seed, encryptedSecret };
  }
  if (pub.type === TPM_ALG.ECC) {
    const curve = curveOf(pub);
    const ephemeral = generateEccKey(curve, rng);
    const z = new Uint8Array(diffieHellman({ privateKey: eccPrivateKey(curve, ephemeral.d, ephemeral.x, ephemeral.y), publicKey: publicKeyOf(pub) }));
    const point = { x: ephemeral.x, y: ephemeral.y };
    return { seed: eccSeed(pub, z, label, point), encryptedSecret: encode(TPMS_ECC_POINT, point) };
  }
  throw new TpmError(TPM_RC.KEY);
}

