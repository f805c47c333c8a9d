/** Fresh state: a newly manufactured TPM, and the volatile state right after _TPM_Init. */
import { TPM_ALG } from '../spec/constants.js';
import { LIMITS } from '../spec/limits.js';
import { randomBytes } from '../crypto/random.js';
import type { BankAllocation, PersistentState, VolatileState } from './tpm-state.js';

export const DEFAULT_PCR_BANKS = [TPM_ALG.SHA256, TPM_ALG.SHA384];

export const fullAllocation = (banks: readonly number[]): BankAllocation[] =>
  banks.map((hash) => ({ hash, pcrs: Array.from({ length: LIMITS.PCR_COUNT }, (_, i) => i) }));

export function manufacture(banks: readonly number[] = DEFAULT_PCR_BANKS): PersistentState {
  return {
    format: 1,
    phProof: randomBytes(64),
    shProof: randomBytes(64),
    ehProof: randomBytes(64),
    contextSecret: randomBytes(32),
    ownerAuth: new Uint8Array(0),
    endorsementAuth: new Uint8Array(0),
    lockoutAuth: new Uint8Array(0),
    clock: 0n,
    resetCount: 0,
    restartCount: 0,
    shutdown: 'none',
    pcrAllocation: fullAllocation(banks),
    resetEpoch: randomBytes(16),
  };
}

/** _TPM_Init: nothing is started; Startup decides what comes back. */
export function powerOnVolatile(): VolatileState {
  return {
    format: 1,
    started: false,
    platformAuth: new Uint8Array(0),
    phEnable: true,
    shEnable: true,
    ehEnable: true,
    pcrs: new Map(),
    pcrUpdateCounter: 0,
    sessions: new Map(),
    savedSessions: new Map(),
    contextCounter: 0n,
    time: 0n,
    startupLocality: 0,
    selfTested: false,
  };
}
