/**
 * Part 3 §23.3 PolicySigned and §23.5 PolicyTicket. PolicySigned is satisfied by a signature of
 * the key at authObject over aHash = H(nonceTPM || expiration || cpHashA || policyRef), hashed with
 * the signature's hash; PolicyTicket by a ticket an earlier PolicySigned or PolicySecret gave.
 * Both then update the session as the authorization they stand for (policyContextUpdate).
 */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_ST } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { hashInfo } from '../spec/hash-algs.js';
import { INT32, struct } from '../marshal/codec.js';
import { TPM2B_DIGEST, TPM2B_NONCE } from '../marshal/types.js';
import { TPM2B_NAME } from '../marshal/object-types.js';
import { TPMT_SIGNATURE } from '../marshal/signature-types.js';
import { TPM2B_TIMEOUT, TPMT_TK_AUTH } from '../marshal/policy-types.js';
import { command } from '../engine/command-def.js';
import { authTimeout, policyContextUpdate, policyParameterChecks } from '../auth/policy-context.js';
import { EXPIRES_ON_RESET, authTicketDigest, entityHierarchy, policyAuthResult } from '../auth/auth-ticket.js';
import { timingSafeEqual } from '../auth/compare.js';
import { verifySignature } from '../objects/signatures.js';
import { asParameter } from '../objects/object-loading.js';
import { hash } from '../crypto/hash.js';
import { u32be } from '../crypto/bytes.js';
import { NO_RESPONSE } from './no-response.js';

const POLICY_SESSION = { name: 'policySession', kind: 'POLICY_SESSION' } as const;
const AUTH_PARAMETER = 5;
const TICKET_PARAMETER = 5;
const TIMEOUT_OCTETS = 8;

/** The policy command a ticket stands for. */
const TICKET_COMMAND: Record<number, number> = {
  [TPM_ST.AUTH_SIGNED]: TPM_CC.PolicySigned,
  [TPM_ST.AUTH_SECRET]: TPM_CC.PolicySecret,
};

export const POLICY_SIGNED_COMMANDS = [
  command({
    code: TPM_CC.PolicySigned, name: 'PolicySigned',
    handles: [{ name: 'authObject', kind: 'OBJECT' }, POLICY_SESSION],
    params: struct({ nonceTPM: TPM2B_NONCE, cpHashA: TPM2B_DIGEST, policyRef: TPM2B_NONCE, expiration: INT32, auth: TPMT_SIGNATURE }),
    response: struct({ timeout: TPM2B_TIMEOUT, policyTicket: TPMT_TK_AUTH }),
    handler({ core }, [authObject, h], { nonceTPM, cpHashA, policyRef, expiration, auth }) {
      const s = core.sessions.get(h!)!;
      const trial = s.kind === 'trial';
      // A trial session only computes the digest: no signature, no timeout, no ticket.
      const timeout = trial ? 0n : authTimeout(core, s, expiration, nonceTPM);
      if (!trial) {
        policyParameterChecks(core, s, timeout, cpHashA, nonceTPM, { nonce: 1, cpHash: 2, expiration: 4 });
        if (!hashInfo(auth.hash)) throw TpmError.parameter(TPM_RC.SCHEME, AUTH_PARAMETER);
        const aHash = hash(auth.hash, nonceTPM, u32be(expiration >>> 0), cpHashA, policyRef);
        asParameter(AUTH_PARAMETER, () => verifySignature(core.object(authObject!), aHash, auth));
      }
      const name = core.name(authObject!);
      policyContextUpdate(s, TPM_CC.PolicySigned, name, policyRef, cpHashA, timeout);
      return policyAuthResult(core, s, {
        tag: TPM_ST.AUTH_SIGNED, hierarchy: entityHierarchy(core, authObject!), expiration, nonceTPM, timeout, cpHashA, policyRef, authName: name,
      });
    },
  }),
  command({
    code: TPM_CC.PolicyTicket, name: 'PolicyTicket',
    handles: [POLICY_SESSION],
    params: struct({ timeout: TPM2B_TIMEOUT, cpHashA: TPM2B_DIGEST, policyRef: TPM2B_NONCE, authName: TPM2B_NAME, ticket: TPMT_TK_AUTH }),
    response: NO_RESPONSE,
    handler({ core }, [h], { timeout: timeoutBuffer, cpHashA, policyRef, authName, ticket }) {
      const s = core.sessions.get(h!)!;
      // A ticket proves an authorization to a real session; a trial session has PolicySigned/PolicySecret.
      if (s.kind === 'trial') throw TpmError.handle(TPM_RC.ATTRIBUTES, 1);
      if (timeoutBuffer.length !== TIMEOUT_OCTETS) throw TpmError.parameter(TPM_RC.SIZE, 1);
      const raw = Buffer.from(timeoutBuffer).readBigUInt64BE();
      const expiresOnReset = (raw & EXPIRES_ON_RESET) !== 0n;
      const timeout = raw & ~EXPIRES_ON_RESET;
      policyParameterChecks(core, s, timeout, cpHashA, undefined, { nonce: 0, cpHash: 2, expiration: 1 });
      const expected = authTicketDigest(core, { tag: ticket.tag, hierarchy: ticket.hierarchy, timeout, expiresOnReset, cpHashA, policyRef, authName });
      if (!timingSafeEqual(expected, ticket.digest)) throw TpmError.parameter(TPM_RC.TICKET, TICKET_PARAMETER);
      policyContextUpdate(s, TICKET_COMMAND[ticket.tag]!, authName, policyRef, cpHashA, timeout);
    },
  }),
];
