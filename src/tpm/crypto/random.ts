import { randomFillSync } from 'node:crypto';

/**
 * The TPM's random source; the one place to swap in a DRBG. Small requests (nonces, GetRandom)
 * are served from a pool refilled by the CSPRNG in 4 KiB batches: a call into OpenSSL per nonce
 * costs more than the rest of a PCR command. Every byte handed out is used once.
 */
const POOL_SIZE = 4096;
const pool = new Uint8Array(POOL_SIZE);
let used = POOL_SIZE;

export function randomBytes(n: number): Uint8Array {
  if (n > POOL_SIZE) return randomFillSync(new Uint8Array(n));
  if (used + n > POOL_SIZE) {
    randomFillSync(pool);
    used = 0;
  }
  const out = pool.slice(used, used + n);
  pool.fill(0, used, used + n);
  used += n;
  return out;
}
