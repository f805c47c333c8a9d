/**
 * RSA signatures of a digest the caller already computed (TPM2_Sign signs a digest, not a
 * message). node:crypto's sign/verify always hash their input and WebCrypto does too, so the
 * encodings are built here and only the RSA primitive is node's:
 * - RSASSA-PKCS1-v1_5 (RFC 8017 §8.2): DigestInfo || digest, padded and exponentiated by
 *   privateEncrypt / publicDecrypt with RSA_PKCS1_PADDING (block type 1).
 * - RSASSA-PSS (RFC 8017 §8.1, EMSA-PSS with MGF1 of the same hash): encoded here, then the raw
 *   primitive (RSA_NO_PADDING). The salt is as long as the digest when it fits, else as long as
 *   fits (the reference implementation's choice); verification recovers any salt length, as
 *   OpenSSL's default (auto) does.
 */
import { constants, privateEncrypt, publicDecrypt, type KeyObject } from 'node:crypto';
import type { HashAlgInfo } from '../spec/hash-algs.js';
import { hash } from './hash.js';
import { bytesEqual, concatBytes, u32be } from './bytes.js';

/** The DER DigestInfo prefix of each hash (RFC 8017 §9.2, note 1). */
const DIGEST_INFO: Record<string, Uint8Array> = {
  sha1: Buffer.from('3021300906052b0e03021a05000414', 'hex'),
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

const rawPrivate = (key: KeyObject, block: Uint8Array): Uint8Array =>
  new Uint8Array(privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, block));
const rawPublic = (key: KeyObject, block: Uint8Array): Uint8Array =>
  new Uint8Array(publicDecrypt({ key, padding: constants.RSA_NO_PADDING }, block));

export function rsassaSign(key: KeyObject, h: HashAlgInfo, digest: Uint8Array): Uint8Array {
  return new Uint8Array(privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, concatBytes(DIGEST_INFO[h.name]!, digest)));
}

export function rsassaVerify(key: KeyObject, h: HashAlgInfo, digest: Uint8Array, signature: Uint8Array): boolean {
  try {
    const recovered = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
    return bytesEqual(recovered, concatBytes(DIGEST_INFO[h.name]!, digest));
  } catch {
    return false;
  }
}

/** MGF1 (RFC 8017 §B.2.1). */
function mgf1(h: HashAlgInfo, seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0, at = 0; at < length; i++, at += h.digestSize) out.set(hash(h.alg, seed, u32be(i)).subarray(0, length - at), at);
  return out;
}

const PSS_PREFIX = new Uint8Array(8);

/** H = Hash(0x00 * 8 || mHash || salt), the value EMSA-PSS signs. */
const pssHash = (h: HashAlgInfo, digest: Uint8Array, salt: Uint8Array): Uint8Array => hash(h.alg, PSS_PREFIX, digest, salt);

/** The salt length this TPM signs with for a modulus of `modulusBytes`. */
export const pssSaltLength = (h: HashAlgInfo, modulusBytes: number): number => Math.min(h.digestSize, modulusBytes - h.digestSize - 2);

/**
 * EMSA-PSS-ENCODE with emBits = modBits - 1. The moduli this TPM makes have a multiple of 8 bits,
 * so the encoded message is as long as the modulus with its top bit cleared.
 */
export function rsapssSign(key: KeyObject, h: HashAlgInfo, digest: Uint8Array, modulusBytes: number, salt: Uint8Array): Uint8Array {
  const H = pssHash(h, digest, salt);
  const db = new Uint8Array(modulusBytes - h.digestSize - 1);
  db[db.length - salt.length - 1] = 0x01;
  db.set(salt, db.length - salt.length);
  const mask = mgf1(h, H, db.length);
  for (let i = 0; i < db.length; i++) db[i] = db[i]! ^ mask[i]!;
  db[0] = db[0]! & 0x7f;
  return rawPrivate(key, concatBytes(db, H, Uint8Array.of(0xbc)));
}

/** EMSA-PSS-VERIFY with any salt length. */
export function rsapssVerify(key: KeyObject, h: HashAlgInfo, digest: Uint8Array, signature: Uint8Array): boolean {
  let em: Uint8Array;
  try {
    em = rawPublic(key, signature);
  } catch {
    return false;
  }
  if (em.length < h.digestSize + 2 || em[em.length - 1] !== 0xbc || (em[0]! & 0x80) !== 0) return false;
  const db = em.slice(0, em.length - h.digestSize - 1);
  const H = em.subarray(db.length, db.length + h.digestSize);
  const mask = mgf1(h, H, db.length);
  for (let i = 0; i < db.length; i++) db[i] = db[i]! ^ mask[i]!;
  db[0] = db[0]! & 0x7f;
  const one = db.findIndex((b) => b !== 0);
  if (one < 0 || db[one] !== 0x01) return false;
  return bytesEqual(pssHash(h, digest, db.subarray(one + 1)), H);
}
