import { createHash, createHmac, getHashes, type Hash } from 'node:crypto';
import { TPM_ALG, type TPM_ALG_ID } from './alg-ids.js';

export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512' | 'sm3_256' | 'sha3_256' | 'sha3_384' | 'sha3_512';

export interface HashAlgorithm {
  readonly alg: TPM_ALG_ID;
  readonly name: HashName;
  /** The algorithm's name for node:crypto. */
  readonly nodeName: string;
  readonly digestSize: number;
  readonly blockSize: number;
}

const CANDIDATES: readonly HashAlgorithm[] = [
  { alg: TPM_ALG.SHA1, name: 'sha1', nodeName: 'sha1', digestSize: 20, blockSize: 64 },
  { alg: TPM_ALG.SHA256, name: 'sha256', nodeName: 'sha256', digestSize: 32, blockSize: 64 },
  { alg: TPM_ALG.SHA384, name: 'sha384', nodeName: 'sha384', digestSize: 48, blockSize: 128 },
  { alg: TPM_ALG.SHA512, name: 'sha512', nodeName: 'sha512', digestSize: 64, blockSize: 128 },
  { alg: TPM_ALG.SM3_256, name: 'sm3_256', nodeName: 'sm3', digestSize: 32, blockSize: 64 },
  { alg: TPM_ALG.SHA3_256, name: 'sha3_256', nodeName: 'sha3-256', digestSize: 32, blockSize: 136 },
  { alg: TPM_ALG.SHA3_384, name: 'sha3_384', nodeName: 'sha3-384', digestSize: 48, blockSize: 104 },
  { alg: TPM_ALG.SHA3_512, name: 'sha3_512', nodeName: 'sha3-512', digestSize: 64, blockSize: 72 },
];

// The OpenSSL that node links decides which of the optional algorithms (SM3, SHA-3) exist.
const nodeHashes = new Set(getHashes());
const TABLE: ReadonlyMap<TPM_ALG_ID, HashAlgorithm> = new Map(
  CANDIDATES.filter((h) => nodeHashes.has(h.nodeName)).map((h) => [h.alg, h]),
);

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

export function hash(alg: TPM_ALG_ID, ...chunks: Uint8Array[]): Uint8Array {
  const h = createHash(requireHashAlg(alg).nodeName);
  for (const c of chunks) h.update(c);
  return bytesOf(h.digest());
}

export function hmac(alg: TPM_ALG_ID, key: Uint8Array, ...chunks: Uint8Array[]): Uint8Array {
  const h = createHmac(requireHashAlg(alg).nodeName, key);
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
  return new NodeHasher(entry, createHash(entry.nodeName));
}
