/**
 * Loaded objects: transient ones in MAX_LOADED_OBJECTS slots shared with sequence objects, owned by
 * the client that loaded them (flushed with it: the resource-manager view), and persistent ones
 * (EvictControl) kept in the persistent state. Transient objects live only in this process: a
 * client's objects die with its connection, and objects that outlive it travel as context blobs.
 */
import { HR, TPM_HT, handleType } from '../spec/constants.js';
import { LIMITS } from '../spec/limits.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import type { PersistentState, StoredObject } from '../state/tpm-state.js';
import { encode } from '../marshal/codec.js';
import { TPMT_SENSITIVE, readPublicBytes } from '../marshal/object-types.js';
import { Reader } from '../marshal/reader.js';
import { objectName, type TpmObject } from './tpm-object.js';
import type { TransientSlots } from './sequence-table.js';

/** Persistent handles this TPM keeps (TPM_PT_HR_PERSISTENT_MIN). */
export const PERSISTENT_OBJECTS_MAX = 7;

/** An object as persistent storage and context blobs keep it. */
export function toStored(o: TpmObject): StoredObject {
  return { public: o.publicBytes, sensitive: encode(TPMT_SENSITIVE, o.sensitive), hierarchy: o.hierarchy, qualifiedName: o.qualifiedName };
}

export function fromStored(stored: StoredObject): Omit<TpmObject, 'handle' | 'client'> {
  const publicArea = readPublicBytes(stored.public);
  return {
    publicArea, publicBytes: stored.public, sensitive: TPMT_SENSITIVE.read(new Reader(stored.sensitive)),
    name: objectName(publicArea.nameAlg, stored.public), qualifiedName: stored.qualifiedName, hierarchy: stored.hierarchy,
  };
}

export class ObjectTable {
  private readonly transient = new Map<number, TpmObject>();
  /** Persistent objects unmarshaled once, by handle; dropped when the stored object changes. */
  private readonly persistentCache = new Map<number, { stored: StoredObject; object: TpmObject }>();

  /**
   * @param persistent where persistent objects live
   * @param otherTransients transient handles in use by sequence objects (they share the slots)
   */
  constructor(
    private readonly persistent: PersistentState,
    private readonly otherTransients: TransientSlots,
  ) {}

  /** A loaded transient or persistent object. */
  get(handle: number): TpmObject | undefined {
    switch (handleType(handle)) {
      case TPM_HT.TRANSIENT: return this.transient.get(handle);
      case TPM_HT.PERSISTENT: return this.persistentObject(handle);
      default: return undefined;
    }
  }

  private persistentObject(handle: number): TpmObject | undefined {
    const stored = this.persistent.persistentObjects.get(handle);
    if (!stored) return undefined;
    const cached = this.persistentCache.get(handle);
    if (cached?.stored === stored) return cached.object;
    const object: TpmObject = { ...fromStored(stored), handle, client: 0 };
    this.persistentCache.set(handle, { stored, object });
    return object;
  }

  /** Transient handles in use by objects, for every client or one. */
  handles(client?: number): number[] {
    return [...this.transient.values()].filter((o) => client === undefined || o.client === client).map((o) => o.handle);
  }

  has(handle: number): boolean {
    return this.transient.has(handle);
  }

  get count(): number {
    return this.transient.size;
  }

  /** Whether another transient object fits (TPM_RC_OBJECT_MEMORY otherwise). */
  requireSlot(): void {
    if (this.transient.size + this.otherTransients.count >= LIMITS.MAX_LOADED_OBJECTS) throw new TpmError(TPM_RC.OBJECT_MEMORY);
  }

  /** Loads an object into the lowest free transient handle. */
  load(object: Omit<TpmObject, 'handle' | 'client'>, client: number): TpmObject {
    this.requireSlot();
    let handle = HR.TRANSIENT;
    while (this.transient.has(handle) || this.otherTransients.has(handle)) handle++;
    const loaded: TpmObject = { ...object, handle, client };
    this.transient.set(handle, loaded);
    return loaded;
  }

  flush(handle: number): boolean {
    return this.transient.delete(handle);
  }

  flushClient(client: number): void {
    for (const [h, o] of this.transient) if (o.client === client) this.transient.delete(h);
  }

  /** Flushes the transient objects for which `which` holds (hierarchy disabled or cleared, TPM Reset). */
  flushWhere(which: (o: TpmObject) => boolean): void {
    for (const [h, o] of this.transient) if (which(o)) this.transient.delete(h);
  }

  clear(): void {
    this.transient.clear();
  }

  /** Flushes a hierarchy's transient objects and evicts its persistent ones (Clear, ChangePPS, ChangeEPS). */
  dropHierarchy(hierarchy: number): void {
    this.flushWhere((o) => o.hierarchy === hierarchy);
    for (const [h, stored] of this.persistent.persistentObjects) if (stored.hierarchy === hierarchy) this.removePersistent(h);
  }

  /** EvictControl of a transient object: a persistent copy at `handle` (Part 3 §28.5). */
  makePersistent(object: TpmObject, handle: number): void {
    if (this.persistent.persistentObjects.has(handle)) throw new TpmError(TPM_RC.NV_DEFINED);
    if (this.persistent.persistentObjects.size >= PERSISTENT_OBJECTS_MAX) throw new TpmError(TPM_RC.NV_SPACE);
    this.persistent.persistentObjects.set(handle, toStored(object));
  }

  removePersistent(handle: number): void {
    this.persistent.persistentObjects.delete(handle);
    this.persistentCache.delete(handle);
  }

  persistentHandles(): number[] {
    return [...this.persistent.persistentObjects.keys()].sort((a, b) => a - b);
  }
}
