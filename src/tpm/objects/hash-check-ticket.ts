/**
 * TPMT_TK_HASHCHECK (Part 2 §10.7.6): proof that the TPM hashed data not
 * starting with TPM_GENERATED_VALUE. Computed as the reference's TicketComputeHashCheck():
 * HMAC over (TPM_ST_HASHCHECK || hashAlg || digest) keyed with the hierarchy's proof, using the
 * context-integrity hash (TPM_PT_CONTEXT_HASH).
 */
import { TPM_ALG, TPM_RH, TPM_ST } from '../spec/constants.js';
import { hmac } from '../crypto/hash.js';
import type { TpmCore } from '../engine/tpm-core.js';

/** The hash of ticket HMACs and context integrity; reported as TPM_PT_CONTEXT_HASH. */
export const TICKET_HMAC_ALG = TPM_ALG.SHA512;

export interface HashCheckTicket {
  tag: number;
  hierarchy: number;
  digest: Uint8Array;
}

/** The ticket a hierarchy gives; TPM_RH_NULL (or unsafe data) gets the NULL ticket. */
export function hashCheckTicket(core: TpmCore, hierarchy: number, hashAlg: number, digest: Uint8Array, safe: boolean): HashCheckTicket {
  if (hierarchy === TPM_RH.NULL || !safe) return { tag: TPM_ST.HASHCHECK, hierarchy: TPM_RH.NULL, digest: new Uint8Array(0) };
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint16(0, TPM_ST.HASHCHECK);
  new DataView(header.buffer).setUint16(2, hashAlg);
  return { tag: TPM_ST.HASHCHECK, hierarchy, digest: hmac(TICKET_HMAC_ALG, core.proof(hierarchy), header, digest) };
}
