/**
 * Hash and event sequence objects (Part 3 §17): transient objects that live only in this process.
 * They are flushed with their client, so they never need to be part of the saved volatile state.
 */
import { HR } from '../spec/constants.js';
import { LIMITS } from '../spec/limits.js';
import { HASH_ALGS } from '../spec/hash-algs.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { createHasher, type Hasher } from '../crypto/hash.js';

export interface SequenceObject {
  handle: number;
  /** 'hash' for HashSequenceStart(alg), 'event' for HashSequenceStart(TPM_ALG_NULL). */
  kind: 'hash' | 'event';
  hashAlg: number;
  authValue: Uint8Array;
  /** One hasher per algorithm: the sequence's own, or every implemented one for an event sequence. */
  hashers: { hashAlg: number; hasher: Hasher }[];
  /** The first bytes hashed: a hash sequence starting with TPM_GENERATED_VALUE gets no ticket. */
  head: Uint8Array;
  client: number;
}

export class SequenceTable {
  private readonly objects = new Map<number, SequenceObject>();

  get(handle: number): SequenceObject | undefined {
    return this.objects.get(handle);
  }

  handles(client?: number): number[] {
    return [...this.objects.values()].filter((o) => client === undefined || o.client === client).map((o) => o.handle).sort((a, b) => a - b);
  }

  get count(): number {
    return this.objects.size;
  }

  start(hashAlg: number | undefined, authValue: Uint8Array, client: number): SequenceObject {
    if (this.objects.size >= LIMITS.MAX_LOADED_OBJECTS) throw new TpmError(TPM_RC.OBJECT_MEMORY);
    let handle = HR.TRANSIENT;
    while (this.objects.has(handle)) handle++;
    const algs = hashAlg === undefined ? HASH_ALGS.map((h) => h.alg) : [hashAlg];
    const obj: SequenceObject = {
      handle,
      kind: hashAlg === undefined ? 'event' : 'hash',
      hashAlg: hashAlg ?? 0x0010,
      authValue: authValue.slice(),
      hashers: algs.map((a) => ({ hashAlg: a, hasher: createHasher(a) })),
      head: new Uint8Array(0),
      client,
    };
    this.objects.set(handle, obj);
    return obj;
  }

  update(obj: SequenceObject, data: Uint8Array): void {
    if (obj.head.length < 4) {
      const head = new Uint8Array(Math.min(4, obj.head.length + data.length));
      head.set(obj.head);
      head.set(data.subarray(0, head.length - obj.head.length), obj.head.length);
      obj.head = head;
    }
    for (const h of obj.hashers) h.hasher.update(data);
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
