/** Part 3 §23.4, TPM2_PolicySecret: the policy is satisfied by proving knowledge of authHandle's authValue. */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { TPM_RH, TPM_ST } from '../spec/constants.js';
import { UINT16, UINT32, sized, struct } from '../marshal/codec.js';
import { TPM2B_DIGEST, TPM2B_NONCE } from '../marshal/types.js';
import { command } from '../engine/command-def.js';
import { policyUpdate } from '../auth/session-crypto.js';
import { digestSize } from '../crypto/hash.js';
import { timingSafeEqual } from '../auth/compare.js';

/** TPM2B_TIMEOUT (Part 2 §10.4.10): at most a UINT64. */
const TPM2B_TIMEOUT = sized(8);
/** TPMT_TK_AUTH (Part 2 §10.7.5). */
const TPMT_TK_AUTH = struct({ tag: UINT16, hierarchy: UINT32, digest: TPM2B_DIGEST });
const EMPTY = new Uint8Array(0);

export const POLICY_SECRET_COMMANDS = [
  command({
    code: TPM_CC.PolicySecret, name: 'PolicySecret',
    handles: [{ name: 'authHandle', kind: 'ENTITY', auth: 'USER' }, { name: 'policySession', kind: 'POLICY_SESSION' }],
    params: struct({ nonceTPM: TPM2B_NONCE, cpHashA: TPM2B_DIGEST, policyRef: TPM2B_NONCE, expiration: UINT32 }),
    response: struct({ timeout: TPM2B_TIMEOUT, policyTicket: TPMT_TK_AUTH }),
    handler(ctx, [authHandle, h], { nonceTPM, cpHashA, policyRef, expiration }) {
      const s = ctx.core.sessions.get(h!)!;
      if (nonceTPM.length !== 0 && !timingSafeEqual(nonceTPM, s.nonceTPM)) throw TpmError.parameter(TPM_RC.NONCE, 1);
      // Session expiry needs the session's start time, which sessions do not record yet: refuse rather than ignore it.
      if (expiration !== 0) throw TpmError.parameter(TPM_RC.EXPIRED, 4);
      if (cpHashA.length !== 0) {
        if (cpHashA.length !== digestSize(s.authHash)) throw TpmError.parameter(TPM_RC.SIZE, 2);
        if (s.cpHash !== undefined && !timingSafeEqual(s.cpHash, cpHashA)) throw TpmError.parameter(TPM_RC.CPHASH, 2);
      }
      s.policyDigest = policyUpdate(s.authHash, s.policyDigest, TPM_CC.PolicySecret, ctx.core.name(authHandle!), policyRef);
      if (cpHashA.length !== 0) s.cpHash = cpHashA;
      // Without a negative expiration no ticket is produced: the NULL TPMT_TK_AUTH.
      return { timeout: EMPTY, policyTicket: { tag: TPM_ST.AUTH_SECRET, hierarchy: TPM_RH.NULL, digest: EMPTY } };
    },
  }),
];
