/** Which handle values each TPMI_* handle type admits (Part 2 §9); anything else is TPM_RC_VALUE. */
import { TPM_RH, TPM_HT, handleType } from '../spec/constants.js';
import { LIMITS } from '../spec/limits.js';
import type { HandleKind } from './command-def.js';

const HIERARCHIES = [TPM_RH.OWNER, TPM_RH.ENDORSEMENT, TPM_RH.PLATFORM] as number[];

const isObjectHandle = (h: number): boolean => handleType(h) === TPM_HT.TRANSIENT || handleType(h) === TPM_HT.PERSISTENT;

export const HANDLE_KINDS: Record<HandleKind, (h: number) => boolean> = {
  PCR: (h) => h < LIMITS.PCR_COUNT,
  HIERARCHY: (h) => HIERARCHIES.includes(h),
  HIERARCHY_AUTH: (h) => HIERARCHIES.includes(h) || h === TPM_RH.LOCKOUT,
  PLATFORM: (h) => h === TPM_RH.PLATFORM,
  CLEAR: (h) => h === TPM_RH.LOCKOUT || h === TPM_RH.PLATFORM,
  PROVISION: (h) => h === TPM_RH.OWNER || h === TPM_RH.PLATFORM,
  NV_AUTH: (h) => h === TPM_RH.OWNER || h === TPM_RH.PLATFORM || handleType(h) === TPM_HT.NV_INDEX,
  NV_INDEX: (h) => handleType(h) === TPM_HT.NV_INDEX,
  LOCKOUT: (h) => h === TPM_RH.LOCKOUT,
  ENDORSEMENT: (h) => h === TPM_RH.ENDORSEMENT,
  ENTITY: (h) =>
    HIERARCHIES.includes(h) || h === TPM_RH.LOCKOUT || h < LIMITS.PCR_COUNT ||
    [TPM_HT.TRANSIENT, TPM_HT.PERSISTENT, TPM_HT.NV_INDEX].includes(handleType(h) as 0x80),
  OBJECT: isObjectHandle,
  PARENT: (h) => HIERARCHIES.includes(h) || isObjectHandle(h),
  CONTEXT: (h) => [TPM_HT.HMAC_SESSION, TPM_HT.POLICY_SESSION, TPM_HT.TRANSIENT].includes(handleType(h) as 0x80),
  HMAC_SESSION: (h) => handleType(h) === TPM_HT.HMAC_SESSION,
  POLICY_SESSION: (h) => handleType(h) === TPM_HT.POLICY_SESSION,
};
