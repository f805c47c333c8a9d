/**
 * What PolicySigned, PolicySecret and PolicyTicket share (Part 3 §23.3-23.5): the authorization's
 * expiry time, the checks of nonceTPM / expiration / cpHashA, and the update of the policy session
 * with the authorizing entity's Name, policyRef, cpHashA and timeout.
 */
import type { TpmCore } from '../engine/tpm-core.js';
import type { SessionState } from '../state/tpm-state.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { timingSafeEqual } from './compare.js';
import { policyUpdate } from './session-crypto.js';

/**
 * The epoch of TPMS_TIME_INFO.time: time restarts at every _TPM_Init, and every Startup that
 * follows moves resetCount or restartCount, so the pair names one run of the time counter.
 */
export function timeEpoch(core: TpmCore): bigint {
  return (BigInt(core.persistent.resetCount) << 32n) | BigInt(core.persistent.restartCount);
}

/**
 * The time (TPMS_TIME_INFO.time, ms) an authorization with `expiration` seconds ends, 0 for none.
 * With a nonceTPM it counts from the session's start; without, expiration is absolute time in
 * seconds, and the current millisecond fraction is added so that it never ends early (as the reference).
 */
export function authTimeout(core: TpmCore, s: SessionState, expiration: number, nonceTPM: Uint8Array): bigint {
  if (expiration === 0) return 0n;
  const ms = BigInt(Math.abs(expiration)) * 1000n;
  return nonceTPM.length === 0 ? ms + (core.volatile.time % 1000n) : ms + (s.startTime ?? 0n);
}

/** Whether a timeout has passed, or belongs to an earlier time epoch. */
export function isExpired(core: TpmCore, s: SessionState, timeout: bigint): boolean {
  return timeout < core.volatile.time || s.timeEpoch !== timeEpoch(core);
}

/** Where the errors of policyParameterChecks point: the parameter numbers of nonceTPM, cpHashA and expiration. */
export interface ParameterBlame {
  nonce: number;
  cpHash: number;
  expiration: number;
}

/**
 * The reference's PolicyParameterChecks: a nonceTPM given must be the session's (TPM_RC_NONCE), a
 * timeout must not have passed (TPM_RC_EXPIRED), and a cpHashA given must have the session's digest
 * size (TPM_RC_SIZE) and agree with a cpHash the session already holds (TPM_RC_CPHASH, unnumbered).
 */
export function policyParameterChecks(
  core: TpmCore, s: SessionState, timeout: bigint, cpHashA: Uint8Array, nonce: Uint8Array | undefined, blame: ParameterBlame,
): void {
  if (nonce !== undefined && nonce.length !== 0 && !timingSafeEqual(nonce, s.nonceTPM)) throw TpmError.parameter(TPM_RC.NONCE, blame.nonce);
  if (timeout !== 0n && isExpired(core, s, timeout)) throw TpmError.parameter(TPM_RC.EXPIRED, blame.expiration);
  if (cpHashA.length !== 0) {
    if (cpHashA.length !== s.policyDigest.length) throw TpmError.parameter(TPM_RC.SIZE, blame.cpHash);
    requireCpHashSlot(s, 'cpHash', cpHashA);
  }
}

/** The session holds one of cpHash, nameHash, templateHash (the reference keeps them in one union). */
export type CommandHashField = 'cpHash' | 'nameHash' | 'templateHash';
const COMMAND_HASH_FIELDS: readonly CommandHashField[] = ['cpHash', 'nameHash', 'templateHash'];

/** Whether the session already binds the command by one of the hashes (PolicyNameHash and PolicyDuplicationSelect allow none). */
export const commandHashHeld = (s: SessionState): boolean => COMMAND_HASH_FIELDS.some((f) => s[f] !== undefined);

/**
 * A new command-binding hash agrees with the session: no other kind set, and the same value if
 * this kind is set (TPM_RC_CPHASH otherwise, Part 3 §23.9, §23.10, §23.15, §23.21).
 */
export function requireCpHashSlot(s: SessionState, field: CommandHashField, value: Uint8Array): void {
  for (const f of COMMAND_HASH_FIELDS) {
    const held = s[f];
    if (held === undefined) continue;
    if (f !== field || !timingSafeEqual(held, value)) throw new TpmError(TPM_RC.CPHASH);
  }
}

/**
 * The reference's PolicyContextUpdate: policyDigest' = H(H(policyDigest || cc || name) || policyRef)
 * (the second hash only for commands with a policyRef, even an empty one), then the cpHash and the
 * earliest timeout are kept (trial sessions keep them too).
 */
export function policyContextUpdate(
  s: SessionState, commandCode: number, name: Uint8Array, policyRef: Uint8Array | undefined, cpHashA: Uint8Array, timeout: bigint,
): void {
  s.policyDigest = policyUpdate(s.authHash, s.policyDigest, commandCode, name, policyRef);
  if (cpHashA.length !== 0) s.cpHash = cpHashA;
  if (timeout !== 0n && (s.timeout === undefined || s.timeout > timeout)) s.timeout = timeout;
}
