/**
 * Session-based parameter encryption (Part 1 §21): the first parameter of a command (decrypt
 * session) or of a response (encrypt session), when it is a TPM2B, travels encrypted; only its
 * octets are, not its size field. The key is sessionKey || authValue of the entity the session
 * authorizes (none if it authorizes nothing), whether or not the session is bound to it, as the
 * reference's ParseSessionBuffer / BuildResponseSession do. CFB derives key and IV with KDFa
 * "CFB", XOR a mask with KDFa "XOR"; on a command nonceCaller is the newer nonce, on a response
 * the (already rolled) nonceTPM.
 */
import { TPM_ALG } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import type { TpmCore } from '../engine/tpm-core.js';
import { symmetricDecrypt, symmetricEncrypt, xorObfuscate } from '../crypto/symmetric.js';
import { cfbParamKeys } from './session-crypto.js';
import { entityAuthValue, sessionKeyWith } from './session-table.js';
import type { CommandSession } from './authorization.js';

/** Decrypts or encrypts the octets of a TPM2B with the session's cipher. */
function transform(core: TpmCore, cs: CommandSession, newer: Uint8Array, older: Uint8Array, data: Uint8Array, decrypt: boolean): Uint8Array {
  const s = cs.session!;
  const key = cs.entity === undefined ? s.sessionKey : sessionKeyWith(s.sessionKey, entityAuthValue(core, cs.entity));
  if (s.symmetric.algorithm === TPM_ALG.XOR) return xorObfuscate(s.authHash, key, newer, older, data);
  const cfb = cfbParamKeys(s.authHash, key, newer, older, s.symmetric.keyBits);
  return decrypt ? symmetricDecrypt(s.symmetric, cfb.key, cfb.iv, data) : symmetricEncrypt(s.symmetric, cfb.key, cfb.iv, data);
}

/**
 * The command parameters with their first TPM2B decrypted, as a copy (the command bytes stay as
 * sent). A size field beyond the parameters is TPM_RC_SIZE, fewer than two octets
 * TPM_RC_INSUFFICIENT, both numbered with the decrypt session.
 */
export function decryptCommandParameter(core: TpmCore, cs: CommandSession, sessionNumber: number, parameters: Uint8Array): Uint8Array {
  if (parameters.length < 2) throw TpmError.session(TPM_RC.INSUFFICIENT, sessionNumber);
  const size = (parameters[0]! << 8) | parameters[1]!;
  if (size > parameters.length - 2) throw TpmError.session(TPM_RC.SIZE, sessionNumber);
  const plain = parameters.slice();
  plain.set(transform(core, cs, cs.nonceCaller, cs.session!.nonceTPM, parameters.subarray(2, 2 + size), true), 2);
  return plain;
}

/** Encrypts the first TPM2B of the response parameters in place; nonceTPM must have rolled already. */
export function encryptResponseParameter(core: TpmCore, cs: CommandSession, parameters: Uint8Array): void {
  const size = (parameters[0]! << 8) | parameters[1]!;
  const data = parameters.subarray(2, 2 + size);
  data.set(transform(core, cs, cs.session!.nonceTPM, cs.nonceCaller, data, false));
}
