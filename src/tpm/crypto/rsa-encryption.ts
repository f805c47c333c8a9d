/**
 * RSA encryption schemes of RSA_Encrypt / RSA_Decrypt (Part 1 §B.10): OAEP (RFC 8017 §7.1, MGF1
 * with the scheme's hash), RSAES-PKCS1-v1_5 (§7.2) and raw RSA (TPM_ALG_NULL). node:crypto does
 * all but one step: Node 20 refuses PKCS#1 v1.5 private decryption (the Marvin attack,
 * CVE-2023-46809), so that padding is removed here from the raw result. Failures are RangeErrors;
 * the caller makes them TPM_RC_VALUE.
 */
import { constants, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto';
import { TPM_ALG } from '../spec/constants.js';
import type { HashAlgInfo } from '../spec/hash-algs.js';

export interface RsaEncryptionScheme {
  scheme: number;
  /** OAEP only. */
  hash?: HashAlgInfo;
}

const out = (b: Buffer): Uint8Array => new Uint8Array(b);

/** A raw message as exactly `size` octets: leading zeros dropped or added (the reference's rule). */
function rawBlock(message: Uint8Array, size: number): Uint8Array {
  const first = message.findIndex((b) => b !== 0);
  const value = first < 0 ? new Uint8Array(0) : message.subarray(first);
  if (value.length > size) throw new RangeError('message larger than the modulus');
  const block = new Uint8Array(size);
  block.set(value, size - value.length);
  return block;
}

export function rsaEncrypt(key: KeyObject, modulusBytes: number, s: RsaEncryptionScheme, message: Uint8Array, label: Uint8Array): Uint8Array {
  try {
    switch (s.scheme) {
      case TPM_ALG.OAEP:
        return out(publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: s.hash!.name, oaepLabel: label }, message));
      case TPM_ALG.RSAES:
        return out(publicEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, message));
      default:
        return out(publicEncrypt({ key, padding: constants.RSA_NO_PADDING }, rawBlock(message, modulusBytes)));
    }
  } catch (e) {
    throw e instanceof RangeError ? e : new RangeError('message does not fit the scheme');
  }
}

/** EME-PKCS1-v1_5 decoding (RFC 8017 §7.2.2 step 3): 00 02 PS(>= 8 non-zero octets) 00 M. */
function pkcs1v15Message(em: Uint8Array): Uint8Array {
  const separator = em.indexOf(0, 2);
  if (em[0] !== 0 || em[1] !== 2 || separator < 10) throw new RangeError('invalid PKCS#1 v1.5 padding');
  return em.slice(separator + 1);
}

export function rsaDecrypt(key: KeyObject, s: RsaEncryptionScheme, cipherText: Uint8Array, label: Uint8Array): Uint8Array {
  try {
    switch (s.scheme) {
      case TPM_ALG.OAEP:
        return out(privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: s.hash!.name, oaepLabel: label }, cipherText));
      case TPM_ALG.RSAES:
        return pkcs1v15Message(out(privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, cipherText)));
      default:
        return out(privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, cipherText));
    }
  } catch (e) {
    throw e instanceof RangeError ? e : new RangeError('cipher text does not decrypt');
  }
}
