/** Part 3 §23.6, TPM2_PolicyOR: the policy is satisfied if any one of up to eight branches is. */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { list, struct } from '../marshal/codec.js';
import { TPM2B_DIGEST } from '../marshal/types.js';
import { command } from '../engine/command-def.js';
import { extendPolicy } from '../auth/session-crypto.js';
import { concatBytes, u32be } from '../crypto/bytes.js';
import { timingSafeEqual } from '../auth/compare.js';
import { NO_RESPONSE } from './no-response.js';

/** TPML_DIGEST as PolicyOR takes it: 2 to 8 digests. */
const MIN_BRANCHES = 2;
const MAX_BRANCHES = 8;

export const POLICY_OR_COMMANDS = [
  command({
    code: TPM_CC.PolicyOR, name: 'PolicyOR',
    handles: [{ name: 'policySession', kind: 'POLICY_SESSION' }],
    params: struct({ pHashList: list(TPM2B_DIGEST, MAX_BRANCHES) }),
    response: NO_RESPONSE,
    handler(ctx, [h], { pHashList }) {
      const s = ctx.core.sessions.get(h!)!;
      if (pHashList.length < MIN_BRANCHES) throw TpmError.parameter(TPM_RC.SIZE, 1);
      // A trial session computes the OR of any branches; a real one must be on one of them.
      if (s.kind !== 'trial' && !pHashList.some((d) => timingSafeEqual(d, s.policyDigest))) throw TpmError.parameter(TPM_RC.VALUE, 1);
      s.policyDigest = extendPolicy(s.authHash, new Uint8Array(s.policyDigest.length), u32be(TPM_CC.PolicyOR), concatBytes(...pHashList));
    },
  }),
];
