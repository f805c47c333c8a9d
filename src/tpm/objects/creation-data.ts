/**
 * What Create, CreatePrimary and CreateLoaded report about the creation of an object (Part 1
 * §27.1, Part 2 §15.1): TPMS_CREATION_DATA, its digest, and the ticket that lets CertifyCreation
 * prove this TPM created the object.
 */
import { TPM_ST } from '../spec/constants.js';
import { hash, hmac } from '../crypto/hash.js';
import { u32be } from '../crypto/bytes.js';
import { encode } from '../marshal/codec.js';
import type { PcrSelection } from '../marshal/types.js';
import { TPMS_CREATION_DATA, type CreationData, type CreationTicket } from '../marshal/object-types.js';
import type { TpmCore } from '../engine/tpm-core.js';
import { TICKET_HMAC_ALG } from './hash-check-ticket.js';

export interface CreationInputs {
  nameAlg: number;
  objectName: Uint8Array;
  hierarchy: number;
  pcrSelect: PcrSelection[];
  outsideInfo: Uint8Array;
  locality: number;
  parentNameAlg: number;
  parentName: Uint8Array;
  parentQualifiedName: Uint8Array;
}

export interface CreationOutputs {
  creationData: CreationData;
  creationHash: Uint8Array;
  creationTicket: CreationTicket;
}

/** TPMA_LOCALITY: localities 0-4 as bits, extended localities (32 and up) as the value. */
const localityAttribute = (locality: number): number => locality < 5 ? 1 << locality : locality;

export function creationOutputs(core: TpmCore, c: CreationInputs): CreationOutputs {
  const creationData: CreationData = {
    pcrSelect: c.pcrSelect,
    pcrDigest: core.pcrs.compositeDigest(c.nameAlg, c.pcrSelect),
    locality: localityAttribute(c.locality),
    parentNameAlg: c.parentNameAlg,
    parentName: c.parentName,
    parentQualifiedName: c.parentQualifiedName,
    outsideInfo: c.outsideInfo,
  };
  const creationHash = hash(c.nameAlg, encode(TPMS_CREATION_DATA, creationData));
  const digest = creationTicketDigest(core, c.hierarchy, c.objectName, creationHash);
  return { creationData, creationHash, creationTicket: { tag: TPM_ST.CREATION, hierarchy: c.hierarchy, digest } };
}

/** TicketComputeCreation: HMAC(proof, TPM_ST_CREATION || Name || creationHash); CertifyCreation recomputes it. */
export function creationTicketDigest(core: TpmCore, hierarchy: number, objectName: Uint8Array, creationHash: Uint8Array): Uint8Array {
  return hmac(TICKET_HMAC_ALG, core.proof(hierarchy), u32be(TPM_ST.CREATION).subarray(2), objectName, creationHash);
}
