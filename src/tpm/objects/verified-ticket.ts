/**
 * TPMT_TK_VERIFIED (Part 2 §10.7.4): proof that this TPM checked a signature over a digest with a
 * key, as the reference's TicketComputeVerified(): HMAC over (TPM_ST_VERIFIED || digest || keyName)
 * keyed with the proof of the key's hierarchy. A key of the NULL hierarchy (or one with no Name)
 * gets the NULL ticket.
 */
import { TPM_ALG, TPM_RH, TPM_ST } from '../spec/constants.js';
import { hmac } from '../crypto/hash.js';
import { u32be } from '../crypto/bytes.js';
import type { TpmCore } from '../engine/tpm-core.js';
import type { TpmObject } from './tpm-object.js';
import { TICKET_HMAC_ALG } from './hash-check-ticket.js';

export interface VerifiedTicket {
  tag: number;
  hierarchy: number;
  digest: Uint8Array;
}

/** The ticket's HMAC (TicketComputeVerified), also what PolicyAuthorize checks a ticket against. */
export function verifiedTicketDigest(core: TpmCore, hierarchy: number, digest: Uint8Array, keyName: Uint8Array): Uint8Array {
  return hmac(TICKET_HMAC_ALG, core.proof(hierarchy), u32be(TPM_ST.VERIFIED).subarray(2), digest, keyName);
}

export function verifiedTicket(core: TpmCore, key: TpmObject, digest: Uint8Array): VerifiedTicket {
  if (key.hierarchy === TPM_RH.NULL || key.publicArea.nameAlg === TPM_ALG.NULL) {
    return { tag: TPM_ST.VERIFIED, hierarchy: TPM_RH.NULL, digest: new Uint8Array(0) };
  }
  return { tag: TPM_ST.VERIFIED, hierarchy: key.hierarchy, digest: verifiedTicketDigest(core, key.hierarchy, digest, key.name) };
}
