/** Codecs for the TPM 2.0 Part 2 types the commands use, named as in the spec. */
import { TPM_ALG, TPM_RH, TPM_ST, TPM_SE, TPM_SU, handleType, TPM_HT } from '../spec/constants.js';
import { hashInfo, isHashAlg, MAX_DIGEST_SIZE } from '../spec/hash-algs.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import {
  type Codec, INT8, UINT8, UINT16, UINT32, UINT64, restricted, sized, struct, list,
} from './codec.js';
import { LIMITS } from '../spec/limits.js';

export const TPM2B_DIGEST = sized(MAX_DIGEST_SIZE);
export const TPM2B_NONCE = TPM2B_DIGEST;
export const TPM2B_AUTH = TPM2B_DIGEST;
export const TPM2B_MAX_BUFFER = sized(LIMITS.MAX_DIGEST_BUFFER);
export const TPM2B_EVENT = sized(LIMITS.MAX_EVENT_DATA);
export const TPM2B_SENSITIVE_DATA = sized(LIMITS.MAX_SYM_DATA);
export const TPM2B_ENCRYPTED_SECRET = sized(LIMITS.MAX_ENCRYPTED_SECRET);
export const TPM2B_CONTEXT_DATA = sized(LIMITS.MAX_CONTEXT_SIZE);

export const TPMI_YES_NO = restricted<number>(UINT8, (v) => v <= 1, TPM_RC.VALUE);

/** TPMI_ALG_HASH, and TPMI_ALG_HASH+ where TPM_ALG_NULL is allowed. */
export const TPMI_ALG_HASH = restricted<number>(UINT16, isHashAlg, TPM_RC.HASH);
export const TPMI_ALG_HASH_NULL = restricted<number>(UINT16, (v) => v === TPM_ALG.NULL || isHashAlg(v), TPM_RC.HASH);

export const TPM_SU_CODEC = restricted<number>(UINT16, (v) => v === TPM_SU.CLEAR || v === TPM_SU.STATE, TPM_RC.VALUE);
/** TPM_CLOCK_ADJUST (Part 2 §6.7): TPM_CLOCK_COARSE_SLOWER (-3) through TPM_CLOCK_COARSE_FASTER (+3). */
export const TPM_CLOCK_ADJUST = restricted<number>(INT8, (v) => v >= -3 && v <= 3, TPM_RC.VALUE);
export const TPM_SE_CODEC = restricted<number>(
  UINT8, (v) => v === TPM_SE.HMAC || v === TPM_SE.POLICY || v === TPM_SE.TRIAL, TPM_RC.VALUE);

const HIERARCHIES = new Set<number>([TPM_RH.OWNER, TPM_RH.PLATFORM, TPM_RH.ENDORSEMENT]);
/** TPMI_RH_HIERARCHY+ (NULL allowed). */
export const TPMI_RH_HIERARCHY_NULL = restricted<number>(
  UINT32, (v) => HIERARCHIES.has(v) || v === TPM_RH.NULL, TPM_RC.VALUE);

/** TPMI_RH_ENABLES: a hierarchy or TPM_RH_PLATFORM_NV (HierarchyControl). */
export const TPMI_RH_ENABLES = restricted<number>(
  UINT32, (v) => HIERARCHIES.has(v) || v === TPM_RH.PLATFORM_NV, TPM_RC.VALUE);

/** TPMI_DH_PERSISTENT: a persistent object handle. */
export const TPMI_DH_PERSISTENT = restricted<number>(UINT32, (v) => handleType(v) === TPM_HT.PERSISTENT, TPM_RC.VALUE);

/** TPMS_PCR_SELECTION: a bank and a bitmap of at least PCR_SELECT_MIN octets. */
export interface PcrSelection {
  hash: number;
  pcrSelect: Uint8Array;
}
export const TPMS_PCR_SELECTION: Codec<PcrSelection> = {
  read(r) {
    const hash = TPMI_ALG_HASH.read(r);
    const n = r.u8();
    if (n < LIMITS.PCR_SELECT_MIN || n > LIMITS.PCR_SELECT_MAX) throw new TpmError(TPM_RC.VALUE);
    return { hash, pcrSelect: r.bytes(n) };
  },
  write(w, v) {
    w.u16(v.hash).u8(v.pcrSelect.length).bytes(v.pcrSelect);
  },
};
export const TPML_PCR_SELECTION = list(TPMS_PCR_SELECTION, LIMITS.HASH_COUNT);

/** TPMT_HA: a digest tagged with its algorithm; the size follows from the algorithm. */
export interface TaggedHash {
  hashAlg: number;
  digest: Uint8Array;
}
export const TPMT_HA: Codec<TaggedHash> = {
  read(r) {
    const hashAlg = TPMI_ALG_HASH.read(r);
    return { hashAlg, digest: r.bytes(hashInfo(hashAlg)!.digestSize) };
  },
  write(w, v) {
    w.u16(v.hashAlg).bytes(v.digest);
  },
};
export const TPML_DIGEST_VALUES = list(TPMT_HA, LIMITS.HASH_COUNT);
export const TPML_DIGEST = list(TPM2B_DIGEST, 8);
export const TPML_ALG = list(UINT16, LIMITS.MAX_ALG_LIST_SIZE);

/** A TPMT_SYM_DEF value: algorithm, then keyBits and mode unless NULL; XOR carries a hash in keyBits. */
export interface SymDef {
  algorithm: number;
  keyBits: number;
  mode: number;
}
/** TPMT_TK_HASHCHECK. */
export const TPMT_TK_HASHCHECK = struct({
  tag: restricted<number>(UINT16, (v) => v === TPM_ST.HASHCHECK, TPM_RC.TAG),
  hierarchy: TPMI_RH_HIERARCHY_NULL,
  digest: TPM2B_DIGEST,
});

export const TPMS_CLOCK_INFO = struct({ clock: UINT64, resetCount: UINT32, restartCount: UINT32, safe: TPMI_YES_NO });
export const TPMS_TIME_INFO = struct({ time: UINT64, clockInfo: TPMS_CLOCK_INFO });

/** TPMI_DH_CONTEXT: a loaded or saved session or a transient object. */
export const isContextHandle = (h: number): boolean => {
  const t = handleType(h);
  return t === TPM_HT.HMAC_SESSION || t === TPM_HT.POLICY_SESSION || t === TPM_HT.TRANSIENT;
};
export const TPMI_DH_CONTEXT = restricted<number>(UINT32, isContextHandle, TPM_RC.VALUE);
export const TPMI_RH_HIERARCHY_CTX = restricted<number>(
  UINT32, (v) => HIERARCHIES.has(v) || v === TPM_RH.NULL, TPM_RC.VALUE);

/** TPMS_CONTEXT. */
export const TPMS_CONTEXT = struct({
  sequence: UINT64,
  savedHandle: TPMI_DH_CONTEXT,
  hierarchy: TPMI_RH_HIERARCHY_CTX,
  contextBlob: TPM2B_CONTEXT_DATA,
});

export const HANDLE = UINT32;
