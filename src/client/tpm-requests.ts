/**
 * The raw TPM commands mrtpm's own tools send (`compare`, `attest`; password authorization with
 * the empty authValue), and readers of their responses built on the engine's codecs.
 */
import { Writer } from '../tpm/marshal/writer.js';
import { Reader } from '../tpm/marshal/reader.js';
import { encode, sized } from '../tpm/marshal/codec.js';
import { TPML_DIGEST, TPML_PCR_SELECTION, type PcrSelection } from '../tpm/marshal/types.js';
import { TPMT_SIGNATURE } from '../tpm/marshal/signature-types.js';
import { TPM_ALG, TPM_CAP, TPM_RS_PW, TPM_ST, TPMA_OBJECT } from '../tpm/spec/constants.js';
import { TPM_CC } from '../tpm/spec/tpm-cc.js';
import { hash } from '../tpm/crypto/hash.js';

/** Any TPM2B, read as its octets. */
const TPM2B_ANY = sized(0xffff);
const NIST_P256 = 0x0003;

const TPM_SU = { clear: 0x0000, state: 0x0001 } as const;

function request(cc: number, handles: readonly number[], params: Uint8Array, authorized: boolean): Uint8Array {
  const body = new Writer(64);
  for (const h of handles) body.u32(h);
  // TPMS_AUTH_COMMAND: the password session, no nonce, continueSession, empty password.
  if (authorized) body.u32(9).u32(TPM_RS_PW).u16(0).u8(1).u16(0);
  body.bytes(params);
  const b = body.finish();
  return new Writer(10 + b.length).u16(authorized ? TPM_ST.SESSIONS : TPM_ST.NO_SESSIONS).u32(10 + b.length).u32(cc).bytes(b).finish();
}

export const startup = (su: keyof typeof TPM_SU): Uint8Array => request(TPM_CC.Startup, [], new Writer(2).u16(TPM_SU[su]).finish(), false);
export const shutdown = (su: keyof typeof TPM_SU): Uint8Array => request(TPM_CC.Shutdown, [], new Writer(2).u16(TPM_SU[su]).finish(), false);
export const pcrReset = (pcr: number): Uint8Array => request(TPM_CC.PCR_Reset, [pcr], new Uint8Array(0), true);

export function pcrEvent(pcr: number, data: Uint8Array): Uint8Array {
  return request(TPM_CC.PCR_Event, [pcr], new Writer(2 + data.length).u16(data.length).bytes(data).finish(), true);
}

/** PCR_Extend with a digest of `data` for each bank in `algs`. */
export function pcrExtend(pcr: number, algs: readonly number[], data: Uint8Array): Uint8Array {
  const w = new Writer(128).u32(algs.length);
  for (const alg of algs) w.u16(alg).bytes(hash(alg, data));
  return request(TPM_CC.PCR_Extend, [pcr], w.finish(), true);
}

/** The response code of a response. */
export const responseCode = (response: Uint8Array): number =>
  ((response[6]! << 24) | (response[7]! << 16) | (response[8]! << 8) | response[9]!) >>> 0;

/**
 * The attestation key template: the TCG EK Credential Profile's ECC P-256 AK shape (restricted,
 * signing, fixedTPM, ECDSA with SHA-256), so the same endorsement seed always gives the same AK.
 */
export function akTemplate(): Uint8Array {
  const attributes = TPMA_OBJECT.fixedTPM | TPMA_OBJECT.fixedParent | TPMA_OBJECT.sensitiveDataOrigin | TPMA_OBJECT.userWithAuth
    | TPMA_OBJECT.restricted | TPMA_OBJECT.sign;
  return new Writer(32)
    .u16(TPM_ALG.ECC).u16(TPM_ALG.SHA256).u32(attributes).u16(0) // type, nameAlg, objectAttributes, empty authPolicy
    .u16(TPM_ALG.NULL).u16(TPM_ALG.ECDSA).u16(TPM_ALG.SHA256) // no symmetric; ECDSA with SHA-256
    .u16(NIST_P256).u16(TPM_ALG.NULL) // curveID, no KDF
    .u16(0).u16(0) // unique: empty x and y
    .finish();
}

/** CreatePrimary of `template` in `hierarchy` (empty hierarchy password). */
export function createPrimary(hierarchy: number, template: Uint8Array): Uint8Array {
  const params = new Writer(template.length + 16).u16(4).u16(0).u16(0).u16(template.length).bytes(template).u16(0).u32(0).finish();
  return request(TPM_CC.CreatePrimary, [hierarchy], params, true);
}

export const flushContext = (handle: number): Uint8Array => request(TPM_CC.FlushContext, [], new Writer(4).u32(handle).finish(), false);

/** Quote by `key` (empty authValue) of `pcrs`, with `qualifyingData`, in the key's own scheme. */
export function quote(key: number, qualifyingData: Uint8Array, pcrs: readonly PcrSelection[]): Uint8Array {
  const w = new Writer(64).u16(qualifyingData.length).bytes(qualifyingData).u16(TPM_ALG.NULL);
  TPML_PCR_SELECTION.write(w, [...pcrs]);
  return request(TPM_CC.Quote, [key], w.finish(), true);
}

/** GetCapability(TPM_CAP_PCRS): the PCR allocation. */
export const getPcrAllocation = (): Uint8Array => request(TPM_CC.GetCapability, [], new Writer(12).u32(TPM_CAP.PCRS).u32(0).u32(1).finish(), false);

export const pcrRead = (pcrs: readonly PcrSelection[]): Uint8Array => request(TPM_CC.PCR_Read, [], encode(TPML_PCR_SELECTION, [...pcrs]), false);

export class TpmResponseError extends Error {
  constructor(readonly command: string, readonly rc: number) {
    super(`${command} failed: TPM response code 0x${rc.toString(16)}`);
  }
}

/** The parameters of a successful response (after the handle, if any, and parameterSize when there are sessions). */
export function responseParameters(command: string, response: Uint8Array, handles = 0): Reader {
  const rc = responseCode(response);
  if (rc !== 0) throw new TpmResponseError(command, rc);
  const r = new Reader(response);
  const tag = r.u16();
  r.u32();
  r.u32();
  for (let i = 0; i < handles; i++) r.u32();
  if (tag === TPM_ST.SESSIONS) r.u32();
  return r;
}

/** CreatePrimary's handle, TPMT_PUBLIC bytes and Name. */
export function readCreatePrimary(response: Uint8Array): { handle: number; publicArea: Uint8Array; name: Uint8Array } {
  const r = responseParameters('CreatePrimary', response, 1);
  const handle = new Reader(response.subarray(10)).u32();
  const publicArea = TPM2B_ANY.read(r);
  TPM2B_ANY.read(r); // creationData
  TPM2B_ANY.read(r); // creationHash
  r.u16();
  r.u32();
  TPM2B_ANY.read(r); // creationTicket digest
  return { handle, publicArea, name: TPM2B_ANY.read(r) };
}

/** Quote's TPMS_ATTEST and TPMT_SIGNATURE, as the octets the TPM returned. */
export function readQuote(response: Uint8Array): { attest: Uint8Array; signature: Uint8Array } {
  const r = responseParameters('Quote', response);
  const attest = TPM2B_ANY.read(r);
  const start = r.position;
  TPMT_SIGNATURE.read(r);
  return { attest, signature: new Uint8Array(response.subarray(start, r.position)) };
}

/** PCR_Read's pcrUpdateCounter, selection read and digests. */
export function readPcrRead(response: Uint8Array): { counter: number; selection: PcrSelection[]; digests: Uint8Array[] } {
  const r = responseParameters('PCR_Read', response);
  const counter = r.u32();
  const selection = TPML_PCR_SELECTION.read(r);
  return { counter, selection, digests: TPML_DIGEST.read(r) };
}

/** GetCapability(TPM_CAP_PCRS)'s allocation: one selection per bank (an empty bitmap: not allocated). */
export function readPcrAllocation(response: Uint8Array): PcrSelection[] {
  const r = responseParameters('GetCapability', response);
  r.u8(); // moreData
  r.u32(); // capability
  return TPML_PCR_SELECTION.read(r);
}
