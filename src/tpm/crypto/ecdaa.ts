/**
 * The TPM's half of an ECDAA signature (the reference's SignEcdaa): r is the secret of a Commit,
 * k a fresh nonce, T = H(k || digest) and s = (r + T d) mod n; the signature is (k, s). The
 * arithmetic modulo n is BigInt and not constant time, as ECDSA's (ecdsa.ts).
 */
import type { TPM_ALG_ID } from '../spec/constants.js';
import type { EccCurve } from '../capability/ecc-curves.js';
import { fromBigInt, toBigInt } from './big-endian-int.js';
import { hash } from './hash.js';

export interface EcdaaSignature {
  /** The nonce k in as few octets as it needs, as the reference returns it (signatureR). */
  k: Uint8Array;
  /** s in the order's size (signatureS). */
  s: Uint8Array;
}

export function ecdaaSign(
  curve: EccCurve, hashAlg: TPM_ALG_ID, d: Uint8Array, r: Uint8Array, digest: Uint8Array, rng: (n: number) => Uint8Array,
): EcdaaSignature {
  const n = curve.order;
  const size = Math.ceil(n.toString(2).length / 8);
  for (;;) {
    // k in [1, n - 1] from extra random bits (FIPS 186-4 B.4.1), as for a key.
    const k = fromBigInt((toBigInt(rng(size + 8)) % (n - 1n)) + 1n);
    const t = toBigInt(hash(hashAlg, k, digest));
    const s = (toBigInt(r) + t * toBigInt(d)) % n;
    if (s !== 0n) return { k, s: fromBigInt(s, size) };
  }
}
