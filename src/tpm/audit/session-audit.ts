/**
 * Audit sessions (Part 1 §19.6.6, the reference's SessionProcess.c): the checks at command
 * parsing, and the response-time update of the session's digest and of audit exclusivity.
 */
import { TPMA_SESSION } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { digestSize, hash } from '../crypto/hash.js';
import type { SessionState, VolatileState } from '../state/tpm-state.js';

/**
 * A session carrying audit: only one may, and it must be an HMAC session (TPM_RC_ATTRIBUTES,
 * numbered by the caller); auditExclusive on a session already auditing (and not reset) needs it
 * to be the exclusive one (TPM_RC_EXCLUSIVE).
 */
export function checkAuditUse(v: VolatileState, s: SessionState, attributes: number, auditAlreadyTaken: boolean): void {
  if (!(attributes & TPMA_SESSION.audit)) return;
  if (auditAlreadyTaken || s.kind !== 'hmac') throw new TpmError(TPM_RC.ATTRIBUTES);
  if (!(attributes & TPMA_SESSION.auditReset) && s.auditDigest !== undefined &&
    attributes & TPMA_SESSION.auditExclusive && v.exclusiveAuditSession !== s.handle) {
    throw new TpmError(TPM_RC.EXCLUSIVE);
  }
}

/**
 * After a successful command with audit session `s`: a first use or auditReset starts its digest
 * from zeros (it is no longer bound) and makes it the exclusive session; any other session having
 * run a command since ends exclusivity. Extends the digest with cpHash || rpHash and returns the
 * response's attributes, auditExclusive reporting exclusivity.
 */
export function recordSessionAudit(v: VolatileState, s: SessionState, attributes: number, cpHash: Uint8Array, rpHash: Uint8Array): number {
  if (s.auditDigest === undefined || attributes & TPMA_SESSION.auditReset) {
    s.auditDigest = new Uint8Array(digestSize(s.authHash));
    delete s.boundEntity;
    v.exclusiveAuditSession = s.handle;
  } else if (v.exclusiveAuditSession !== s.handle) {
    v.exclusiveAuditSession = undefined;
  }
  s.auditDigest = hash(s.authHash, s.auditDigest, cpHash, rpHash);
  return v.exclusiveAuditSession === s.handle ? attributes | TPMA_SESSION.auditExclusive : attributes & ~TPMA_SESSION.auditExclusive;
}
