/** TPM_CAP_HANDLES: the handles of each type that exist, in the order and form the reference reports them. */
import { HR, TPM_HT, TPM_RH, handleType } from '../spec/constants.js';
import { LIMITS } from '../spec/limits.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import type { CommandContext } from '../engine/command-def.js';

/** The permanent handles this TPM has (no SRK, no ACT, no AC). */
export const PERMANENT_HANDLES: readonly number[] = [
  TPM_RH.OWNER, TPM_RH.NULL, TPM_RH.PW, TPM_RH.LOCKOUT, TPM_RH.ENDORSEMENT, TPM_RH.PLATFORM, TPM_RH.PLATFORM_NV,
];

/** The low 24 bits of a session handle: its slot, shared by the HMAC and policy ranges. */
const slot = (h: number): number => h & 0x00ffffff;
const bySlot = (handles: number[]): number[] => [...handles].sort((a, b) => slot(a) - slot(b));

/**
 * The handles of `property`'s type, from `property` on, in handle order. Loaded sessions keep their
 * own type (a policy session is listed in the HMAC_SESSION query); saved sessions are listed by
 * slot in the HMAC range, because a saved session's type lives in its blob outside the TPM.
 * Transient objects are the resource-manager view: only the caller's.
 */
const BY_TYPE: Partial<Record<number, (ctx: CommandContext, property: number) => number[]>> = {
  [TPM_HT.PCR]: (_ctx, p) => Array.from({ length: LIMITS.PCR_COUNT }, (_, i) => i).filter((h) => h >= p),
  [TPM_HT.NV_INDEX]: ({ core }, p) => core.nv.handles().filter((h) => h >= p),
  [TPM_HT.HMAC_SESSION]: ({ core }, p) => bySlot(core.sessions.loadedHandles()).filter((h) => slot(h) >= slot(p)),
  [TPM_HT.POLICY_SESSION]: ({ core }, p) =>
    bySlot(core.sessions.savedHandles()).map((h) => HR.HMAC_SESSION + slot(h)).filter((h) => slot(h) >= slot(p)),
  [TPM_HT.PERMANENT]: (_ctx, p) => PERMANENT_HANDLES.filter((h) => h >= p),
  [TPM_HT.TRANSIENT]: ({ core, client }, p) =>
    [...core.sequences.handles(client), ...core.objects.handles(client)].sort((a, b) => a - b).filter((h) => h >= p),
  [TPM_HT.PERSISTENT]: ({ core }, p) => core.objects.persistentHandles().filter((h) => h >= p),
};

/** Handles from `property` on; a handle type with no list is TPM_RC_HANDLE (numbered by the caller). */
export function handlesFrom(ctx: CommandContext, property: number): number[] {
  const list = BY_TYPE[handleType(property)];
  if (!list) throw new TpmError(TPM_RC.HANDLE);
  return list(ctx, property);
}
