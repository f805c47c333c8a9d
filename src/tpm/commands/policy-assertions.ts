/**
 * Part 3 §23, the assertions that only record a condition for the use of the session: PolicyLocality,
 * PolicyPhysicalPresence, PolicyCpHash, PolicyNameHash, PolicyDuplicationSelect, PolicyNvWritten and
 * PolicyTemplate. The conditions are checked at use (auth/policy-check.ts); checks and their order
 * follow the reference implementation.
 */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_YES } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { UINT8, struct } from '../marshal/codec.js';
import { TPM2B_DIGEST, TPMI_YES_NO } from '../marshal/types.js';
import { TPM2B_NAME } from '../marshal/object-types.js';
import { command } from '../engine/command-def.js';
import type { SessionState } from '../state/tpm-state.js';
import { extendPolicy } from '../auth/session-crypto.js';
import { commandHashHeld, requireCpHashSlot } from '../auth/policy-context.js';
import { hash } from '../crypto/hash.js';
import { u32be } from '../crypto/bytes.js';
import { NO_RESPONSE } from './no-response.js';

const POLICY_SESSION = { name: 'policySession', kind: 'POLICY_SESSION' } as const;
/** All of localities 0-4: what a session admits before any PolicyLocality. */
const ALL_LOCALITIES = 0x1f;
const EXTENDED_LOCALITY = 32;

const extend = (s: SessionState, code: number, ...parts: Uint8Array[]): void => {
  s.policyDigest = extendPolicy(s.authHash, s.policyDigest, u32be(code), ...parts);
};

/** A digest-sized hash the session must bind the command to; TPM_RC_SIZE (parameter 1) for another size. */
function requireDigestSize(s: SessionState, value: Uint8Array): void {
  if (value.length !== s.policyDigest.length) throw TpmError.parameter(TPM_RC.SIZE, 1);
}

/**
 * The localities a second PolicyLocality leaves: the intersection of two sets of localities 0-4, or
 * the same extended locality; anything else (no locality left, or the two kinds mixed) is TPM_RC_RANGE.
 */
function narrowLocality(held: number | undefined, locality: number): number {
  const range = (): TpmError => TpmError.parameter(TPM_RC.RANGE, 1);
  if (locality === 0) throw range();
  if (held !== undefined && (held < EXTENDED_LOCALITY) !== (locality < EXTENDED_LOCALITY)) throw range();
  if (locality < EXTENDED_LOCALITY) {
    const left = (held ?? ALL_LOCALITIES) & locality;
    if (left === 0) throw range();
    return left;
  }
  if (held !== undefined && held !== locality) throw range();
  return locality;
}

export const POLICY_ASSERTION_COMMANDS = [
  command({
    code: TPM_CC.PolicyLocality, name: 'PolicyLocality',
    handles: [POLICY_SESSION],
    params: struct({ locality: UINT8 }),
    response: NO_RESPONSE,
    handler(ctx, [h], { locality }) {
      const s = ctx.core.sessions.get(h!)!;
      const left = narrowLocality(s.locality, locality);
      // The digest records the locality asked for, the session the localities left.
      extend(s, TPM_CC.PolicyLocality, Uint8Array.of(locality));
      s.locality = left;
    },
  }),
  command({
    code: TPM_CC.PolicyPhysicalPresence, name: 'PolicyPhysicalPresence',
    handles: [POLICY_SESSION],
    params: struct({}),
    response: NO_RESPONSE,
    handler(ctx, [h]) {
      const s = ctx.core.sessions.get(h!)!;
      extend(s, TPM_CC.PolicyPhysicalPresence);
      s.isPPRequired = true;
    },
  }),
  command({
    code: TPM_CC.PolicyCpHash, name: 'PolicyCpHash',
    handles: [POLICY_SESSION],
    params: struct({ cpHashA: TPM2B_DIGEST }),
    response: NO_RESPONSE,
    handler(ctx, [h], { cpHashA }) {
      const s = ctx.core.sessions.get(h!)!;
      requireDigestSize(s, cpHashA);
      requireCpHashSlot(s, 'cpHash', cpHashA);
      extend(s, TPM_CC.PolicyCpHash, cpHashA);
      s.cpHash = cpHashA.slice();
    },
  }),
  command({
    code: TPM_CC.PolicyNameHash, name: 'PolicyNameHash',
    handles: [POLICY_SESSION],
    params: struct({ nameHash: TPM2B_DIGEST }),
    response: NO_RESPONSE,
    handler(ctx, [h], { nameHash }) {
      const s = ctx.core.sessions.get(h!)!;
      requireDigestSize(s, nameHash);
      if (commandHashHeld(s)) throw new TpmError(TPM_RC.CPHASH);
      extend(s, TPM_CC.PolicyNameHash, nameHash);
      s.nameHash = nameHash.slice();
    },
  }),
  command({
    code: TPM_CC.PolicyDuplicationSelect, name: 'PolicyDuplicationSelect',
    handles: [POLICY_SESSION],
    params: struct({ objectName: TPM2B_NAME, newParentName: TPM2B_NAME, includeObject: TPMI_YES_NO }),
    response: NO_RESPONSE,
    handler(ctx, [h], { objectName, newParentName, includeObject }) {
      const s = ctx.core.sessions.get(h!)!;
      if (commandHashHeld(s)) throw new TpmError(TPM_RC.CPHASH);
      if (s.commandCode !== undefined) throw new TpmError(TPM_RC.COMMAND_CODE);
      // The session binds both Names whether or not the policy names the object (a policy that
      // does not can be shared by all objects under one duplication authority).
      s.nameHash = hash(s.authHash, objectName, newParentName);
      const object = includeObject === TPM_YES ? [objectName] : [];
      extend(s, TPM_CC.PolicyDuplicationSelect, ...object, newParentName, Uint8Array.of(includeObject));
      s.commandCode = TPM_CC.Duplicate;
    },
  }),
  command({
    code: TPM_CC.PolicyNvWritten, name: 'PolicyNvWritten',
    handles: [POLICY_SESSION],
    params: struct({ writtenSet: TPMI_YES_NO }),
    response: NO_RESPONSE,
    handler(ctx, [h], { writtenSet }) {
      const s = ctx.core.sessions.get(h!)!;
      const state = writtenSet === TPM_YES;
      if (s.nvWrittenState !== undefined && s.nvWrittenState !== state) throw TpmError.parameter(TPM_RC.VALUE, 1);
      s.nvWrittenState = state;
      extend(s, TPM_CC.PolicyNvWritten, Uint8Array.of(writtenSet));
    },
  }),
  command({
    code: TPM_CC.PolicyTemplate, name: 'PolicyTemplate',
    handles: [POLICY_SESSION],
    params: struct({ templateHash: TPM2B_DIGEST }),
    response: NO_RESPONSE,
    handler(ctx, [h], { templateHash }) {
      const s = ctx.core.sessions.get(h!)!;
      // Unlike PolicyCpHash, the reference checks the slot before the size.
      requireCpHashSlot(s, 'templateHash', templateHash);
      requireDigestSize(s, templateHash);
      extend(s, TPM_CC.PolicyTemplate, templateHash);
      s.templateHash = templateHash.slice();
    },
  }),
];
