/**
 * RSA keys as the TPM keeps them (Part 2 §11.2.4: the public modulus, the private prime p) and as
 * node:crypto uses them. Key generation takes its randomness from a byte source, so a primary key
 * derived from a seed stream comes out the same every time.
 */
import { checkPrimeSync, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { base64url, fromBigInt, modInverse, toBigInt } from './big-endian-int.js';

export const DEFAULT_RSA_EXPONENT = 65537;

/**
 * Odd primes below 2^16: candidates divisible by one are sieved out before the Miller-Rabin test.
 * Made at the first RSA key generation, not at load: an idle TPM never needs them.
 */
let sievePrimes: number[] | undefined;

function smallPrimes(): readonly number[] {
  if (sievePrimes) return sievePrimes;
  const limit = 1 << 16;
  const composite = new Uint8Array(limit);
  const out: number[] = [];
  for (let n = 3; n < limit; n += 2) {
    if (composite[n]) continue;
    out.push(n);
    for (let m = n * n; m < limit; m += 2 * n) composite[m] = 1;
  }
  return (sievePrimes = out);
}

/** Odd candidates sieved at a time. */
const WINDOW = 4096;

/**
 * The first prime from `start` on (start odd) with gcd(p - 1, e) = 1, e prime. The sieve only
 * skips multiples of small primes, so the result is the same as testing every odd number in turn.
 */
function nextPrime(start: bigint, e: bigint): bigint {
  for (let base = start; ; base += BigInt(2 * WINDOW)) {
    const composite = new Uint8Array(WINDOW);
    for (const p of smallPrimes()) {
      // base + 2i = 0 (mod p)  <=>  i = -base / 2 (mod p); (p + 1) / 2 is 2's inverse.
      const r = Number(base % BigInt(p));
      for (let i = (((p - r) % p) * ((p + 1) / 2)) % p; i < WINDOW; i += p) composite[i] = 1;
    }
    for (let i = 0; i < WINDOW; i++) {
      if (composite[i]) continue;
      const candidate = base + BigInt(2 * i);
      if ((candidate - 1n) % e !== 0n && checkPrimeSync(candidate)) return candidate;
    }
  }
}

/** A prime of bits/2 bits with its two top bits set (so p * q has exactly `bits` bits). */
function randomPrime(bits: number, e: bigint, rng: (n: number) => Uint8Array): bigint {
  const bytes = rng(bits / 16);
  bytes[0] = bytes[0]! | 0xc0;
  bytes[bytes.length - 1] = bytes[bytes.length - 1]! | 1;
  return nextPrime(toBigInt(bytes), e);
}

export interface RsaKeyMaterial {
  /** Public modulus, bits/8 octets. */
  n: Uint8Array;
  /** One prime factor, bits/16 octets (TPM2B_PRIVATE_KEY_RSA). */
  p: Uint8Array;
}

/** RSA key generation with e prime (65537 or another prime exponent). */
export function generateRsaKey(bits: number, exponent: number, rng: (n: number) => Uint8Array): RsaKeyMaterial {
  const e = BigInt(exponent);
  const p = randomPrime(bits, e, rng);
  let q = randomPrime(bits, e, rng);
  // Distinct primes, far apart (FIPS 186-4 B.3.3 asks |p - q| > 2^(bits/2 - 100)).
  while (q === p || (p > q ? p - q : q - p) < 1n << BigInt(bits / 2 - 100)) q = randomPrime(bits, e, rng);
  return { n: fromBigInt(p * q, bits / 8), p: fromBigInt(p, bits / 16) };
}

/** The exponent of TPMS_RSA_PARMS: 0 means 2^16 + 1. */
export const rsaExponent = (exponent: number): number => exponent === 0 ? DEFAULT_RSA_EXPONENT : exponent;

/** The node:crypto private key from modulus, one prime and the exponent. */
export function rsaPrivateKey(n: Uint8Array, prime: Uint8Array, exponent: number): KeyObject {
  const N = toBigInt(n);
  const p = toBigInt(prime);
  const q = N / p;
  if (p * q !== N || p <= 1n) throw new RangeError('prime does not divide the modulus');
  const e = BigInt(rsaExponent(exponent));
  const d = modInverse(e, (p - 1n) * (q - 1n));
  const half = prime.length;
  const jwk = {
    kty: 'RSA', n: base64url(n), e: base64url(fromBigInt(e)), d: base64url(fromBigInt(d, n.length)),
    p: base64url(fromBigInt(p, half)), q: base64url(fromBigInt(q, half)),
    dp: base64url(fromBigInt(d % (p - 1n))), dq: base64url(fromBigInt(d % (q - 1n))), qi: base64url(fromBigInt(modInverse(q, p))),
  };
  return createPrivateKey({ key: jwk, format: 'jwk' });
}

export function rsaPublicKey(n: Uint8Array, exponent: number): KeyObject {
  return createPublicKey({ key: { kty: 'RSA', n: base64url(n), e: base64url(fromBigInt(BigInt(rsaExponent(exponent)))) }, format: 'jwk' });
}
