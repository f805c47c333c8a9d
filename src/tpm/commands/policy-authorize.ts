/**
 * Part 3 §23.16 PolicyAuthorize and §23.22 PolicyAuthorizeNV: the policy so far is replaced by
 * one that stands for every policy an authority approved: one signed by the key keySign names
 * (proven by a VerifySignature ticket over H(approvedPolicy || policyRef)), or the TPMT_HA held in
 * an NV index. The session's digest restarts from zeros and takes in the authority's Name.
 */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { MAX_DIGEST_SIZE, hashInfo, isHashAlg } from '../spec/hash-algs.js';
import { struct } from '../marshal/codec.js';
import { Reader } from '../marshal/reader.js';
import { TPM2B_DIGEST, TPM2B_NONCE, TPMT_HA } from '../marshal/types.js';
import { TPM2B_NAME } from '../marshal/object-types.js';
import { TPMT_TK_VERIFIED } from '../marshal/signature-types.js';
import { command } from '../engine/command-def.js';
import type { SessionState } from '../state/tpm-state.js';
import { policyContextUpdate } from '../auth/policy-context.js';
import { timingSafeEqual } from '../auth/compare.js';
import { checkReadAccess } from '../nv/nv-access.js';
import { verifiedTicketDigest } from '../objects/verified-ticket.js';
import { hash } from '../crypto/hash.js';
import { NO_RESPONSE } from './no-response.js';

const POLICY_SESSION = { name: 'policySession', kind: 'POLICY_SESSION' } as const;
const EMPTY = new Uint8Array(0);
const KEY_SIGN_PARAMETER = 3;
const TPMT_HA_MAX = 2 + MAX_DIGEST_SIZE;

/** PolicyDigestClear, then the authority enters the digest as in PolicySigned (no cpHash, no timeout). */
function replacePolicy(s: SessionState, code: number, authorityName: Uint8Array, policyRef: Uint8Array | undefined): void {
  s.policyDigest = new Uint8Array(s.policyDigest.length);
  policyContextUpdate(s, code, authorityName, policyRef, EMPTY, 0n);
}

/** keySign is a Name with a digest: a hash algorithm and a digest of its size (TPM_RC_SIZE / TPM_RC_HASH, parameter 3). */
function keySignHash(keySign: Uint8Array): number {
  if (keySign.length < 2) throw TpmError.parameter(TPM_RC.SIZE, KEY_SIGN_PARAMETER);
  const alg = (keySign[0]! << 8) | keySign[1]!;
  if (!isHashAlg(alg)) throw TpmError.parameter(TPM_RC.HASH, KEY_SIGN_PARAMETER);
  if (hashInfo(alg)!.digestSize !== keySign.length - 2) throw TpmError.parameter(TPM_RC.SIZE, KEY_SIGN_PARAMETER);
  return alg;
}

export const POLICY_AUTHORIZE_COMMANDS = [
  command({
    code: TPM_CC.PolicyAuthorize, name: 'PolicyAuthorize',
    handles: [POLICY_SESSION],
    params: struct({ approvedPolicy: TPM2B_DIGEST, policyRef: TPM2B_NONCE, keySign: TPM2B_NAME, checkTicket: TPMT_TK_VERIFIED }),
    response: NO_RESPONSE,
    handler({ core }, [h], { approvedPolicy, policyRef, keySign, checkTicket }) {
      const s = core.sessions.get(h!)!;
      const alg = keySignHash(keySign);
      if (s.kind !== 'trial') {
        if (!timingSafeEqual(s.policyDigest, approvedPolicy)) throw TpmError.parameter(TPM_RC.VALUE, 1);
        const aHash = hash(alg, approvedPolicy, policyRef);
        const expected = verifiedTicketDigest(core, checkTicket.hierarchy, aHash, keySign);
        if (!timingSafeEqual(expected, checkTicket.digest)) throw TpmError.parameter(TPM_RC.VALUE, 4);
      }
      replacePolicy(s, TPM_CC.PolicyAuthorize, keySign, policyRef);
    },
  }),
  command({
    code: TPM_CC.PolicyAuthorizeNV, name: 'PolicyAuthorizeNV',
    handles: [
      { name: 'authHandle', kind: 'NV_AUTH', auth: 'USER' },
      { name: 'nvIndex', kind: 'NV_INDEX' },
      POLICY_SESSION,
    ],
    params: struct({}),
    response: NO_RESPONSE,
    handler({ core }, [authHandle, nvHandle, h]) {
      const s = core.sessions.get(h!)!;
      if (s.kind !== 'trial') {
        const index = core.nv.get(nvHandle!)!;
        checkReadAccess(authHandle!, index);
        // The index holds a TPMT_HA (more octets after it do not matter); an unmarshal error is the command's.
        const approved = TPMT_HA.read(new Reader(index.data.subarray(0, Math.min(index.dataSize, TPMT_HA_MAX))));
        if (approved.hashAlg !== s.authHash) throw new TpmError(TPM_RC.HASH);
        if (!timingSafeEqual(approved.digest, s.policyDigest)) throw new TpmError(TPM_RC.VALUE);
      }
      replacePolicy(s, TPM_CC.PolicyAuthorizeNV, core.name(nvHandle!), undefined);
    },
  }),
];
