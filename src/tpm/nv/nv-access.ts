/**
 * Who may read or write an index (Part 3 §31.1, the reference's NvReadAccessChecks /
 * NvWriteAccessChecks): owner and platform authorization only where the attributes allow it,
 * otherwise the index itself. Whether the index's authValue or policy may authorize it is
 * decided with the session (nvAuthValueAllowed / nvPolicyAllowed).
 */
import { TPMA_NV, TPM_RH } from '../spec/constants.js';
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import type { NvIndex } from './nv-index.js';
import { pinAuthValueAvailable } from './nv-pin.js';

interface AccessBits { owner: number; platform: number; auth: number; policy: number }
const READ: AccessBits = { owner: TPMA_NV.OWNERREAD, platform: TPMA_NV.PPREAD, auth: TPMA_NV.AUTHREAD, policy: TPMA_NV.POLICYREAD };
const WRITE: AccessBits = { owner: TPMA_NV.OWNERWRITE, platform: TPMA_NV.PPWRITE, auth: TPMA_NV.AUTHWRITE, policy: TPMA_NV.POLICYWRITE };

/** Commands that write an index when the index authorizes itself (the reference's IsWriteOperation). */
const WRITE_COMMANDS: ReadonlySet<number> = new Set([
  TPM_CC.NV_Write, TPM_CC.NV_Increment, TPM_CC.NV_SetBits, TPM_CC.NV_Extend, TPM_CC.NV_WriteLock,
]);
const bitsFor = (commandCode: number): AccessBits => (WRITE_COMMANDS.has(commandCode) ? WRITE : READ);

function checkAuthHandle(authHandle: number, index: NvIndex, bits: AccessBits): void {
  const allowed = authHandle === TPM_RH.OWNER ? index.has(bits.owner)
    : authHandle === TPM_RH.PLATFORM ? index.has(bits.platform)
    : authHandle === index.handle;
  if (!allowed) throw new TpmError(TPM_RC.NV_AUTHORIZATION);
}

/** Read access: READLOCKED (TPM_RC_NV_LOCKED), then who authorized, then WRITTEN (TPM_RC_NV_UNINITIALIZED). */
export function checkReadAccess(authHandle: number, index: NvIndex): void {
  if (index.has(TPMA_NV.READLOCKED)) throw new TpmError(TPM_RC.NV_LOCKED);
  checkAuthHandle(authHandle, index, READ);
  if (!index.written) throw new TpmError(TPM_RC.NV_UNINITIALIZED);
}

/** Write access: WRITELOCKED (TPM_RC_NV_LOCKED), then who authorized. */
export function checkWriteAccess(authHandle: number, index: NvIndex): void {
  if (index.has(TPMA_NV.WRITELOCKED)) throw new TpmError(TPM_RC.NV_LOCKED);
  checkAuthHandle(authHandle, index, WRITE);
}

/**
 * Whether the index's authValue may authorize it for this command (AUTHWRITE to write; to read,
 * AUTHREAD, or for a PIN index its pinCount below pinLimit; never in the ADMIN role).
 */
export function nvAuthValueAllowed(index: NvIndex, commandCode: number, admin: boolean): boolean {
  if (admin) return false;
  const bits = bitsFor(commandCode);
  if (bits === WRITE) return index.has(WRITE.auth);
  return pinAuthValueAvailable(index) ?? index.has(READ.auth);
}

/** Whether a policy session may authorize the index for this command (POLICYREAD / POLICYWRITE; always in the ADMIN role). */
export const nvPolicyAllowed = (index: NvIndex, commandCode: number, admin: boolean): boolean =>
  admin || index.has(bitsFor(commandCode).policy);
