/** Part 3 §23, enhanced authorization: PolicyPCR, PolicyCommandCode, PolicyAuthValue, PolicyPassword and PolicyGetDigest. */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { UINT32, encode, struct } from '../marshal/codec.js';
import { TPM2B_DIGEST, TPML_PCR_SELECTION } from '../marshal/types.js';
import { command } from '../engine/command-def.js';
import { extendPolicy, policyPcrUpdate } from '../auth/session-crypto.js';
import { u32be } from '../crypto/bytes.js';
import { timingSafeEqual } from '../auth/compare.js';
import { NO_RESPONSE } from './no-response.js';
import { COMMANDS } from './command-table.js';

/**
 * PolicyAuthValue and PolicyPassword extend the same digest (with TPM_CC_PolicyAuthValue, so a
 * policy does not say which of the two satisfies it) and differ in how the authValue is proven
 * at use: in the session HMAC, or as a cleartext password.
 */
const authValuePolicy = (code: number, name: string, proof: 'hmac' | 'password') => command({
  code, name,
  handles: [{ name: 'policySession', kind: 'POLICY_SESSION' }],
  params: struct({}),
  response: NO_RESPONSE,
  handler(ctx, [h]) {
    const s = ctx.core.sessions.get(h!)!;
    s.policyDigest = extendPolicy(s.authHash, s.policyDigest, u32be(TPM_CC.PolicyAuthValue));
    s.isAuthValueNeeded = proof === 'hmac';
    s.isPasswordNeeded = proof === 'password';
  },
});

export const ENHANCED_AUTHORIZATION_COMMANDS = [
  authValuePolicy(TPM_CC.PolicyAuthValue, 'PolicyAuthValue', 'hmac'),
  authValuePolicy(TPM_CC.PolicyPassword, 'PolicyPassword', 'password'),
  command({
    code: TPM_CC.PolicyPCR, name: 'PolicyPCR',
    handles: [{ name: 'policySession', kind: 'POLICY_SESSION' }],
    params: struct({ pcrDigest: TPM2B_DIGEST, pcrs: TPML_PCR_SELECTION }),
    response: NO_RESPONSE,
    handler(ctx, [h], { pcrDigest, pcrs }) {
      const { core } = ctx;
      const s = core.sessions.get(h!)!;
      const current = core.pcrs.compositeDigest(s.authHash, pcrs);
      let digest = current;
      if (s.kind === 'trial') {
        // A trial session computes a policy for PCR values given, or for the current ones.
        if (pcrDigest.length !== 0) digest = pcrDigest;
      } else {
        const counter = core.volatile.pcrUpdateCounter;
        if (s.pcrCounter !== undefined && s.pcrCounter !== counter) throw new TpmError(TPM_RC.PCR_CHANGED);
        if (pcrDigest.length !== 0 && !timingSafeEqual(pcrDigest, current)) throw TpmError.parameter(TPM_RC.VALUE, 1);
      }
      s.policyDigest = policyPcrUpdate(s.authHash, s.policyDigest, encode(TPML_PCR_SELECTION, pcrs), digest);
      // The PCRs must not change between this assertion and the use of the session.
      if (s.kind !== 'trial') s.pcrCounter = core.volatile.pcrUpdateCounter;
    },
  }),
  command({
    code: TPM_CC.PolicyCommandCode, name: 'PolicyCommandCode',
    handles: [{ name: 'policySession', kind: 'POLICY_SESSION' }],
    params: struct({ code: UINT32 }),
    response: NO_RESPONSE,
    handler(ctx, [h], { code }) {
      const s = ctx.core.sessions.get(h!)!;
      // A session is bound to one command; a second, different code is a contradiction.
      if (s.commandCode !== undefined && s.commandCode !== code) throw TpmError.parameter(TPM_RC.VALUE, 1);
      if (!COMMANDS.has(code)) throw TpmError.parameter(TPM_RC.POLICY_CC, 1);
      s.policyDigest = extendPolicy(s.authHash, s.policyDigest, u32be(TPM_CC.PolicyCommandCode), u32be(code));
      s.commandCode = code;
    },
  }),
  command({
    code: TPM_CC.PolicyGetDigest, name: 'PolicyGetDigest',
    handles: [{ name: 'policySession', kind: 'POLICY_SESSION' }],
    params: struct({}),
    response: struct({ policyDigest: TPM2B_DIGEST }),
    handler: (ctx, [h]) => ({ policyDigest: ctx.core.sessions.get(h!)!.policyDigest }),
  }),
];
