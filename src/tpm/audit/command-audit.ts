/**
 * Command audit (Part 1 §32, the reference's CommandAudit.c): which commands are audited, the
 * audit digest they extend and the counter of digests started.
 */
import { TPM_CC } from '../spec/tpm-cc.js';
import { u32be } from '../crypto/bytes.js';
import { digestSize, hash } from '../crypto/hash.js';
import type { CommandAuditState } from '../state/tpm-state.js';

export const isAudited = (state: CommandAuditState, commandCode: number): boolean => state.commands.includes(commandCode);

/** Audits a command; Shutdown cannot be audited. Returns whether the list changed. */
export function setAudited(state: CommandAuditState, commandCode: number): boolean {
  if (commandCode === TPM_CC.Shutdown || isAudited(state, commandCode)) return false;
  state.commands = [...state.commands, commandCode].sort((a, b) => a - b);
  return true;
}

/** Stops auditing a command; SetCommandCodeAuditStatus is always audited. Returns whether the list changed. */
export function clearAudited(state: CommandAuditState, commandCode: number): boolean {
  if (commandCode === TPM_CC.SetCommandCodeAuditStatus || !isAudited(state, commandCode)) return false;
  state.commands = state.commands.filter((c) => c !== commandCode);
  return true;
}

/** TPMS_COMMAND_AUDIT_INFO.commandDigest: H(the audited command codes, ascending, as UINT32). */
export const auditedCommandsDigest = (state: CommandAuditState): Uint8Array => hash(state.hashAlg, ...state.commands.map(u32be));

/**
 * digest_new = H(digest_old || cpHash || rpHash); a cleared digest restarts from zeros and the
 * counter counts the new digest (the reference's CommandAudit).
 */
export function extendCommandAudit(state: CommandAuditState, cpHash: Uint8Array, rpHash: Uint8Array): void {
  if (state.digest.length === 0) {
    state.digest = new Uint8Array(digestSize(state.hashAlg));
    state.counter += 1n;
  }
  state.digest = hash(state.hashAlg, state.digest, cpHash, rpHash);
}
