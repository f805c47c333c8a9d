/** TPMS_NV_PUBLIC / TPM2B_NV_PUBLIC (Part 2 §13.5-13.6) and the Name of an NV index (Part 1 §16). */
import { TPMA_NV, TPMA_NV_TPM_NT_SHIFT, TPM_HT, handleType } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { LIMITS } from '../spec/limits.js';
import { UINT16, UINT32, encode, restricted, sized, struct, type Infer } from '../marshal/codec.js';
import { TPM2B_DIGEST, TPMI_ALG_HASH } from '../marshal/types.js';
import { sizedStruct } from '../marshal/object-types.js';
import { objectName } from '../objects/tpm-object.js';

export const isNvIndexHandle = (h: number): boolean => handleType(h) === TPM_HT.NV_INDEX;

export const TPMI_RH_NV_INDEX = restricted<number>(UINT32, isNvIndexHandle, TPM_RC.VALUE);
/** TPMA_NV: reserved bits set are TPM_RC_RESERVED_BITS. */
export const TPMA_NV_CODEC = restricted<number>(UINT32, (v) => (v & TPMA_NV.reserved) === 0, TPM_RC.RESERVED_BITS);
/** The data size an index may have (MAX_NV_INDEX_SIZE). */
const NV_DATA_SIZE = restricted<number>(UINT16, (v) => v <= LIMITS.NV_INDEX_MAX, TPM_RC.SIZE);

export const TPMS_NV_PUBLIC = struct({
  nvIndex: TPMI_RH_NV_INDEX,
  nameAlg: TPMI_ALG_HASH,
  attributes: TPMA_NV_CODEC,
  authPolicy: TPM2B_DIGEST,
  dataSize: NV_DATA_SIZE,
});
export type NvPublic = Infer<typeof TPMS_NV_PUBLIC>;
export const TPM2B_NV_PUBLIC = sizedStruct(TPMS_NV_PUBLIC);
export const TPM2B_MAX_NV_BUFFER = sized(LIMITS.NV_BUFFER_MAX);

/** Name of an NV index: nameAlg || H(TPMS_NV_PUBLIC), so it changes with its attributes (WRITTEN, locks). */
export function nvName(pub: NvPublic): Uint8Array {
  return objectName(pub.nameAlg, encode(TPMS_NV_PUBLIC, pub));
}

/** TPM_NT of an attribute word. */
export const nvType = (attributes: number): number => (attributes & TPMA_NV.TPM_NT) >>> TPMA_NV_TPM_NT_SHIFT;
