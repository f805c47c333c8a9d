/**
 * Part 2 codecs for public-area parameters: TPMT_PUBLIC_PARMS and its TPMS_*_PARMS, the schemes
 * (TPMT_KEYEDHASH_SCHEME, TPMT_RSA_SCHEME, TPMT_ECC_SCHEME, TPMT_KDF_SCHEME), TPMT_SYM_DEF and
 * TPMT_SYM_DEF_OBJECT, and the key-size/curve types. TestParms uses them now; TPMT_PUBLIC reuses TPMU_PUBLIC_PARMS.
 *
 * Each TPMI_* admits the Part 2 values this TPM implements (capability/algorithms.ts) and fails
 * with the response code the reference implementation's unmarshalling returns (checked against
 * libtpms): TPMI_AES_KEY_BITS, TPMI_RSA_KEY_BITS, TPMI_ALG_RSA_SCHEME and TPMI_ALG_KEYEDHASH_SCHEME
 * give TPM_RC_VALUE; the rest have their own codes (SYMMETRIC, MODE, SCHEME, KDF, CURVE, HASH, TYPE).
 */
import { TPM_ALG } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { type Codec, type Infer, UINT16, UINT32, restricted, struct } from './codec.js';
import { TPMI_ALG_HASH, type SymDef } from './types.js';
import { AES_KEY_BITS, RSA_KEY_BITS, implementedOf } from '../capability/algorithms.js';
import { eccCurve } from '../capability/ecc-curves.js';

/** A TPMI_ALG_* (or TPMI_ALG_*+ when allowNull): the implemented members of `algs`, else `rc`. */
export function algSelector(algs: readonly number[], rc: number, allowNull: boolean): Codec<number> {
  const allowed = implementedOf(algs);
  return restricted<number>(UINT16, (v) => allowed.has(v) || (allowNull && v === TPM_ALG.NULL), rc);
}

export const TPMI_AES_KEY_BITS = restricted<number>(UINT16, (v) => AES_KEY_BITS.includes(v), TPM_RC.VALUE);
export const TPMI_RSA_KEY_BITS = restricted<number>(UINT16, (v) => RSA_KEY_BITS.includes(v), TPM_RC.VALUE);
export const TPMI_ECC_CURVE = restricted<number>(UINT16, (v) => eccCurve(v) !== undefined, TPM_RC.CURVE);

const SYM_OBJECT_ALGS = [TPM_ALG.TDES, TPM_ALG.AES, TPM_ALG.SM4, TPM_ALG.CAMELLIA];
const SYM_MODES = [TPM_ALG.CTR, TPM_ALG.OFB, TPM_ALG.CBC, TPM_ALG.CFB, TPM_ALG.ECB];
export const TPMI_ALG_SYM_OBJECT = algSelector(SYM_OBJECT_ALGS, TPM_RC.SYMMETRIC, false);
export const TPMI_ALG_SYM_OBJECT_NULL = algSelector(SYM_OBJECT_ALGS, TPM_RC.SYMMETRIC, true);
/** TPMI_ALG_SYM_MODE+: NULL lets a symmetric key's user choose the mode (EncryptDecrypt). */
export const TPMI_ALG_SYM_MODE_NULL = algSelector(SYM_MODES, TPM_RC.MODE, true);

/**
 * TPMU_SYM_KEY_BITS and TPMU_SYM_MODE by algorithm: AES has key bits and a mode, XOR a hash and
 * no mode, NULL neither.
 */
const SYM_DETAILS: Partial<Record<number, { keyBits: Codec<number>; mode?: Codec<number> }>> = {
  [TPM_ALG.AES]: { keyBits: TPMI_AES_KEY_BITS, mode: TPMI_ALG_SYM_MODE_NULL },
  [TPM_ALG.XOR]: { keyBits: TPMI_ALG_HASH },
};

function symDef(algorithm: Codec<number>): Codec<SymDef> {
  return {
    read(r) {
      const alg = algorithm.read(r);
      const details = SYM_DETAILS[alg];
      if (!details) return { algorithm: alg, keyBits: 0, mode: TPM_ALG.NULL };
      return { algorithm: alg, keyBits: details.keyBits.read(r), mode: details.mode?.read(r) ?? TPM_ALG.NULL };
    },
    write(w, v) {
      w.u16(v.algorithm);
      const details = SYM_DETAILS[v.algorithm];
      if (details) w.u16(v.keyBits);
      if (details?.mode) w.u16(v.mode);
    },
  };
}
/** TPMT_SYM_DEF+: session parameter encryption (StartAuthSession), XOR allowed. */
export const TPMT_SYM_DEF_NULL = symDef(algSelector([...SYM_OBJECT_ALGS, TPM_ALG.XOR], TPM_RC.SYMMETRIC, true));
/** TPMT_SYM_DEF_OBJECT: a symmetric algorithm is required (TPMS_SYMCIPHER_PARMS). */
export const TPMT_SYM_DEF_OBJECT = symDef(TPMI_ALG_SYM_OBJECT);
/** TPMT_SYM_DEF_OBJECT+: NULL for keys that protect no children. */
export const TPMT_SYM_DEF_OBJECT_NULL = symDef(TPMI_ALG_SYM_OBJECT_NULL);

/**
 * A TPMT_*_SCHEME value: the scheme, and the fields of its TPMU_*_SCHEME member when it has them
 * (hashAlg for TPMS_SCHEME_HASH-like members, plus kdf for XOR and count for ECDAA).
 */
export interface Scheme {
  scheme: number;
  hashAlg?: number;
  kdf?: number;
  count?: number;
}

/** The shape of each TPMU_*_SCHEME member. */
type SchemeMember = 'empty' | 'hash' | 'xor' | 'ecdaa';

export function schemeCodec(members: Partial<Record<number, SchemeMember>>, rc: number): Codec<Scheme> {
  const selector = algSelector(Object.keys(members).map(Number), rc, true);
  return {
    read(r) {
      const scheme = selector.read(r);
      switch (members[scheme]) {
        case 'hash': return { scheme, hashAlg: TPMI_ALG_HASH.read(r) };
        case 'xor': return { scheme, hashAlg: TPMI_ALG_HASH.read(r), kdf: TPMI_ALG_KDF_NULL.read(r) };
        case 'ecdaa': return { scheme, hashAlg: TPMI_ALG_HASH.read(r), count: UINT16.read(r) };
        default: return { scheme };
      }
    },
    write(w, v) {
      w.u16(v.scheme);
      const member = members[v.scheme];
      if (member === 'hash' || member === 'xor' || member === 'ecdaa') w.u16(v.hashAlg ?? TPM_ALG.NULL);
      if (member === 'xor') w.u16(v.kdf ?? TPM_ALG.NULL);
      if (member === 'ecdaa') w.u16(v.count ?? 0);
    },
  };
}

const KDFS = [TPM_ALG.MGF1, TPM_ALG.KDF1_SP800_56A, TPM_ALG.KDF2, TPM_ALG.KDF1_SP800_108];
/** TPMI_ALG_KDF+. */
export const TPMI_ALG_KDF_NULL = algSelector(KDFS, TPM_RC.KDF, true);

/** TPMT_KDF_SCHEME+. */
export const TPMT_KDF_SCHEME = schemeCodec(Object.fromEntries(KDFS.map((k) => [k, 'hash' as const])), TPM_RC.KDF);

/** TPMT_KEYEDHASH_SCHEME+. */
export const TPMT_KEYEDHASH_SCHEME = schemeCodec({ [TPM_ALG.HMAC]: 'hash', [TPM_ALG.XOR]: 'xor' }, TPM_RC.VALUE);

/** TPMT_RSA_SCHEME+. */
export const TPMT_RSA_SCHEME = schemeCodec({
  [TPM_ALG.RSASSA]: 'hash', [TPM_ALG.RSAPSS]: 'hash', [TPM_ALG.RSAES]: 'empty', [TPM_ALG.OAEP]: 'hash',
}, TPM_RC.VALUE);

/** TPMT_ECC_SCHEME+. */
export const TPMT_ECC_SCHEME = schemeCodec({
  [TPM_ALG.ECDSA]: 'hash', [TPM_ALG.ECDAA]: 'ecdaa', [TPM_ALG.SM2]: 'hash',
  [TPM_ALG.ECSCHNORR]: 'hash', [TPM_ALG.ECDH]: 'hash', [TPM_ALG.ECMQV]: 'hash',
}, TPM_RC.SCHEME);

export const TPMS_KEYEDHASH_PARMS = struct({ scheme: TPMT_KEYEDHASH_SCHEME });
export const TPMS_SYMCIPHER_PARMS = struct({ sym: TPMT_SYM_DEF_OBJECT });
/** TPMS_RSA_PARMS; exponent 0 means 2^16 + 1. */
export const TPMS_RSA_PARMS = struct({
  symmetric: TPMT_SYM_DEF_OBJECT_NULL, scheme: TPMT_RSA_SCHEME, keyBits: TPMI_RSA_KEY_BITS, exponent: UINT32,
});
export const TPMS_ECC_PARMS = struct({
  symmetric: TPMT_SYM_DEF_OBJECT_NULL, scheme: TPMT_ECC_SCHEME, curveID: TPMI_ECC_CURVE, kdf: TPMT_KDF_SCHEME,
});

/** TPMU_PUBLIC_PARMS: the parameter structure of each object type. */
export const TPMU_PUBLIC_PARMS = {
  [TPM_ALG.RSA]: TPMS_RSA_PARMS,
  [TPM_ALG.KEYEDHASH]: TPMS_KEYEDHASH_PARMS,
  [TPM_ALG.ECC]: TPMS_ECC_PARMS,
  [TPM_ALG.SYMCIPHER]: TPMS_SYMCIPHER_PARMS,
} as const;

export type PublicType = keyof typeof TPMU_PUBLIC_PARMS;

/** TPMT_PUBLIC_PARMS as a value: the object type and its parameters. */
export type PublicParms = { [T in PublicType]: { type: T; parameters: Infer<(typeof TPMU_PUBLIC_PARMS)[T]> } }[PublicType];

/** TPMI_ALG_PUBLIC. */
export const TPMI_ALG_PUBLIC = algSelector(Object.keys(TPMU_PUBLIC_PARMS).map(Number), TPM_RC.TYPE, false) as Codec<PublicType>;

/** The parameter codec of an object type (for TPMT_PUBLIC and TPMT_PUBLIC_PARMS). */
export function publicParmsCodec<T extends PublicType>(type: T): Codec<Infer<(typeof TPMU_PUBLIC_PARMS)[T]>> {
  const codec = TPMU_PUBLIC_PARMS[type] as Codec<unknown> | undefined;
  if (!codec) throw new TpmError(TPM_RC.TYPE);
  return codec as Codec<Infer<(typeof TPMU_PUBLIC_PARMS)[T]>>;
}

export const TPMT_PUBLIC_PARMS: Codec<PublicParms> = {
  read(r) {
    const type = TPMI_ALG_PUBLIC.read(r);
    return { type, parameters: publicParmsCodec(type).read(r) } as PublicParms;
  },
  write(w, v) {
    UINT16.write(w, v.type);
    publicParmsCodec(v.type).write(w, v.parameters as never);
  },
};
