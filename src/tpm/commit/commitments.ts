/**
 * Commitments of the split ECC operations (Part 1, ECDAA; the reference's CryptGenerateR,
 * CryptCommit and CryptEndCommit): Commit and EC_Ephemeral derive a secret r from the commit
 * counter and hand out the counter's low 16 bits; the second half (ECDAA signing, ZGen_2Phase)
 * derives the same r from that value, once.
 */
import { TPM_ALG } from '../spec/constants.js';
import { u64be } from '../crypto/bytes.js';
import { kdfa } from '../crypto/kdf.js';
import { toBigInt } from '../crypto/big-endian-int.js';
import type { EccCurve } from '../capability/ecc-curves.js';
import type { CommitState } from '../state/tpm-state.js';

/** The reference's COMMIT_STRING. */
const COMMIT_LABEL = 'ECDAA Commit';
/** r is derived as the reference derives it: with the context integrity hash. */
const COMMIT_KDF_HASH = TPM_ALG.SHA512;
const COMMIT_KDF_DIGEST_BYTES = 64;
const KDF_ATTEMPTS = 1_000_000;

const indexMask = (state: CommitState): number => state.array.length * 8 - 1;
const isSet = (array: Uint8Array, bit: number): boolean => (array[bit >> 3]! & (1 << (bit & 7))) !== 0;
const orderBytes = (curve: EccCurve): number => Math.ceil(curve.order.toString(2).length / 8);

/**
 * The counter value commitment `c` was made at, or undefined if `c` is not outstanding: its bit
 * is clear, or it lies a whole array width or more behind the counter (its bits above the index
 * must be those of the counter then).
 */
function committedCount(state: CommitState, c: number): bigint | undefined {
  const mask = indexMask(state);
  if (!isSet(state.array, c & mask)) return undefined;
  let current = state.counter;
  if ((c & mask) >= (Number(current & 0xffffn) & mask)) current = BigInt.asUintN(64, current - BigInt(mask + 1));
  if ((Number(current & 0xffffn) & ~mask) !== (c & ~mask)) return undefined;
  return (current & ~0xffffn) | BigInt(c);
}

/**
 * r for the counter value `count`: KDFa(nonce, "ECDAA Commit", name, count) in steps of the
 * order's size, the first candidate below the order with a non-zero octet in its upper half.
 * As in the reference the stream starts at KDF counter 2. Undefined if no candidate qualifies.
 */
function deriveR(state: CommitState, curve: EccCurve, name: Uint8Array, count: bigint): Uint8Array | undefined {
  const size = orderBytes(curve);
  const blocks = Math.ceil(size / COMMIT_KDF_DIGEST_BYTES);
  for (let counter = 2; counter < KDF_ATTEMPTS; counter += blocks) {
    const r = kdfa(COMMIT_KDF_HASH, state.nonce, COMMIT_LABEL, name, u64be(count), size * 8, counter);
    if (toBigInt(r) >= curve.order) continue;
    if (r.subarray(0, (size >> 1) + 1).some((b) => b !== 0)) return r;
  }
  return undefined;
}

/** r of the next commitment (Commit, EC_Ephemeral), bound to `name` (empty for none); not yet committed. */
export function nextCommitR(state: CommitState, curve: EccCurve, name: Uint8Array): Uint8Array | undefined {
  return deriveR(state, curve, name, state.counter);
}

/** r of the outstanding commitment `c`, or undefined if `c` is not one (the caller's TPM_RC_VALUE). */
export function committedR(state: CommitState, curve: EccCurve, name: Uint8Array, c: number): Uint8Array | undefined {
  const count = committedCount(state, c);
  return count === undefined ? undefined : deriveR(state, curve, name, count);
}

/** Commits the current counter value: marks it outstanding, advances the counter, returns its low 16 bits. */
export function commit(state: CommitState): number {
  const c = Number(state.counter & 0xffffn);
  state.counter = BigInt.asUintN(64, state.counter + 1n);
  const bit = c & indexMask(state);
  state.array[bit >> 3]! |= 1 << (bit & 7);
  return c;
}

/** Uses up commitment `c`, so that its r is never derived again. */
export function endCommit(state: CommitState, c: number): void {
  const bit = c & indexMask(state);
  state.array[bit >> 3]! &= ~(1 << (bit & 7));
}
