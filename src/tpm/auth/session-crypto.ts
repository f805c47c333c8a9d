/**
 * The pure arithmetic of TPM 2.0 authorization sessions: command/response parameter hashes,
 * session keys, session HMACs, policy digest updates and parameter-encryption keys.
 * Everything is bytes in, bytes out; the session's hash is given as a TPM_ALG_ID.
 */
import type { TPM_ALG_ID } from '../spec/constants.js';
import { u32be } from '../crypto/bytes.js';
import { digestSize, hash, hmac } from '../crypto/hash.js';
import { kdfa } from '../crypto/kdf.js';

/** TPM_CC_PolicyPCR (Part 2 §6.5.2), the command code PolicyPCR folds into the policy digest. */
export const TPM_CC_PolicyPCR = 0x0000017f;

/** cpHash = H(commandCode || name1 || name2 || ... || parameters), Part 1 §18.7 / §19.6.5. */
export function cpHash(alg: TPM_ALG_ID, commandCode: number, names: Uint8Array[], parameters: Uint8Array): Uint8Array {
  return hash(alg, u32be(commandCode), ...names, parameters);
}

/** rpHash = H(responseCode || commandCode || parameters), Part 1 §18.8 / §19.6.5. */
export function rpHash(alg: TPM_ALG_ID, responseCode: number, commandCode: number, parameters: Uint8Array): Uint8Array {
  return hash(alg, u32be(responseCode), u32be(commandCode), parameters);
}

/**
 * sessionKey = KDFa(alg, bind.authValue || salt, "ATH", nonceTPM, nonceCaller, digest bits),
 * Part 1 §19.6.8; an unbound, unsalted session (empty key) has an empty session key.
 */
export function sessionKey(alg: TPM_ALG_ID, key: Uint8Array, nonceTPM: Uint8Array, nonceCaller: Uint8Array): Uint8Array {
  if (key.length === 0) return new Uint8Array(0);
  return kdfa(alg, key, 'ATH', nonceTPM, nonceCaller, digestSize(alg) * 8);
}

/**
 * The session HMAC of Part 1 §19.6.5: HMAC(sessionKey || authValue,
 * pHash || nonceNewer || nonceOlder || nonceDecrypt || nonceEncrypt || sessionAttributes).
 * On a command nonceNewer is nonceCaller; on a response it is nonceTPM. nonceDecrypt and
 * nonceEncrypt are present only in the first session's command HMAC (else empty).
 */
export function sessionHmac(
  alg: TPM_ALG_ID,
  hmacKey: Uint8Array,
  pHash: Uint8Array,
  nonceNewer: Uint8Array,
  nonceOlder: Uint8Array,
  nonceDecrypt: Uint8Array,
  nonceEncrypt: Uint8Array,
  sessionAttributes: number,
): Uint8Array {
  return hmac(alg, hmacKey, pHash, nonceNewer, nonceOlder, nonceDecrypt, nonceEncrypt, Uint8Array.of(sessionAttributes & 0xff));
}

/** policyDigest_new = H(policyDigest_old || parts...), the extend every policy command performs. */
export function extendPolicy(alg: TPM_ALG_ID, policyDigest: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  return hash(alg, policyDigest, ...parts);
}

/**
 * PolicyUpdate() of Part 3 §23.2.3: H(H(policyDigest || commandCode || arg2) || arg3).
 * The second extend happens whenever arg3 is given, even empty (PolicySigned/PolicySecret with an
 * empty policyRef still hash it); omit arg3 for commands that have none.
 */
export function policyUpdate(
  alg: TPM_ALG_ID,
  policyDigest: Uint8Array,
  commandCode: number,
  arg2: Uint8Array,
  arg3?: Uint8Array,
): Uint8Array {
  const first = extendPolicy(alg, policyDigest, u32be(commandCode), arg2);
  return arg3 === undefined ? first : extendPolicy(alg, first, arg3);
}

/** PolicyPCR, Part 3 §23.7: H(policyDigest || TPM_CC_PolicyPCR || TPML_PCR_SELECTION || pcrDigest). */
export function policyPcrUpdate(
  alg: TPM_ALG_ID,
  policyDigest: Uint8Array,
  pcrSelectionBytes: Uint8Array,
  pcrDigest: Uint8Array,
): Uint8Array {
  return extendPolicy(alg, policyDigest, u32be(TPM_CC_PolicyPCR), pcrSelectionBytes, pcrDigest);
}

export interface CfbParamKeys {
  readonly key: Uint8Array;
  readonly iv: Uint8Array;
}

/** The AES block size in bytes: CFB parameter encryption derives this much IV. */
const CFB_IV_BYTES = 16;

/**
 * Parameter-encryption key and IV for a CFB session, Part 1 §21.3:
 * KDFa(alg, sessionKey || authValue, "CFB", nonceNewer, nonceOlder, keyBits + 128) split into
 * key (first keyBits) and IV (last 128 bits).
 */
export function cfbParamKeys(
  alg: TPM_ALG_ID,
  sessionKeyAndAuth: Uint8Array,
  nonceNewer: Uint8Array,
  nonceOlder: Uint8Array,
  symKeyBits: number,
): CfbParamKeys {
  const keyBytes = symKeyBits / 8;
  const out = kdfa(alg, sessionKeyAndAuth, 'CFB', nonceNewer, nonceOlder, symKeyBits + CFB_IV_BYTES * 8);
  return { key: out.slice(0, keyBytes), iv: out.slice(keyBytes) };
}
