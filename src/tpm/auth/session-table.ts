/**
 * Loaded and saved authorization sessions (Part 1 §19, §30). PLACEHOLDER API: being implemented by
 * the sessions work; the engine relies on exactly these members.
 */
import type { SessionState, SessionKind, SavedSessionSlot } from '../state/tpm-state.js';
import type { TpmCore } from '../engine/tpm-core.js';
import type { SymDef } from '../marshal/types.js';

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

export class SessionTable {
  constructor(protected readonly core: TpmCore) {}
  isLoaded(handle: number): boolean {
    return this.core.volatile.sessions.has(handle);
  }
  get(handle: number): SessionState | undefined {
    return this.core.volatile.sessions.get(handle);
  }
  start(_args: StartSessionArgs): SessionState {
    throw new Error('not implemented');
  }
  /** New nonceTPM after each use of the session. */
  rollNonce(s: SessionState): void {
    s.nonceTPM = this.core.random(s.nonceTPM.length);
  }
  flush(handle: number): boolean {
    return this.core.volatile.sessions.delete(handle) || this.core.volatile.savedSessions.delete(handle);
  }
  flushClient(client: number): void {
    for (const [h, s] of this.core.volatile.sessions) if (s.client === client) this.core.volatile.sessions.delete(h);
  }
  loadedHandles(): number[] {
    return [...this.core.volatile.sessions.keys()].sort((a, b) => a - b);
  }
  savedHandles(): number[] {
    return [...this.core.volatile.savedSessions.keys()].sort((a, b) => a - b);
  }
  savedSlot(handle: number): SavedSessionSlot | undefined {
    return this.core.volatile.savedSessions.get(handle);
  }
}
