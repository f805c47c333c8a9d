/**
 * NV_DefineSpace's consistency rules for a new index (Part 3 §31.3), in the reference's order and
 * with its numbering: parameter 1 is auth, 2 publicInfo, handle 1 authHandle.
 */
import { TPMA_NV, TPM_NT, TPM_RH, anySet } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { LIMITS } from '../spec/limits.js';
import { hashInfo } from '../spec/hash-algs.js';
import { nvType, type NvPublic } from './nv-public.js';

const P_AUTH = 1;
const P_PUBLIC = 2;
const H_AUTH = 1;

const READ_BITS = TPMA_NV.OWNERREAD | TPMA_NV.PPREAD | TPMA_NV.AUTHREAD | TPMA_NV.POLICYREAD;
const WRITE_BITS = TPMA_NV.OWNERWRITE | TPMA_NV.PPWRITE | TPMA_NV.AUTHWRITE | TPMA_NV.POLICYWRITE;
const STATE_BITS = TPMA_NV.WRITTEN | TPMA_NV.WRITELOCKED | TPMA_NV.READLOCKED;

/** dataSize each index type needs; ORDINARY is bounded by the codec (NV_INDEX_MAX). */
const TYPE_SIZE: ReadonlyMap<number, (nameSize: number) => number | undefined> = new Map<number, (nameSize: number) => number | undefined>([
  [TPM_NT.ORDINARY, () => undefined],
  [TPM_NT.COUNTER, () => 8],
  [TPM_NT.BITS, () => 8],
  [TPM_NT.EXTEND, (n: number) => n],
  [TPM_NT.PIN_FAIL, () => 8],
  [TPM_NT.PIN_PASS, () => 8],
]);

/** Attribute combinations each type forbids (or requires, for PIN_FAIL's NO_DA). */
function typeRulesHold(type: number, a: number): boolean {
  switch (type) {
    case TPM_NT.COUNTER: return !anySet(a, TPMA_NV.CLEAR_STCLEAR);
    // A PIN index's authValue is only usable once written, so it cannot be written with it.
    case TPM_NT.PIN_FAIL: return anySet(a, TPMA_NV.NO_DA) && !anySet(a, TPMA_NV.AUTHWRITE | TPMA_NV.GLOBALLOCK | TPMA_NV.WRITEDEFINE);
    case TPM_NT.PIN_PASS: return !anySet(a, TPMA_NV.AUTHWRITE | TPMA_NV.GLOBALLOCK | TPMA_NV.WRITEDEFINE);
    default: return true;
  }
}

/** Throws the first rule `pub` (defined under `authHandle` with authValue `auth`, trailing zeros removed) breaks. */
export function validateDefinition(authHandle: number, auth: Uint8Array, pub: NvPublic, phEnableNV: boolean): void {
  const nameSize = hashInfo(pub.nameAlg)!.digestSize;
  const a = pub.attributes;
  const type = nvType(a);
  if (pub.authPolicy.length !== 0 && pub.authPolicy.length !== nameSize) throw TpmError.parameter(TPM_RC.SIZE, P_PUBLIC);
  if (auth.length > nameSize) throw TpmError.parameter(TPM_RC.SIZE, P_AUTH);
  if (authHandle === TPM_RH.PLATFORM && !phEnableNV) throw TpmError.handle(TPM_RC.HIERARCHY, H_AUTH);
  const size = TYPE_SIZE.get(type);
  if (!size) throw TpmError.parameter(TPM_RC.ATTRIBUTES, P_PUBLIC);
  const required = size(nameSize);
  if (required !== undefined && pub.dataSize !== required) throw TpmError.parameter(TPM_RC.SIZE, P_PUBLIC);
  if (!typeRulesHold(type, a)) throw TpmError.parameter(TPM_RC.ATTRIBUTES, P_PUBLIC);
  if (anySet(a, STATE_BITS) || !anySet(a, READ_BITS) || !anySet(a, WRITE_BITS)) throw TpmError.parameter(TPM_RC.ATTRIBUTES, P_PUBLIC);
  if (anySet(a, TPMA_NV.CLEAR_STCLEAR) && anySet(a, TPMA_NV.WRITEDEFINE)) throw TpmError.parameter(TPM_RC.ATTRIBUTES, P_PUBLIC);
  // The creator must be able to delete the index: the platform creates PLATFORMCREATE ones only.
  if (anySet(a, TPMA_NV.PLATFORMCREATE) !== (authHandle === TPM_RH.PLATFORM)) throw TpmError.handle(TPM_RC.ATTRIBUTES, H_AUTH);
  if (anySet(a, TPMA_NV.POLICY_DELETE) && authHandle !== TPM_RH.PLATFORM) throw TpmError.parameter(TPM_RC.ATTRIBUTES, P_PUBLIC);
  if (pub.dataSize > LIMITS.NV_BUFFER_MAX && anySet(a, TPMA_NV.WRITEALL)) throw TpmError.parameter(TPM_RC.SIZE, P_PUBLIC);
}
