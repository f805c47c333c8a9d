import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { bytesOf } from './hash.js';

/** The TPM's random source; the one place to swap in a DRBG. */
export function randomBytes(n: number): Uint8Array {
  return bytesOf(nodeRandomBytes(n));
}
