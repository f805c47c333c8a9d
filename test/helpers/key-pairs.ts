/**
 * Key pairs for tests that read a key's JWK. Node 20 can deadlock on a JWK export of a key that
 * generateKeyPairSync returned: the export holds the key's mutex, a garbage collection during it
 * may run the destructor of the key's generation job, and that destructor takes the same mutex
 * (seen as an `npm test` that never ended: ExportJWKEcKey -> GC -> ~KeyGenJob -> uv_mutex_lock).
 * Here the pair is generated as DER and imported, so no KeyObject shares a generation job's mutex.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

function imported(pair: { privateKey: Buffer; publicKey: Buffer }): KeyPair {
  return {
    privateKey: createPrivateKey({ key: pair.privateKey, format: 'der', type: 'pkcs8' }),
    publicKey: createPublicKey({ key: pair.publicKey, format: 'der', type: 'spki' }),
  };
}

/** An EC key pair on `namedCurve` (node's name: P-256, secp384r1, ...). */
export function ecKeyPair(namedCurve: string): KeyPair {
  return imported(generateKeyPairSync('ec', { namedCurve, privateKeyEncoding: { type: 'pkcs8', format: 'der' }, publicKeyEncoding: { type: 'spki', format: 'der' } }));
}

/** An RSA key pair of `modulusLength` bits. */
export function rsaKeyPair(modulusLength: number): KeyPair {
  return imported(generateKeyPairSync('rsa', { modulusLength, privateKeyEncoding: { type: 'pkcs8', format: 'der' }, publicKeyEncoding: { type: 'spki', format: 'der' } }));
}
