/**
 * Part 2 codecs of objects: TPMT_PUBLIC / TPM2B_PUBLIC, TPMT_SENSITIVE, TPM2B_SENSITIVE_CREATE,
 * TPM2B_PRIVATE, creation data and tickets, names, and the key-value types (RSA modulus, ECC points).
 */
import { TPM_ALG, TPM_ST, TPMA_OBJECT } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { LIMITS } from '../spec/limits.js';
import { MAX_DIGEST_SIZE, isHashAlg } from '../spec/hash-algs.js';
import { type Codec, type Infer, UINT8, UINT16, UINT32, restricted, sized, struct } from './codec.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import { TPM2B_DIGEST, TPM2B_AUTH, TPM2B_SENSITIVE_DATA, TPML_PCR_SELECTION, TPMI_RH_HIERARCHY_NULL } from './types.js';
import { TPMI_ALG_PUBLIC, TPMT_ECC_SCHEME, TPMT_KDF_SCHEME, publicParmsCodec, type PublicType, type PublicParms } from './public-parms-types.js';

/**
 * A TPM2B wrapping a structure: u16 size, then exactly that many octets of the structure. Size 0
 * where the structure is required, or a size that does not match its contents, is TPM_RC_SIZE.
 */
function readBody<T>(r: Reader, n: number, inner: Codec<T>): T {
  const sub = r.sub(n);
  const v = inner.read(sub);
  if (sub.remaining !== 0) throw new TpmError(TPM_RC.SIZE);
  return v;
}

export function sizedStruct<T>(inner: Codec<T>): Codec<T> {
  return {
    isTpm2b: true,
    read(r) {
      const n = r.u16();
      if (n === 0) throw new TpmError(TPM_RC.SIZE);
      return readBody(r, n, inner);
    },
    write(w, v) {
      const at = w.length;
      w.u16(0);
      inner.write(w, v);
      w.patchU16(at, w.length - at - 2);
    },
  };
}

/** A sized structure that may be absent (size 0), as LoadExternal's inPrivate. */
export function optionalSizedStruct<T>(inner: Codec<T>): Codec<T | undefined> {
  const present = sizedStruct(inner);
  return {
    read(r) {
      const n = r.u16();
      return n === 0 ? undefined : readBody(r, n, inner);
    },
    write(w, v) {
      if (v === undefined) w.u16(0);
      else present.write(w, v);
    },
  };
}

export const TPM2B_NAME = sized(2 + MAX_DIGEST_SIZE);
export const TPM2B_DATA = sized(MAX_DIGEST_SIZE);
export const TPM2B_PUBLIC_KEY_RSA = sized(LIMITS.MAX_RSA_KEY_BYTES);
export const TPM2B_PRIVATE_KEY_RSA = sized(LIMITS.MAX_RSA_KEY_BYTES / 2);
export const TPM2B_ECC_PARAMETER = sized(LIMITS.MAX_ECC_KEY_BYTES);
export const TPM2B_SYM_KEY = sized(LIMITS.MAX_SYM_KEY_BYTES);
export const TPM2B_IV = sized(LIMITS.MAX_SYM_BLOCK_SIZE);
/** TPM2B_PRIVATE: integrity HMAC and encrypted sensitive area (Part 1 §23.4), or a duplication blob. */
export const MAX_PRIVATE_SIZE = 1024;
export const TPM2B_PRIVATE = sized(MAX_PRIVATE_SIZE);
export const TPM2B_ID_OBJECT = sized(2 + MAX_DIGEST_SIZE + 2 + MAX_DIGEST_SIZE);

export const TPMS_ECC_POINT = struct({ x: TPM2B_ECC_PARAMETER, y: TPM2B_ECC_PARAMETER });
export type EccPoint = Infer<typeof TPMS_ECC_POINT>;
export const TPM2B_ECC_POINT = sizedStruct(TPMS_ECC_POINT);

/** TPMS_ALGORITHM_DETAIL_ECC (Part 2 §11.2.5.9): what ECC_Parameters reports of a curve. */
export const TPMS_ALGORITHM_DETAIL_ECC = struct({
  curveID: UINT16, keySize: UINT16, kdf: TPMT_KDF_SCHEME, sign: TPMT_ECC_SCHEME,
  p: TPM2B_ECC_PARAMETER, a: TPM2B_ECC_PARAMETER, b: TPM2B_ECC_PARAMETER,
  gX: TPM2B_ECC_PARAMETER, gY: TPM2B_ECC_PARAMETER, n: TPM2B_ECC_PARAMETER, h: TPM2B_ECC_PARAMETER,
});

/** TPMA_OBJECT: reserved bits set are TPM_RC_RESERVED_BITS. */
export const TPMA_OBJECT_CODEC = restricted<number>(UINT32, (v) => (v & TPMA_OBJECT.reserved) === 0, TPM_RC.RESERVED_BITS);

/** TPMI_ALG_HASH+ as nameAlg: NULL only where the command allows it (LoadExternal), checked there. */
const NAME_ALG = restricted<number>(UINT16, (v) => v === TPM_ALG.NULL || isHashAlg(v), TPM_RC.HASH);

/** TPMU_PUBLIC_ID by object type. */
const UNIQUE: Record<PublicType, Codec<Uint8Array | EccPoint>> = {
  [TPM_ALG.RSA]: TPM2B_PUBLIC_KEY_RSA,
  [TPM_ALG.KEYEDHASH]: TPM2B_DIGEST,
  [TPM_ALG.ECC]: TPMS_ECC_POINT,
  [TPM_ALG.SYMCIPHER]: TPM2B_DIGEST,
};

/** TPMT_PUBLIC as a value; `unique` is the modulus, ECC point or digest its type calls for. */
export type PublicArea = PublicParms & {
  nameAlg: number;
  objectAttributes: number;
  authPolicy: Uint8Array;
  unique: Uint8Array | EccPoint;
};

export const TPMT_PUBLIC: Codec<PublicArea> = {
  read(r) {
    const type = TPMI_ALG_PUBLIC.read(r);
    const nameAlg = NAME_ALG.read(r);
    const objectAttributes = TPMA_OBJECT_CODEC.read(r);
    const authPolicy = TPM2B_DIGEST.read(r);
    const parameters = publicParmsCodec(type).read(r);
    const unique = UNIQUE[type].read(r);
    return { type, nameAlg, objectAttributes, authPolicy, parameters, unique } as PublicArea;
  },
  write(w, v) {
    w.u16(v.type).u16(v.nameAlg).u32(v.objectAttributes);
    TPM2B_DIGEST.write(w, v.authPolicy);
    publicParmsCodec(v.type).write(w, v.parameters as never);
    UNIQUE[v.type].write(w, v.unique);
  },
};
export const TPM2B_PUBLIC = sizedStruct(TPMT_PUBLIC);
/**
 * TPM2B_TEMPLATE (CreateLoaded's inPublic): a TPMT_PUBLIC, or a TPMT_TEMPLATE whose unique is a
 * TPMS_DERIVE for derived objects; this TPM has no derivation parents, so only the former.
 */
export const TPM2B_TEMPLATE = TPM2B_PUBLIC;

/** TPMU_SENSITIVE_COMPOSITE by object type: RSA prime p, ECC private scalar, HMAC key / sealed data, AES key. */
const SENSITIVE: Record<PublicType, Codec<Uint8Array>> = {
  [TPM_ALG.RSA]: TPM2B_PRIVATE_KEY_RSA,
  [TPM_ALG.KEYEDHASH]: TPM2B_SENSITIVE_DATA,
  [TPM_ALG.ECC]: TPM2B_ECC_PARAMETER,
  [TPM_ALG.SYMCIPHER]: TPM2B_SYM_KEY,
};

export interface SensitiveArea {
  sensitiveType: PublicType;
  authValue: Uint8Array;
  seedValue: Uint8Array;
  sensitive: Uint8Array;
}
export const TPMT_SENSITIVE: Codec<SensitiveArea> = {
  read(r) {
    const sensitiveType = TPMI_ALG_PUBLIC.read(r);
    return { sensitiveType, authValue: TPM2B_AUTH.read(r), seedValue: TPM2B_DIGEST.read(r), sensitive: SENSITIVE[sensitiveType].read(r) };
  },
  write(w, v) {
    w.u16(v.sensitiveType);
    TPM2B_AUTH.write(w, v.authValue);
    TPM2B_DIGEST.write(w, v.seedValue);
    SENSITIVE[v.sensitiveType].write(w, v.sensitive);
  },
};
export const TPM2B_SENSITIVE = sizedStruct(TPMT_SENSITIVE);
/** LoadExternal's inPrivate: the sensitive area in the clear, or nothing for a public-only object. */
export const TPM2B_SENSITIVE_OPTIONAL = optionalSizedStruct(TPMT_SENSITIVE);

export const TPMS_SENSITIVE_CREATE = struct({ userAuth: TPM2B_AUTH, data: TPM2B_SENSITIVE_DATA });
export type SensitiveCreate = Infer<typeof TPMS_SENSITIVE_CREATE>;
export const TPM2B_SENSITIVE_CREATE = sizedStruct(TPMS_SENSITIVE_CREATE);

/** TPMS_CREATION_DATA (Part 2 §15.1). */
export const TPMS_CREATION_DATA = struct({
  pcrSelect: TPML_PCR_SELECTION,
  pcrDigest: TPM2B_DIGEST,
  locality: UINT8,
  parentNameAlg: UINT16,
  parentName: TPM2B_NAME,
  parentQualifiedName: TPM2B_NAME,
  outsideInfo: TPM2B_DATA,
});
export type CreationData = Infer<typeof TPMS_CREATION_DATA>;
export const TPM2B_CREATION_DATA = sizedStruct(TPMS_CREATION_DATA);

/** TPMT_TK_CREATION. */
export const TPMT_TK_CREATION = struct({
  tag: restricted<number>(UINT16, (v) => v === TPM_ST.CREATION, TPM_RC.TAG),
  hierarchy: TPMI_RH_HIERARCHY_NULL,
  digest: TPM2B_DIGEST,
});
export type CreationTicket = Infer<typeof TPMT_TK_CREATION>;

/** Marshals a TPMT_PUBLIC on its own (what the Name hashes). */
export function publicBytes(area: PublicArea): Uint8Array {
  const w = new Writer(512);
  TPMT_PUBLIC.write(w, area);
  return w.finish();
}

/** Unmarshals a TPMT_PUBLIC stored by this TPM (persistent objects, context blobs). */
export function readPublicBytes(bytes: Uint8Array): PublicArea {
  return TPMT_PUBLIC.read(new Reader(bytes));
}
