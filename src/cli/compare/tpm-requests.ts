/** The raw TPM commands a compare scenario sends (password authorization with the empty authValue). */
import { Writer } from '../../tpm/marshal/writer.js';
import { TPM_RS_PW, TPM_ST } from '../../tpm/spec/constants.js';
import { TPM_CC } from '../../tpm/spec/tpm-cc.js';
import { hash } from '../../tpm/crypto/hash.js';

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
