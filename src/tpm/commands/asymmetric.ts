/**
 * Part 3 §14, asymmetric primitives: RSA_Encrypt, RSA_Decrypt, ECDH_KeyGen, ECDH_ZGen,
 * ZGen_2Phase, ECC_Parameters. The order of the checks, and so which error wins, follows the
 * reference implementation.
 */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_ALG, TPMA_OBJECT, anySet } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { hashInfo } from '../spec/hash-algs.js';
import { UINT16, restricted, struct } from '../marshal/codec.js';
import { TPM2B_DATA, TPM2B_ECC_POINT, TPM2B_PUBLIC_KEY_RSA, TPMS_ALGORITHM_DETAIL_ECC, type EccPoint } from '../marshal/object-types.js';
import { TPMI_ECC_CURVE } from '../marshal/public-parms-types.js';
import type { Scheme } from '../marshal/public-parms-types.js';
import { TPMT_RSA_DECRYPT } from '../marshal/signature-types.js';
import { command } from '../engine/command-def.js';
import { eccDomain, generateEccKey, isPointOnCurve } from '../crypto/ecc.js';
import { ecdhPoint } from '../crypto/ecdh-point.js';
import { rsaDecrypt, rsaEncrypt, type RsaEncryptionScheme } from '../crypto/rsa-encryption.js';
import { eccCurve, type EccCurve } from '../capability/ecc-curves.js';
import { curveOf, privateKeyOf, publicKeyOf } from '../objects/key-objects.js';
import type { TpmObject } from '../objects/tpm-object.js';
import { asParameter } from '../objects/object-loading.js';
import { keyScheme } from '../objects/signatures.js';
import { committedR, endCommit } from '../commit/commitments.js';
import { twoPhaseKeyExchange } from '../crypto/ecc-key-exchange.js';


/** The KDF hash ECC_Parameters reports by curve size. */
const CURVE_KDF_HASH: Record<number, number> = { 256: TPM_ALG.SHA256, 384: TPM_ALG.SHA384, 521: TPM_ALG.SHA512 };

/** The RSA key at handle 1; another type is TPM_RC_KEY, a key without decrypt (or, if `unrestricted`, a restricted one) TPM_RC_ATTRIBUTES. */
function rsaDecryptKey(key: TpmObject, unrestricted: boolean): TpmObject {
  if (key.publicArea.type !== TPM_ALG.RSA) throw TpmError.handle(TPM_RC.KEY, 1);
  const a = key.publicArea.objectAttributes;
  if (!anySet(a, TPMA_OBJECT.decrypt) || (unrestricted && anySet(a, TPMA_OBJECT.restricted))) throw TpmError.handle(TPM_RC.ATTRIBUTES, 1);
  return key;
}

/** IsLabelProperlyFormatted: an OAEP label is empty or ends with its terminating NUL (TPM_RC_VALUE, parameter 3). */
function checkLabel(label: Uint8Array): void {
  if (label.length !== 0 && label[label.length - 1] !== 0) throw TpmError.parameter(TPM_RC.VALUE, 3);
}

/**
 * CryptRsaSelectScheme: the key's scheme when the caller's is NULL, the caller's when the key has
 * none, either when both agree; the result must be an encryption scheme or NULL (raw RSA).
 * Anything else is TPM_RC_SCHEME (parameter 2).
 */
function encryptionScheme(key: TpmObject, requested: Scheme): RsaEncryptionScheme {
  const own = keyScheme(key)!;
  let chosen: Scheme | undefined;
  if (own.scheme === TPM_ALG.NULL) chosen = requested;
  else if (requested.scheme === TPM_ALG.NULL) chosen = own;
  else if (own.scheme === requested.scheme && own.hashAlg === requested.hashAlg) chosen = requested;
  const allowed = chosen && [TPM_ALG.OAEP, TPM_ALG.RSAES, TPM_ALG.NULL].includes(chosen.scheme as never);
  if (!chosen || !allowed) throw TpmError.parameter(TPM_RC.SCHEME, 2);
  return { scheme: chosen.scheme, hash: chosen.hashAlg === undefined ? undefined : hashInfo(chosen.hashAlg) };
}

const modulusOf = (key: TpmObject): Uint8Array => key.publicArea.unique as Uint8Array;

/** The unrestricted ECC decrypt key at handle 1 that ZGen uses: another type is TPM_RC_KEY, other attributes TPM_RC_ATTRIBUTES. */
function ecdhKey(key: TpmObject): TpmObject {
  if (key.publicArea.type !== TPM_ALG.ECC) throw TpmError.handle(TPM_RC.KEY, 1);
  const a = key.publicArea.objectAttributes;
  if (anySet(a, TPMA_OBJECT.restricted) || !anySet(a, TPMA_OBJECT.decrypt)) throw TpmError.handle(TPM_RC.ATTRIBUTES, 1);
  return key;
}

/**
 * TPMI_ECC_KEY_EXCHANGE+ (ZGen_2Phase's inScheme). SM2 is accepted although TPM_CAP_ALGS does not
 * list it (no SM2 curve, no SM2 signatures): its key exchange works on any curve, as in libtpms.
 */
const KEY_EXCHANGE_SCHEMES: ReadonlySet<number> = new Set([TPM_ALG.ECDH, TPM_ALG.ECMQV, TPM_ALG.SM2, TPM_ALG.NULL]);
const TPMI_ECC_KEY_EXCHANGE_NULL = restricted<number>(UINT16, (v) => KEY_EXCHANGE_SCHEMES.has(v), TPM_RC.SCHEME);

/** d * P as TPMS_ECC_POINT with coordinates of the curve's size. */
function multiplied(curve: EccCurve, point: EccPoint, d: Uint8Array): EccPoint {
  try {
    return ecdhPoint(curve, d, point);
  } catch {
    throw new TpmError(TPM_RC.NO_RESULT);
  }
}

export const ASYMMETRIC_COMMANDS = [
  command({
    code: TPM_CC.RSA_Encrypt, name: 'RSA_Encrypt',
    handles: [{ name: 'keyHandle', kind: 'OBJECT' }],
    params: struct({ message: TPM2B_PUBLIC_KEY_RSA, inScheme: TPMT_RSA_DECRYPT, label: TPM2B_DATA }),
    response: struct({ outData: TPM2B_PUBLIC_KEY_RSA }),
    handler(ctx, [h], { message, inScheme, label }) {
      const key = rsaDecryptKey(ctx.core.object(h!), false);
      checkLabel(label);
      const scheme = encryptionScheme(key, inScheme);
      try {
        return { outData: rsaEncrypt(publicKeyOf(key.publicArea), modulusOf(key).length, scheme, message, label) };
      } catch {
        throw TpmError.parameter(TPM_RC.VALUE, 1);
      }
    },
  }),
  command({
    code: TPM_CC.RSA_Decrypt, name: 'RSA_Decrypt',
    handles: [{ name: 'keyHandle', kind: 'OBJECT', auth: 'USER' }],
    params: struct({ cipherText: TPM2B_PUBLIC_KEY_RSA, inScheme: TPMT_RSA_DECRYPT, label: TPM2B_DATA }),
    response: struct({ message: TPM2B_PUBLIC_KEY_RSA }),
    handler(ctx, [h], { cipherText, inScheme, label }) {
      const key = rsaDecryptKey(ctx.core.object(h!), true);
      checkLabel(label);
      const scheme = encryptionScheme(key, inScheme);
      if (cipherText.length !== modulusOf(key).length) throw TpmError.parameter(TPM_RC.SIZE, 1);
      try {
        return { message: rsaDecrypt(privateKeyOf(key), scheme, cipherText, label) };
      } catch {
        throw TpmError.parameter(TPM_RC.VALUE, 1);
      }
    },
  }),
  command({
    code: TPM_CC.ECDH_KeyGen, name: 'ECDH_KeyGen',
    handles: [{ name: 'keyHandle', kind: 'OBJECT' }],
    params: struct({}),
    response: struct({ zPoint: TPM2B_ECC_POINT, pubPoint: TPM2B_ECC_POINT }),
    handler(ctx, [h]) {
      // Any ECC key: only its public point is used (the reference checks no attributes or scheme).
      const key = ctx.core.object(h!);
      if (key.publicArea.type !== TPM_ALG.ECC) throw TpmError.handle(TPM_RC.KEY, 1);
      const curve = curveOf(key.publicArea);
      const ephemeral = generateEccKey(curve, (n) => ctx.core.random(n));
      return { zPoint: multiplied(curve, key.publicArea.unique as EccPoint, ephemeral.d), pubPoint: { x: ephemeral.x, y: ephemeral.y } };
    },
  }),
  command({
    code: TPM_CC.ECDH_ZGen, name: 'ECDH_ZGen',
    handles: [{ name: 'keyHandle', kind: 'OBJECT', auth: 'USER' }],
    params: struct({ inPoint: TPM2B_ECC_POINT }),
    response: struct({ outPoint: TPM2B_ECC_POINT }),
    handler(ctx, [h], { inPoint }) {
      const key = ecdhKey(ctx.core.object(h!));
      const scheme = keyScheme(key)!.scheme;
      if (scheme !== TPM_ALG.ECDH && scheme !== TPM_ALG.NULL) throw TpmError.handle(TPM_RC.SCHEME, 1);
      const curve = curveOf(key.publicArea);
      if (!isPointOnCurve(curve, inPoint)) throw TpmError.parameter(TPM_RC.ECC_POINT, 1);
      return { outPoint: multiplied(curve, inPoint, key.sensitive.sensitive) };
    },
  }),
  command({
    code: TPM_CC.ZGen_2Phase, name: 'ZGen_2Phase',
    handles: [{ name: 'keyA', kind: 'OBJECT', auth: 'USER' }],
    params: struct({ inQsB: TPM2B_ECC_POINT, inQeB: TPM2B_ECC_POINT, inScheme: TPMI_ECC_KEY_EXCHANGE_NULL, counter: UINT16 }),
    response: struct({ outZ1: TPM2B_ECC_POINT, outZ2: TPM2B_ECC_POINT }),
    handler(ctx, [h], { inQsB, inQeB, inScheme, counter }) {
      const key = ecdhKey(ctx.core.object(h!));
      // The key's scheme, if it has one, is the only one allowed.
      const own = keyScheme(key)!.scheme;
      if (own !== TPM_ALG.NULL && own !== inScheme) throw TpmError.parameter(TPM_RC.SCHEME, 3);
      const scheme = own === TPM_ALG.NULL ? inScheme : own;
      if (scheme === TPM_ALG.NULL) throw TpmError.parameter(TPM_RC.SCHEME, 3);
      const curve = curveOf(key.publicArea);
      if (!isPointOnCurve(curve, inQsB)) throw TpmError.parameter(TPM_RC.ECC_POINT, 1);
      if (!isPointOnCurve(curve, inQeB)) throw TpmError.parameter(TPM_RC.ECC_POINT, 2);
      const commitState = ctx.core.persistent.commit;
      // EC_Ephemeral made the ephemeral key bound to no Name.
      const r = committedR(commitState, curve, new Uint8Array(0), counter);
      if (!r) throw TpmError.parameter(TPM_RC.VALUE, 4);
      const { z1, z2 } = asParameter(3, () => twoPhaseKeyExchange(curve, scheme, key.sensitive.sensitive, r, inQsB, inQeB));
      endCommit(commitState, counter);
      ctx.core.touchPersistent();
      return { outZ1: z1, outZ2: z2 };
    },
  }),
  command({
    code: TPM_CC.ECC_Parameters, name: 'ECC_Parameters',
    handles: [],
    params: struct({ curveID: TPMI_ECC_CURVE }),
    response: struct({ parameters: TPMS_ALGORITHM_DETAIL_ECC }),
    handler(_ctx, _h, { curveID }) {
      const curve = eccCurve(curveID)!;
      // As the reference reports the NIST curves: the SP800-56A KDF with the hash of the curve's
      // strength, no signing scheme, cofactor 1.
      const kdf = { scheme: TPM_ALG.KDF1_SP800_56A, hashAlg: CURVE_KDF_HASH[curve.keyBits]! };
      const parameters = { curveID, keySize: curve.keyBits, kdf, sign: { scheme: TPM_ALG.NULL }, ...eccDomain(curve), h: Uint8Array.of(1) };
      return { parameters };
    },
  }),
];
