/**
 * The TPM's state with the modules that own each part of it. Handlers reach everything through
 * this object; it has no I/O: the host supplies time and learns of persistent changes by callback.
 */
import { TPM_RH, TPM_HT, handleType } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import type { PersistentState, VolatileState } from '../state/tpm-state.js';
import { PcrBanks, type PcrObserver } from '../pcr/pcr-banks.js';
import { SessionTable } from '../auth/session-table.js';
import { SequenceTable } from '../objects/sequence-table.js';
import { ObjectTable } from '../objects/object-table.js';
import { handleName, type TpmObject } from '../objects/tpm-object.js';
import { randomBytes } from '../crypto/random.js';
import { NvTable } from '../nv/nv-table.js';

/** The empty authValue (PCRs, TPM_RH_NULL); a zero-length array cannot be written to, so one serves all. */
const EMPTY = new Uint8Array(0);

export interface CoreHost {
  /** Milliseconds, monotonic; the source of TPMS_TIME_INFO and the clock. */
  now(): number;
  /** Called after a command changed persistent state, before its response is released. */
  persistentChanged(state: PersistentState): void;
  /** Sees every PCR extend/reset before the banks move, and may refuse it by throwing. */
  pcrObserver?: PcrObserver;
}

export class TpmCore {
  readonly pcrs: PcrBanks;
  readonly sessions: SessionTable;
  readonly sequences: SequenceTable;
  readonly objects: ObjectTable;
  readonly nv: NvTable;
  private persistentDirty = false;
  private lastTick: number;
  /** The platform's physical presence signal (mssim PHYS_PRES_ON / OFF), which PolicyPhysicalPresence requires. */
  physicalPresence = false;

  constructor(readonly persistent: PersistentState, readonly volatile: VolatileState, readonly host: CoreHost) {
    this.pcrs = new PcrBanks(persistent, volatile, host.pcrObserver);
    this.sessions = new SessionTable(this);
    const core = this;
    this.sequences = new SequenceTable({ has: (h) => core.objects.has(h), get count() { return core.objects.count; } });
    this.objects = new ObjectTable(persistent, this.sequences);
    this.nv = new NvTable(persistent, volatile);
    this.lastTick = host.now();
  }

  /**
   * Advance TPMS_TIME_INFO.time and the clock by the host time elapsed. The clock is written to
   * disk with the next persistent change or orderly exit, not on every tick (Part 1 §36.3 allows
   * the NV copy to lag, which is what TPMS_CLOCK_INFO.safe reports).
   */
  tick(): void {
    const elapsed = Math.floor(this.host.now() - this.lastTick);
    // Most commands come within the same millisecond as the last: no BigInt arithmetic for them.
    if (elapsed <= 0) return;
    this.lastTick += elapsed;
    const delta = BigInt(elapsed);
    this.volatile.time += delta;
    this.persistent.clock += delta;
  }

  random(n: number): Uint8Array {
    return randomBytes(n);
  }

  /** Record that persistent state changed; the engine flushes it before answering. */
  touchPersistent(): void {
    this.persistentDirty = true;
  }

  /** Called by the engine after each command. */
  flushPersistent(): void {
    if (!this.persistentDirty) return;
    this.persistentDirty = false;
    this.host.persistentChanged(this.persistent);
  }

  /**
   * Whether a hierarchy is enabled (TPMA_STARTUP_CLEAR phEnable/shEnable/ehEnable); for an object,
   * whether its hierarchy is (a disabled hierarchy's persistent objects are out of reach).
   */
  hierarchyEnabled(h: number): boolean {
    switch (h) {
      case TPM_RH.PLATFORM: return this.volatile.phEnable;
      case TPM_RH.OWNER: return this.volatile.shEnable;
      case TPM_RH.ENDORSEMENT: return this.volatile.ehEnable;
    }
    const o = this.objects.get(h);
    return o === undefined || o.hierarchy === TPM_RH.NULL || this.hierarchyEnabled(o.hierarchy);
  }

  /** Proof value of a hierarchy (Part 1 §14.4), key of its tickets. */
  proof(h: number): Uint8Array {
    switch (h) {
      case TPM_RH.PLATFORM: return this.persistent.phProof;
      case TPM_RH.ENDORSEMENT: return this.persistent.ehProof;
      case TPM_RH.NULL: return this.persistent.nullProof;
      default: return this.persistent.shProof;
    }
  }

  /** Primary seed of a hierarchy (Part 1 §14.3). */
  seed(h: number): Uint8Array {
    switch (h) {
      case TPM_RH.PLATFORM: return this.persistent.pps;
      case TPM_RH.ENDORSEMENT: return this.persistent.eps;
      case TPM_RH.NULL: return this.persistent.nullSeed;
      default: return this.persistent.sps;
    }
  }

  /** A loaded object (transient or persistent); TPM_RC_HANDLE if the handle names none (numbered by the caller). */
  object(handle: number): TpmObject {
    const o = this.objects.get(handle);
    if (!o) throw new TpmError(TPM_RC.HANDLE);
    return o;
  }

  /** authValue of an entity (Part 1 §19.6.4); undefined if the handle does not exist. */
  authValue(handle: number): Uint8Array | undefined {
    switch (handle) {
      case TPM_RH.OWNER: return this.persistent.ownerAuth;
      case TPM_RH.ENDORSEMENT: return this.persistent.endorsementAuth;
      case TPM_RH.LOCKOUT: return this.persistent.lockoutAuth;
      case TPM_RH.PLATFORM: return this.volatile.platformAuth;
      case TPM_RH.NULL: return EMPTY;
    }
    const t = handleType(handle);
    if (t === TPM_HT.PCR) return EMPTY;
    if (t === TPM_HT.TRANSIENT || t === TPM_HT.PERSISTENT) return this.sequences.get(handle)?.authValue ?? this.objects.get(handle)?.sensitive.authValue;
    if (t === TPM_HT.NV_INDEX) return this.nv.get(handle)?.authValue;
    return undefined;
  }

  /** authPolicy of an entity, empty where none is set. */
  authPolicy(handle: number): Uint8Array {
    const o = this.objects.get(handle);
    if (o) return o.publicArea.authPolicy;
    const nv = this.nv.get(handle);
    if (nv) return nv.authPolicy;
    const policy = handle === TPM_RH.PLATFORM ? this.volatile.platformPolicy : this.persistent.hierarchyPolicies.get(handle);
    return policy?.digest ?? EMPTY;
  }

  /**
   * Name of an entity (Part 1 §16): the handle itself for PCRs, permanent handles and sessions.
   * A sequence object has no nameAlg, so its Name is the Empty Buffer (as the reference's EntityGetName()).
   * An NV index's Name hashes its public area (Part 1 §16).
   */
  name(handle: number): Uint8Array {
    if (this.sequences.get(handle)) return EMPTY;
    if (handleType(handle) === TPM_HT.NV_INDEX) return this.nv.get(handle)?.name ?? handleName(handle);
    return this.objects.get(handle)?.name ?? handleName(handle);
  }

  /**
   * Throws if an entity referenced by handle is not present: TPM_RC_REFERENCE_H0 for a transient
   * object or session that is not loaded (the caller adds the handle's index, as the reference's
   * EntityGetLoadStatus() does), TPM_RC_HANDLE (numbered by the caller) for anything else, including
   * an NV index of a disabled hierarchy (platform with phEnableNV clear, owner with shEnable clear).
   */
  requirePresent(handle: number): void {
    const t = handleType(handle);
    if (t === TPM_HT.TRANSIENT && !this.sequences.has(handle) && !this.objects.has(handle)) throw new TpmError(TPM_RC.REFERENCE_H0);
    if ((t === TPM_HT.HMAC_SESSION || t === TPM_HT.POLICY_SESSION) && !this.sessions.isLoaded(handle)) {
      throw new TpmError(TPM_RC.REFERENCE_H0);
    }
    if (t === TPM_HT.PERSISTENT && !this.objects.get(handle)) throw new TpmError(TPM_RC.HANDLE);
    if (t === TPM_HT.NV_INDEX && !this.nv.accessible(handle)) throw new TpmError(TPM_RC.HANDLE);
  }
}
