/**
 * Part 2 codecs for TPM2_GetCapability: TPMS_CAPABILITY_DATA and the list elements of each
 * capability, with the MAX_CAP_* list sizes that keep a response within TPM_PT_MAX_CAP_BUFFER.
 */
import { TPM_ALG, TPM_CAP } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { hashInfo } from '../spec/hash-algs.js';
import { LIMITS } from '../spec/limits.js';
import { type Codec, UINT16, UINT32, list, restricted, struct } from './codec.js';
import { TPMS_PCR_SELECTION, type PcrSelection, type TaggedHash } from './types.js';

/** MAX_CAP_DATA: the buffer less TPMS_CAPABILITY_DATA.capability and the list count. */
export const MAX_CAP_DATA = LIMITS.MAX_CAP_BUFFER - 4 - 4;

export const TPMS_ALG_PROPERTY = struct({ alg: UINT16, algProperties: UINT32 });
export const TPMS_TAGGED_PROPERTY = struct({ property: UINT32, value: UINT32 });

export interface TaggedPcrSelect {
  tag: number;
  pcrSelect: Uint8Array;
}
/** TPMS_TAGGED_PCR_SELECT: a TPM_PT_PCR tag and the PCRs that have it. */
export const TPMS_TAGGED_PCR_SELECT: Codec<TaggedPcrSelect> = {
  read(r) {
    const tag = r.u32();
    const n = r.u8();
    if (n > LIMITS.PCR_SELECT_MAX) throw new TpmError(TPM_RC.VALUE);
    return { tag, pcrSelect: r.bytes(n) };
  },
  write(w, v) {
    w.u32(v.tag).u8(v.pcrSelect.length).bytes(v.pcrSelect);
  },
};

/** TPMT_HA+: TPM_ALG_NULL with no digest stands for "no policy". */
export const TPMT_HA_NULL: Codec<TaggedHash> = {
  read(r) {
    const hashAlg = r.u16();
    if (hashAlg === TPM_ALG.NULL) return { hashAlg, digest: new Uint8Array(0) };
    const info = hashInfo(hashAlg);
    if (!info) throw new TpmError(TPM_RC.HASH);
    return { hashAlg, digest: r.bytes(info.digestSize) };
  },
  write(w, v) {
    w.u16(v.hashAlg).bytes(v.digest);
  },
};
export const TPMS_TAGGED_POLICY = struct({ handle: UINT32, policyHash: TPMT_HA_NULL });
export const TPMS_ACT_DATA = struct({ handle: UINT32, timeout: UINT32, attributes: UINT32 });

export type AlgProperty = { alg: number; algProperties: number };
export type TaggedProperty = { property: number; value: number };
export type TaggedPolicy = { handle: number; policyHash: TaggedHash };
export type ActData = { handle: number; timeout: number; attributes: number };

/** The element type of each capability's list (TPMU_CAPABILITIES). */
export interface CapabilityItems {
  [TPM_CAP.ALGS]: AlgProperty;
  [TPM_CAP.HANDLES]: number;
  [TPM_CAP.COMMANDS]: number;
  [TPM_CAP.PP_COMMANDS]: number;
  [TPM_CAP.AUDIT_COMMANDS]: number;
  [TPM_CAP.PCRS]: PcrSelection;
  [TPM_CAP.TPM_PROPERTIES]: TaggedProperty;
  [TPM_CAP.PCR_PROPERTIES]: TaggedPcrSelect;
  [TPM_CAP.ECC_CURVES]: number;
  [TPM_CAP.AUTH_POLICIES]: TaggedPolicy;
  [TPM_CAP.ACT]: ActData;
}
export type Capability = keyof CapabilityItems;

interface ListDef<T> {
  item: Codec<T>;
  /** Most elements a list may hold (MAX_CAP_ALGS, MAX_CAP_HANDLES, ...). */
  max: number;
}
const fit = (itemSize: number): number => Math.floor(MAX_CAP_DATA / itemSize);

/** TPML_CC, at most MAX_CAP_CC codes. */
export const TPML_CC = list(UINT32, fit(4));

/** TPMU_CAPABILITIES: each capability's element codec and list limit. */
export const CAPABILITY_LISTS: { [C in Capability]: ListDef<CapabilityItems[C]> } = {
  [TPM_CAP.ALGS]: { item: TPMS_ALG_PROPERTY, max: fit(6) },
  [TPM_CAP.HANDLES]: { item: UINT32, max: fit(4) },
  [TPM_CAP.COMMANDS]: { item: UINT32, max: fit(4) },
  [TPM_CAP.PP_COMMANDS]: { item: UINT32, max: fit(4) },
  [TPM_CAP.AUDIT_COMMANDS]: { item: UINT32, max: fit(4) },
  [TPM_CAP.PCRS]: { item: TPMS_PCR_SELECTION, max: LIMITS.HASH_COUNT },
  [TPM_CAP.TPM_PROPERTIES]: { item: TPMS_TAGGED_PROPERTY, max: fit(8) },
  [TPM_CAP.PCR_PROPERTIES]: { item: TPMS_TAGGED_PCR_SELECT, max: fit(5 + LIMITS.PCR_SELECT_MIN) },
  [TPM_CAP.ECC_CURVES]: { item: UINT16, max: fit(2) },
  [TPM_CAP.AUTH_POLICIES]: { item: TPMS_TAGGED_POLICY, max: fit(6 + 64) },
  [TPM_CAP.ACT]: { item: TPMS_ACT_DATA, max: fit(12) },
};

const isCapability = (c: number): c is Capability => Object.hasOwn(CAPABILITY_LISTS, c);

/** TPM_CAP as a command parameter: a capability this TPM reports, else TPM_RC_VALUE. */
export const TPM_CAP_CODEC = restricted<Capability>(UINT32, isCapability, TPM_RC.VALUE);

/** TPMS_CAPABILITY_DATA as a value: the capability and its list. */
export type CapabilityData = { [C in Capability]: { capability: C; data: CapabilityItems[C][] } }[Capability];

export const TPMS_CAPABILITY_DATA: Codec<CapabilityData> = {
  read(r) {
    const capability = TPM_CAP_CODEC.read(r);
    const def = CAPABILITY_LISTS[capability] as ListDef<unknown>;
    return { capability, data: list(def.item, def.max).read(r) } as CapabilityData;
  },
  write(w, v) {
    const def = CAPABILITY_LISTS[v.capability] as ListDef<unknown>;
    w.u32(v.capability);
    list(def.item, def.max).write(w, v.data);
  },
};
