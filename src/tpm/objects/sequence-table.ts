/**
 * Hash and event sequence objects (Part 3 §17): transient objects that live only in this process.
 * They are flushed with their client, so they never need to be part of the saved volatile state.
 */
import { HR, TPM_ALG, TPM_GENERATED_VALUE } from '../spec/constants.js';
import { LIMITS } from '../spec/limits.js';
import { HASH_ALGS } from '../spec/hash-algs.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { createHasher, createHmacHasher, type Hasher } from '../crypto/hash.js';

export interface SequenceObject {
  handle: number;
  /** 'hash' for HashSequenceStart(alg), 'event' for HashSequenceStart(TPM_ALG_NULL), 'hmac' for HMAC_Start. */
  kind: 'hash' | 'event' | 'hmac';
  /** The sequence's algorithm; TPM_ALG_NULL for an event sequence. */
  hashAlg: number;
  authValue: Uint8Array;
  /** One hasher per algorithm: the sequence's own, or every implemented one for an event sequence. */
  hashers: { hashAlg: number; hasher: Hasher }[];
  /** A hash sequence has seen its first block (SequenceUpdate or SequenceComplete data). */
  firstBlock: boolean;
  /** The first block could not be TPM-generated data, so SequenceComplete may issue a ticket. */
  ticketSafe: boolean;
  client: number;
}

/**
 * TicketIsSafe(): a block may get a hash-check ticket only if it is at least as long as
 * TPM_GENERATED_VALUE and does not start with it (else it could be a forged attestation).
 */
export function ticketIsSafe(block: Uint8Array): boolean {
  if (block.length < 4) return false;
  return new DataView(block.buffer, block.byteOffset, 4).getUint32(0) !== TPM_GENERATED_VALUE;
}

/** The transient handles other kinds of object hold: sequences share the slots with them. */
export interface TransientSlots {
  has(handle: number): boolean;
  readonly count: number;
}

export class SequenceTable {
  private readonly objects = new Map<number, SequenceObject>();

  constructor(private readonly otherTransients: TransientSlots) {}

  has(handle: number): boolean {
    return this.objects.has(handle);
  }

  get(handle: number): SequenceObject | undefined {
    return this.objects.get(handle);
  }

  handles(client?: number): number[] {
    return [...this.objects.values()].filter((o) => client === undefined || o.client === client).map((o) => o.handle).sort((a, b) => a - b);
  }

  get count(): number {
    return this.objects.size;
  }

  /** A new sequence in the lowest free transient handle; `hashAlg` undefined starts an event sequence. */
  start(hashAlg: number | undefined, authValue: Uint8Array, client: number): SequenceObject {
    const algs = hashAlg === undefined ? HASH_ALGS.map((h) => h.alg) : [hashAlg];
    const hashers = algs.map((a) => ({ hashAlg: a, hasher: createHasher(a) }));
    return this.add(hashAlg === undefined ? 'event' : 'hash', hashAlg ?? TPM_ALG.NULL, hashers, authValue, client);
  }

  /** A new HMAC sequence keyed with `key` (HMAC_Start). */
  startHmac(hashAlg: number, key: Uint8Array, authValue: Uint8Array, client: number): SequenceObject {
    return this.add('hmac', hashAlg, [{ hashAlg, hasher: createHmacHasher(hashAlg, key) }], authValue, client);
  }

  private add(kind: SequenceObject['kind'], hashAlg: number, hashers: SequenceObject['hashers'], authValue: Uint8Array, client: number): SequenceObject {
    if (this.objects.size + this.otherTransients.count >= LIMITS.MAX_LOADED_OBJECTS) throw new TpmError(TPM_RC.OBJECT_MEMORY);
    let handle = HR.TRANSIENT;
    while (this.objects.has(handle) || this.otherTransients.has(handle)) handle++;
    const obj: SequenceObject = { handle, kind, hashAlg, authValue: authValue.slice(), hashers, firstBlock: false, ticketSafe: false, client };
    this.objects.set(handle, obj);
    return obj;
  }

  /** Adds data to every hasher; for a hash sequence the first block decides whether a ticket is safe. */
  update(obj: SequenceObject, data: Uint8Array): void {
    if (obj.kind === 'hash' && !obj.firstBlock) {
      obj.firstBlock = true;
      obj.ticketSafe = ticketIsSafe(data);
    }
    for (const h of obj.hashers) h.hasher.update(data);
  }

  /**
   * What the sequence yields with `lastBlock` as its final data: one digest per algorithm and
   * whether a hash-check ticket is safe. The sequence is left as it was, so a command that fails
   * after this leaves it usable; the command flushes it on success.
   */
  result(obj: SequenceObject, lastBlock: Uint8Array): { digests: { hashAlg: number; digest: Uint8Array }[]; ticketSafe: boolean } {
    return {
      digests: obj.hashers.map((h) => ({ hashAlg: h.hashAlg, digest: h.hasher.copy().update(lastBlock).digest() })),
      ticketSafe: obj.firstBlock ? obj.ticketSafe : ticketIsSafe(lastBlock),
    };
  }

  flush(handle: number): boolean {
    return this.objects.delete(handle);
  }

  flushClient(client: number): void {
    for (const [h, o] of this.objects) if (o.client === client) this.objects.delete(h);
  }

  clear(): void {
    this.objects.clear();
  }
}
