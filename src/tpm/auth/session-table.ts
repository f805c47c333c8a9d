/**
 * Loaded and saved authorization sessions (Part 1 §19, §30). A session occupies one of
 * MAX_ACTIVE_SESSIONS slots from StartAuthSession until it is flushed; its handle is the slot
 * number in the HMAC (0x02) or policy (0x03) range. Loaded sessions live in volatile.sessions,
 * saved ones keep their slot in volatile.savedSessions with the sequence number of the one blob
 * that may bring them back. Everything here is plain data in VolatileState, so sessions survive a
 * process restart through the volatile-state file.
 */
import type { SessionState, SessionKind, SavedSessionSlot } from '../state/tpm-state.js';
import type { TpmCore } from '../engine/tpm-core.js';
import type { SymDef } from '../marshal/types.js';
import { HR, TPM_RH } from '../spec/constants.js';
import { LIMITS } from '../spec/limits.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { hashInfo } from '../spec/hash-algs.js';
import { hash } from '../crypto/hash.js';
import { kdfa } from '../crypto/kdf.js';
import { concatBytes } from '../crypto/bytes.js';
import { timeEpoch } from './policy-context.js';
import { isDaExempt } from './dictionary-attack.js';

export interface StartSessionArgs {
  kind: SessionKind;
  authHash: number;
  nonceCaller: Uint8Array;
  symmetric: SymDef;
  /** Bind entity handle, or undefined for an unbound session. */
  bind?: number;
  /** Salt recovered from encryptedSalt (empty when unsalted). */
  salt: Uint8Array;
  client: number;
}

const SLOT_MASK = 0x00ffffff;
const MAX_SEQUENCE = 0xffffffffffffffffn;
const slotOf = (handle: number): number => handle & SLOT_MASK;
const EMPTY = new Uint8Array(0);

/**
 * Session fields set by policy assertions. PolicyRestart, and every use of a policy session that
 * continues, clears them (as the reference implementation's SessionResetPolicyData does); a new assertion
 * that stores state in the session must be listed here.
 */
const POLICY_ASSERTION_FIELDS = [
  'pcrCounter', 'isAuthValueNeeded', 'isPasswordNeeded', 'commandCode', 'timeout', 'cpHash', 'nameHash', 'templateHash',
  'locality', 'isPPRequired', 'nvWrittenState',
] as const satisfies readonly (keyof SessionState)[];

/** authValue as it enters HMAC keys and KDFs: trailing zero octets removed (Part 1 §19.6.4). */
export function stripTrailingZeros(b: Uint8Array): Uint8Array {
  let n = b.length;
  while (n > 0 && b[n - 1] === 0) n--;
  return n === b.length ? b : b.subarray(0, n);
}

/** An entity's authValue as it enters HMAC keys and KDFs (empty for a handle that has none). */
export function entityAuthValue(core: TpmCore, entity: number): Uint8Array {
  return stripTrailingZeros(core.authValue(entity) ?? EMPTY);
}

/** sessionKey || authValue, the key of session HMACs and parameter encryption (no copy when authValue is empty). */
export function sessionKeyWith(sessionKey: Uint8Array, authValue: Uint8Array): Uint8Array {
  return authValue.length === 0 ? sessionKey : concatBytes(sessionKey, authValue);
}

/** The binding value of an entity: its Name and current authValue folded into one digest. */
export function boundEntityValue(core: TpmCore, alg: number, entity: number): Uint8Array {
  const name = core.name(entity);
  const auth = entityAuthValue(core, entity);
  return hash(alg, Uint8Array.of(name.length >> 8, name.length & 0xff), name, auth);
}

export class SessionTable {
  constructor(protected readonly core: TpmCore) {}

  private get loaded(): Map<number, SessionState> {
    return this.core.volatile.sessions;
  }
  private get saved(): Map<number, SavedSessionSlot> {
    return this.core.volatile.savedSessions;
  }

  isLoaded(handle: number): boolean {
    return this.loaded.has(handle);
  }
  isSaved(handle: number): boolean {
    return this.saved.has(handle);
  }
  get(handle: number): SessionState | undefined {
    return this.loaded.get(handle);
  }

  /** The loaded session in handle's slot whatever its type (an HMAC handle may name a policy session's slot). */
  loadedAtSlot(handle: number): SessionState | undefined {
    for (const s of this.loaded.values()) if (slotOf(s.handle) === slotOf(handle)) return s;
    return undefined;
  }

  /** The handle (loaded or saved) occupying handle's slot, if any. */
  private occupantOf(handle: number): number | undefined {
    for (const h of [...this.loaded.keys(), ...this.saved.keys()]) if (slotOf(h) === slotOf(handle)) return h;
    return undefined;
  }

  /** The saved session whose sequence is oldest: the one that bounds the context gap. */
  private oldestSaved(): { handle: number; sequence: bigint } | undefined {
    let oldest: { handle: number; sequence: bigint } | undefined;
    for (const [handle, { sequence }] of this.saved) if (!oldest || sequence < oldest.sequence) oldest = { handle, sequence };
    return oldest;
  }

  /**
   * Whether saving another context would put the oldest saved session more than CONTEXT_GAP_MAX
   * behind the context counter (TPM_PT_CONTEXT_GAP_MAX, Part 1 §30.5).
   */
  private atGapLimit(): boolean {
    const oldest = this.oldestSaved();
    return oldest !== undefined && this.core.volatile.contextCounter - oldest.sequence > BigInt(LIMITS.CONTEXT_GAP_MAX);
  }

  /**
   * At the gap limit the last free loaded slot is kept for the oldest saved session, so that it can
   * be loaded (and then flushed or re-saved); anything else taking that slot is TPM_RC_CONTEXT_GAP.
   */
  private requireLoadSlot(forHandle?: number): void {
    if (this.loaded.size >= LIMITS.MAX_LOADED_SESSIONS) throw new TpmError(TPM_RC.SESSION_MEMORY);
    if (this.loaded.size === LIMITS.MAX_LOADED_SESSIONS - 1 && this.atGapLimit() && this.oldestSaved()!.handle !== forHandle) {
      throw new TpmError(TPM_RC.CONTEXT_GAP);
    }
  }

  /** StartAuthSession's session creation (Part 1 §19.6.8 for the session key). */
  start(args: StartSessionArgs): SessionState {
    this.requireLoadSlot();
    let slot = 0;
    while (slot < LIMITS.MAX_ACTIVE_SESSIONS && this.occupantOf(slot) !== undefined) slot++;
    if (slot >= LIMITS.MAX_ACTIVE_SESSIONS) throw new TpmError(TPM_RC.SESSION_HANDLES);
    const digestSize = hashInfo(args.authHash)!.digestSize;
    const nonceTPM = this.core.random(args.nonceCaller.length);
    // The key exists whenever there is a bind entity or a salt, even if both are empty values.
    const bindAuth = args.bind === undefined ? EMPTY : entityAuthValue(this.core, args.bind);
    const sessionKey = args.bind !== undefined || args.salt.length > 0
      ? kdfa(args.authHash, concatBytes(bindAuth, args.salt), 'ATH', nonceTPM, args.nonceCaller, digestSize * 8)
      : new Uint8Array(0);
    const s: SessionState = {
      handle: (args.kind === 'hmac' ? HR.HMAC_SESSION : HR.POLICY_SESSION) + slot,
      kind: args.kind,
      authHash: args.authHash,
      nonceTPM,
      sessionKey,
      symmetric: { algorithm: args.symmetric.algorithm, keyBits: args.symmetric.keyBits, mode: args.symmetric.mode },
      policyDigest: new Uint8Array(args.kind === 'hmac' ? 0 : digestSize),
      startTime: this.core.volatile.time,
      timeEpoch: timeEpoch(this.core),
      client: args.client,
    };
    // Only HMAC sessions are bound; a policy session's bind entity only seeds its key.
    if (args.kind === 'hmac' && args.bind !== undefined) s.boundEntity = boundEntityValue(this.core, args.authHash, args.bind);
    // Either kind with a DA-protected bind entity is subject to DA however it is used (the reference's SessionCreate).
    if (args.bind !== undefined && !isDaExempt(this.core, args.bind)) {
      s.isDaBound = true;
      if (args.bind === TPM_RH.LOCKOUT) s.isLockoutBound = true;
    }
    this.loaded.set(s.handle, s);
    return s;
  }

  /** New nonceTPM after each use of the session (same size as the caller's first nonce). */
  rollNonce(s: SessionState): void {
    s.nonceTPM = this.core.random(s.nonceTPM.length);
  }

  /** PolicyRestart, and the reset after a policy session was used: zero digest, no assertions. */
  resetPolicy(s: SessionState): void {
    s.policyDigest = new Uint8Array(s.policyDigest.length);
    for (const f of POLICY_ASSERTION_FIELDS) delete s[f];
  }

  /**
   * Flushes the loaded or saved session in handle's slot. As in the reference implementation the
   * slot decides, so the 0x02 handle that TPM_CAP_HANDLES reports for a saved session flushes it too.
   */
  flush(handle: number): boolean {
    const h = this.occupantOf(handle);
    if (h === undefined) return false;
    return this.loaded.delete(h) || this.saved.delete(h);
  }

  /** A client went away: its loaded sessions go; saved ones stay, another process may load them. */
  flushClient(client: number): void {
    for (const [h, s] of this.loaded) if (s.client === client) this.loaded.delete(h);
  }

  /**
   * ContextSave of a session: it leaves the loaded set and its slot is reserved for the blob
   * carrying the returned sequence. TPM_RC_CONTEXT_GAP leaves the session loaded.
   */
  save(handle: number): bigint {
    if (!this.loaded.has(handle)) throw new TpmError(TPM_RC.HANDLE);
    if (this.atGapLimit()) throw new TpmError(TPM_RC.CONTEXT_GAP);
    const sequence = this.nextContextSequence();
    this.loaded.delete(handle);
    this.saved.set(handle, { sequence });
    return sequence;
  }

  /** TPMS_CONTEXT.sequence for the next saved context, session or object. */
  nextContextSequence(): bigint {
    const v = this.core.volatile;
    if (v.contextCounter >= MAX_SEQUENCE) throw new TpmError(TPM_RC.TOO_MANY_CONTEXTS);
    const sequence = v.contextCounter;
    v.contextCounter = sequence + 1n;
    return sequence;
  }

  /** Whether a saved context (handle, sequence) is the one the slot is waiting for. */
  isCurrentSave(handle: number, sequence: bigint): boolean {
    return this.saved.get(handle)?.sequence === sequence;
  }

  /**
   * ContextLoad of a session: back into the loaded set with the same handle, now owned by `client`.
   * The caller has checked integrity and isCurrentSave.
   */
  restore(state: SessionState, client: number): SessionState {
    this.requireLoadSlot(state.handle);
    const s: SessionState = { ...state, client };
    this.saved.delete(s.handle);
    this.loaded.set(s.handle, s);
    return s;
  }

  loadedHandles(): number[] {
    return [...this.loaded.keys()].sort((a, b) => slotOf(a) - slotOf(b));
  }
  /** Saved sessions by their own handle (0x02 or 0x03 range), in slot order. */
  savedHandles(): number[] {
    return [...this.saved.keys()].sort((a, b) => slotOf(a) - slotOf(b));
  }
  savedSlot(handle: number): SavedSessionSlot | undefined {
    return this.saved.get(handle);
  }
}
