/**
 * PolicySecret (Part 3 §23.4): the policy is satisfied by proving knowledge of an entity's
 * authValue (or its policy), which the command's authorization area does for authHandle.
 */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_ST } from '../spec/constants.js';
import { INT32, struct } from '../marshal/codec.js';
import { TPM2B_DIGEST, TPM2B_NONCE } from '../marshal/types.js';
import { TPM2B_TIMEOUT, TPMT_TK_AUTH } from '../marshal/policy-types.js';
import { command } from '../engine/command-def.js';
import { authTimeout, policyContextUpdate, policyParameterChecks } from '../auth/policy-context.js';
import { entityHierarchy, policyAuthResult } from '../auth/auth-ticket.js';

export const POLICY_SECRET_COMMANDS = [
  command({
    code: TPM_CC.PolicySecret, name: 'PolicySecret',
    handles: [
      { name: 'authHandle', kind: 'ENTITY', auth: 'USER' },
      { name: 'policySession', kind: 'POLICY_SESSION' },
    ],
    params: struct({ nonceTPM: TPM2B_NONCE, cpHashA: TPM2B_DIGEST, policyRef: TPM2B_NONCE, expiration: INT32 }),
    response: struct({ timeout: TPM2B_TIMEOUT, policyTicket: TPMT_TK_AUTH }),
    handler(ctx, [authHandle, h], { nonceTPM, cpHashA, policyRef, expiration }) {
      const { core } = ctx;
      const s = core.sessions.get(h!)!;
      const trial = s.kind === 'trial';
      // A trial session only computes the digest: no checks, no timeout, no ticket.
      const timeout = trial ? 0n : authTimeout(core, s, expiration, nonceTPM);
      if (!trial) policyParameterChecks(core, s, timeout, cpHashA, nonceTPM, { nonce: 1, cpHash: 2, expiration: 4 });
      const name = core.name(authHandle!);
      policyContextUpdate(s, TPM_CC.PolicySecret, name, policyRef, cpHashA, timeout);
      return policyAuthResult(core, s, {
        tag: TPM_ST.AUTH_SECRET, hierarchy: entityHierarchy(core, authHandle!), expiration, nonceTPM, timeout, cpHashA, policyRef, authName: name,
      });
    },
  }),
];
