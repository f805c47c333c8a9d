/**
 * Part 3 §23.9 PolicyNV and §23.10 PolicyCounterTimer: the policy holds while NV contents, or the
 * TPM's time and counters (TPMS_TIME_INFO), compare with operandB as `operation` says. A trial
 * session skips the comparison; both extend H(policyDigest || cc || H(operandB || offset ||
 * operation)), PolicyNV with the index's Name after it.
 */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { UINT16, encode, restricted, struct } from '../marshal/codec.js';
import { TPM2B_DIGEST, TPMS_TIME_INFO } from '../marshal/types.js';
import { command } from '../engine/command-def.js';
import type { SessionState } from '../state/tpm-state.js';
import { extendPolicy } from '../auth/session-crypto.js';
import { conditionHolds, isTpmEo } from '../auth/policy-condition.js';
import { checkReadAccess } from '../nv/nv-access.js';
import { clockInfo } from '../attestation/attest-info.js';
import { hash } from '../crypto/hash.js';
import { u16be, u32be } from '../crypto/bytes.js';
import { NO_RESPONSE } from './no-response.js';

const TPM_EO_CODEC = restricted<number>(UINT16, isTpmEo, TPM_RC.VALUE);
/** TPM2B_OPERAND is a TPM2B_DIGEST. */
const CONDITION_PARAMS = struct({ operandB: TPM2B_DIGEST, offset: UINT16, operation: TPM_EO_CODEC });
const OFFSET_PARAMETER = 2;

interface Condition { operandB: Uint8Array; offset: number; operation: number }

function extendCondition(s: SessionState, code: number, c: Condition, ...after: Uint8Array[]): void {
  const args = hash(s.authHash, c.operandB, u16be(c.offset), u16be(c.operation));
  s.policyDigest = extendPolicy(s.authHash, s.policyDigest, u32be(code), args, ...after);
}

/** Operand A: `data` from `offset`, as long as operand B; an offset past the end is TPM_RC_VALUE (offset). */
function operandA(data: Uint8Array, c: Condition, tooShort: () => TpmError): Uint8Array {
  if (c.offset > data.length) throw TpmError.parameter(TPM_RC.VALUE, OFFSET_PARAMETER);
  if (data.length - c.offset < c.operandB.length) throw tooShort();
  return data.subarray(c.offset, c.offset + c.operandB.length);
}

export const POLICY_CONDITION_COMMANDS = [
  command({
    code: TPM_CC.PolicyNV, name: 'PolicyNV',
    handles: [
      { name: 'authHandle', kind: 'NV_AUTH', auth: 'USER' },
      { name: 'nvIndex', kind: 'NV_INDEX' },
      { name: 'policySession', kind: 'POLICY_SESSION' },
    ],
    params: CONDITION_PARAMS,
    response: NO_RESPONSE,
    handler({ core }, [authHandle, nvHandle, h], c) {
      const s = core.sessions.get(h!)!;
      if (s.kind !== 'trial') {
        const index = core.nv.get(nvHandle!)!;
        checkReadAccess(authHandle!, index);
        const a = operandA(index.data.subarray(0, index.dataSize), c, () => TpmError.parameter(TPM_RC.SIZE, 1));
        if (!conditionHolds(c.operation, a, c.operandB)) throw new TpmError(TPM_RC.POLICY);
      }
      extendCondition(s, TPM_CC.PolicyNV, c, core.name(nvHandle!));
    },
  }),
  command({
    code: TPM_CC.PolicyCounterTimer, name: 'PolicyCounterTimer',
    handles: [{ name: 'policySession', kind: 'POLICY_SESSION' }],
    params: CONDITION_PARAMS,
    response: NO_RESPONSE,
    handler({ core }, [h], c) {
      const timeInfo = encode(TPMS_TIME_INFO, { time: core.volatile.time, clockInfo: clockInfo(core) });
      // The bounds are checked for trial sessions too: a policy past the structure means nothing.
      const a = operandA(timeInfo, c, () => new TpmError(TPM_RC.RANGE));
      const s = core.sessions.get(h!)!;
      if (s.kind !== 'trial' && !conditionHolds(c.operation, a, c.operandB)) throw new TpmError(TPM_RC.POLICY);
      extendCondition(s, TPM_CC.PolicyCounterTimer, c);
    },
  }),
];
