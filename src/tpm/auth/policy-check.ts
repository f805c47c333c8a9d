/**
 * The checks at use of what policy assertions stored in the session (Part 1 §19.7.x, the
 * reference's CheckPolicyAuthSession), run after the policyDigest matched the entity's authPolicy,
 * in the reference's order: timeout, command code, locality, physical presence, the one
 * command-binding hash (cpHash, templateHash or nameHash) the session holds, then TPMA_NV_WRITTEN.
 */
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { TPM_CC } from '../spec/tpm-cc.js';
import type { TpmCore } from '../engine/tpm-core.js';
import type { SessionState } from '../state/tpm-state.js';
import { hash } from '../crypto/hash.js';
import { timingSafeEqual } from './compare.js';
import { isExpired } from './policy-context.js';

/** The command's cpHash in a hash algorithm, computed once per algorithm. */
export type CpHashOf = (alg: number) => Uint8Array;

/** The command as the checks at use see it. */
export interface PolicyUse {
  commandCode: number;
  handles: readonly number[];
  parameters: Uint8Array;
  locality: number;
}

/** The commands whose inPublic PolicyTemplate binds (Part 3 §23.21). */
const TEMPLATE_COMMANDS: ReadonlySet<number> = new Set([TPM_CC.Create, TPM_CC.CreatePrimary, TPM_CC.CreateLoaded]);

/**
 * H(inPublic) of the command as sent: the TPM2B after the first parameter (inSensitive), hashed
 * without its size; undefined if the command has none (the reference's CompareTemplateHash).
 */
export function templateHashOf(alg: number, cmd: PolicyUse): Uint8Array | undefined {
  if (!TEMPLATE_COMMANDS.has(cmd.commandCode)) return undefined;
  const p = cmd.parameters;
  if (p.length < 2) return undefined;
  const at = 2 + ((p[0]! << 8) | p[1]!);
  if (p.length < at + 2) return undefined;
  const size = (p[at]! << 8) | p[at + 1]!;
  if (p.length < at + 2 + size) return undefined;
  return hash(alg, p.subarray(at + 2, at + 2 + size));
}

/** nameHash of the command: H(name1 || name2 || ...) of all its handles (Part 3 §23.10). */
export function nameHashOf(core: TpmCore, alg: number, handles: readonly number[]): Uint8Array {
  return hash(alg, ...handles.map((h) => core.name(h)));
}

/**
 * Whether a TPMA_LOCALITY admits the command's locality: localities 0-4 by their bit (an extended
 * locality value, > 31, admits none of them), 32-255 only by that exact value.
 */
export function localityAllowed(allowed: number, locality: number): boolean {
  if (locality < 5) return allowed <= 31 && (allowed & (1 << locality)) !== 0;
  return locality > 31 && allowed === locality;
}

function commandHashMatches(core: TpmCore, s: SessionState, cmd: PolicyUse, cp: CpHashOf): boolean {
  if (s.cpHash !== undefined) return timingSafeEqual(s.cpHash, cp(s.authHash));
  if (s.templateHash !== undefined) {
    const t = templateHashOf(s.authHash, cmd);
    return t !== undefined && timingSafeEqual(s.templateHash, t);
  }
  if (s.nameHash !== undefined) return timingSafeEqual(s.nameHash, nameHashOf(core, s.authHash, cmd.handles));
  return true;
}

/** PolicyNvWritten: the authorized entity is an NV index whose TPMA_NV_WRITTEN is the state asserted. */
function nvWrittenMatches(core: TpmCore, s: SessionState, entity: number): boolean {
  if (s.nvWrittenState === undefined) return true;
  const index = core.nv.get(entity);
  return index !== undefined && index.written === s.nvWrittenState;
}

/** `commandCodeRequired`: ADMIN and DUP use of an object or NV index must name the command (PolicyCommandCode). */
export function checkPolicyAssertions(
  core: TpmCore, s: SessionState, entity: number, commandCodeRequired: boolean, cmd: PolicyUse, cp: CpHashOf, err: (rc: number) => TpmError,
): void {
  if (s.timeout !== undefined && isExpired(core, s, s.timeout)) throw err(TPM_RC.EXPIRED);
  if (s.commandCode !== undefined) {
    if (s.commandCode !== cmd.commandCode) throw err(TPM_RC.POLICY_CC);
  } else if (commandCodeRequired) {
    throw err(TPM_RC.POLICY_FAIL);
  }
  if (s.locality !== undefined && !localityAllowed(s.locality, cmd.locality)) throw err(TPM_RC.LOCALITY);
  if (s.isPPRequired && !core.physicalPresence) throw err(TPM_RC.PP);
  if (!commandHashMatches(core, s, cmd, cp)) throw err(TPM_RC.POLICY_FAIL);
  if (!nvWrittenMatches(core, s, entity)) throw err(TPM_RC.POLICY_FAIL);
}
