import * as nodeCrypto from 'node:crypto';
import { createHash, createHmac, type Hash } from 'node:crypto';
import type { TPM_ALG_ID } from '../spec/constants.js';
import { HASH_ALGS } from '../spec/hash-algs.js';

export interface HashAlgorithm {
  readonly alg: TPM_ALG_ID;
  readonly name: string;
  readonly digestSize: number;
  readonly blockSize: number;
}

/** The hashes the TPM implements (spec/hash-algs.ts); their names are node:crypto's too. */
const TABLE: ReadonlyMap<TPM_ALG_ID, HashAlgorithm> = new Map(HASH_ALGS.map((h) => [h.alg, h]));

/** Raised when a TPM_ALG_ID is not a hash this TPM implements (the engine maps it to TPM_RC_HASH). */
export class UnsupportedHashError extends Error {
  constructor(readonly alg: TPM_ALG_ID) {
    super(`unsupported hash algorithm 0x${alg.toString(16).padStart(4, '0')}`);
    this.name = 'UnsupportedHashError';
  }
}

/** The implemented hash algorithms, in TPM_ALG_ID order. */
export function hashAlgs(): readonly HashAlgorithm[] {
  return [...TABLE.values()];
}

export function hashAlg(alg: TPM_ALG_ID): HashAlgorithm | undefined {
  return TABLE.get(alg);
}

export function requireHashAlg(alg: TPM_ALG_ID): HashAlgorithm {
  const entry = TABLE.get(alg);
  if (entry === undefined) throw new UnsupportedHashError(alg);
  return entry;
}

export function digestSize(alg: TPM_ALG_ID): number {
  return requireHashAlg(alg).digestSize;
}

/**
 * A node Buffer as a plain Uint8Array, so callers never see Buffer semantics. Copies only when the
 * Buffer is a slice of node's shared pool, so `.buffer` never exposes unrelated memory.
 */
export function bytesOf(buf: Buffer): Uint8Array {
  const whole = buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength;
  return whole ? new Uint8Array(buf.buffer, 0, buf.byteLength) : new Uint8Array(buf);
}

/** node:crypto's one-shot hash (Node >= 20.12), which skips the Hash object; createHash before that. */
const oneShot = (nodeCrypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'buffer') => Buffer }).hash;

/** Up to this many bytes, copying chunks into one buffer for the one-shot hash beats a Hash object. */
const ONE_SHOT_MAX = 4096;

/** Where hash() joins small chunks for the one-shot hash: reused, as the hash reads it synchronously. */
const joined = new Uint8Array(ONE_SHOT_MAX);

export function hash(alg: TPM_ALG_ID, ...chunks: Uint8Array[]): Uint8Array {
  if (oneShot) {
    if (chunks.length === 1) return bytesOf(oneShot(requireHashAlg(alg).name, chunks[0]!, 'buffer'));
    let total = 0;
    for (const c of chunks) total += c.length;
    if (total <= ONE_SHOT_MAX) {
      let at = 0;
      for (const c of chunks) {
        joined.set(c, at);
        at += c.length;
      }
      return bytesOf(oneShot(requireHashAlg(alg).name, joined.subarray(0, total), 'buffer'));
    }
  }
  const h = createHash(requireHashAlg(alg).name);
  for (const c of chunks) h.update(c);
  return bytesOf(h.digest());
}

export function hmac(alg: TPM_ALG_ID, key: Uint8Array, ...chunks: Uint8Array[]): Uint8Array {
  const h = createHmac(requireHashAlg(alg).name, key);
  for (const c of chunks) h.update(c);
  return bytesOf(h.digest());
}

/** An incremental hash (hash and event sequences). `digest` ends it; `copy` forks the running state. */
export interface Hasher {
  readonly alg: HashAlgorithm;
  update(...chunks: Uint8Array[]): Hasher;
  digest(): Uint8Array;
  copy(): Hasher;
}

class NodeHasher implements Hasher {
  constructor(
    readonly alg: HashAlgorithm,
    private readonly state: Hash,
  ) {}

  update(...chunks: Uint8Array[]): Hasher {
    for (const c of chunks) this.state.update(c);
    return this;
  }

  digest(): Uint8Array {
    return bytesOf(this.state.digest());
  }

  copy(): Hasher {
    return new NodeHasher(this.alg, this.state.copy());
  }
}

export function createHasher(alg: TPM_ALG_ID): Hasher {
  const entry = requireHashAlg(alg);
  return new NodeHasher(entry, createHash(entry.name));
}

/**
 * An incremental HMAC (HMAC sequences) built from two hashers (RFC 2104), because node's Hmac
 * cannot fork its running state and a sequence must stay usable after a failed completion.
 */
class HmacHasher implements Hasher {
  constructor(
    readonly alg: HashAlgorithm,
    private readonly inner: Hasher,
    private readonly outerPad: Uint8Array,
  ) {}

  update(...chunks: Uint8Array[]): Hasher {
    this.inner.update(...chunks);
    return this;
  }

  digest(): Uint8Array {
    return hash(this.alg.alg, this.outerPad, this.inner.digest());
  }

  copy(): Hasher {
    return new HmacHasher(this.alg, this.inner.copy(), this.outerPad);
  }
}

export function createHmacHasher(alg: TPM_ALG_ID, key: Uint8Array): Hasher {
  const entry = requireHashAlg(alg);
  const block = new Uint8Array(entry.blockSize);
  block.set(key.length > entry.blockSize ? hash(alg, key) : key);
  const pad = (byte: number): Uint8Array => block.map((b) => b ^ byte);
  return new HmacHasher(entry, createHasher(alg).update(pad(0x36)), pad(0x5c));
}
