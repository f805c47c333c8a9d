/**
 * What one command does to the audit digests (the reference's BuildResponseSession): the cpHashes
 * are taken before the command runs (its handles' Names may change), and after it succeeds the
 * audit session and the command audit digest are extended with cpHash || rpHash, rpHash over the
 * response parameters as sent (encrypted).
 */
import { TPM_RC } from '../spec/tpm-rc.js';
import { TPMA_SESSION } from '../spec/constants.js';
import type { TpmCore } from '../engine/tpm-core.js';
import { cpHash, rpHash } from '../auth/session-crypto.js';
import { sessionWith, type CommandSession } from '../auth/authorization.js';
import { recordSessionAudit } from './session-audit.js';
import { extendCommandAudit, isAudited } from './command-audit.js';

export interface PendingAudit {
  /** Index of the audit session, -1 if none, with cpHash in its hash. */
  session: number;
  sessionCpHash?: Uint8Array;
  /** For an audited command: cpHash in the command audit hash, and that hash. */
  commandAlg?: number;
  commandCpHash?: Uint8Array;
}

/** The cpHashes the command's audits need; undefined when it has none (the common case, kept cheap). */
export function auditBefore(
  core: TpmCore, commandCode: number, handles: readonly number[], parameters: Uint8Array, sessions: readonly CommandSession[],
): PendingAudit | undefined {
  const session = sessionWith(sessions, TPMA_SESSION.audit);
  const state = core.persistent.commandAudit;
  const audited = isAudited(state, commandCode);
  if (session < 0 && !audited) return undefined;
  const names = handles.map((h) => core.name(h));
  const pending: PendingAudit = { session };
  if (session >= 0) pending.sessionCpHash = cpHash(sessions[session]!.session!.authHash, commandCode, names, parameters);
  if (audited) {
    pending.commandAlg = state.hashAlg;
    pending.commandCpHash = cpHash(state.hashAlg, commandCode, names, parameters);
  }
  return pending;
}

/**
 * After the command succeeded. A command that may carry sessions but has no audit session ends
 * audit exclusivity. A command that changed the audit hash (SetCommandCodeAuditStatus) leaves the
 * cleared digest for the next audited command.
 */
export function auditAfter(
  core: TpmCore, pending: PendingAudit | undefined, sessions: readonly CommandSession[], commandCode: number,
  allowsSessions: boolean, responseParameters: Uint8Array,
): void {
  const v = core.volatile;
  if (!pending || pending.session < 0) {
    if (allowsSessions) v.exclusiveAuditSession = undefined;
    if (!pending) return;
  } else {
    const cs = sessions[pending.session]!;
    const s = cs.session!;
    cs.attributes = recordSessionAudit(v, s, cs.attributes, pending.sessionCpHash!, rpHash(s.authHash, TPM_RC.SUCCESS, commandCode, responseParameters));
  }
  const state = core.persistent.commandAudit;
  if (pending.commandCpHash && pending.commandAlg === state.hashAlg) {
    extendCommandAudit(state, pending.commandCpHash, rpHash(state.hashAlg, TPM_RC.SUCCESS, commandCode, responseParameters));
    core.touchPersistent();
  }
}
