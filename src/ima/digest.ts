/**
 * Hashing by kernel hash name (sha1, sha256, ...). One-shot crypto.hash (Node 20.12+) where there
 * is one: a 100,000-entry list hashes about a million times, and the Hash object costs twice as much.
 */
import * as crypto from 'node:crypto';

type OneShot = (algorithm: string, data: Uint8Array, outputEncoding: 'buffer') => Buffer;
const oneShot = (crypto as unknown as { hash?: OneShot }).hash;

export function digestOf(hashName: string, data: Uint8Array): Uint8Array {
  return oneShot ? oneShot(hashName, data, 'buffer') : crypto.createHash(hashName).update(data).digest();
}

/** A PCR extend: H(old || digest). */
export function extendValue(hashName: string, old: Uint8Array, digest: Uint8Array): Uint8Array {
  const joined = new Uint8Array(old.length + digest.length);
  joined.set(old);
  joined.set(digest, old.length);
  return digestOf(hashName, joined);
}

const sizes = new Map<string, number>();
export function digestSizeOf(hashName: string): number {
  let size = sizes.get(hashName);
  if (size === undefined) sizes.set(hashName, size = crypto.createHash(hashName).digest().length);
  return size;
}
