/** Fresh state: a newly manufactured TPM, and the volatile state right after _TPM_Init. */
import { TPM_ALG } from '../spec/constants.js';
import { LIMITS } from '../spec/limits.js';
import { TPM_CC } from '../spec/tpm-cc.js';
import { randomBytes } from '../crypto/random.js';
import type { BankAllocation, CommandAuditState, CommitState, DictionaryAttackState, PersistentState, VolatileState } from './tpm-state.js';

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
    ...freshSeeds(),
    hierarchyPolicies: new Map(),
    persistentObjects: new Map(),
    primaryCache: new Map(),
    disableClear: false,
    nvIndexes: new Map(),
    nvMaxCounter: 0n,
    commandAudit: manufacturedCommandAudit(),
    dictionaryAttack: { ...DA_DEFAULTS, daUsed: false },
    commit: freshCommitState(),
  };
}

/**
 * The DA parameters as manufactured, and as TPM2_Clear restores them (the reference's and
 * libtpms' DAPreInstall_Init): 3 tries, one decrement per 1000 s, lockoutAuth back after 1000 s.
 */
export const DA_DEFAULTS: Readonly<Omit<DictionaryAttackState, 'daUsed' | 'served'>> = {
  failedTries: 0, maxTries: 3, recoveryTime: 1000, lockoutRecovery: 1000, lockOutAuthEnabled: true,
};

/**
 * The commit state of a TPM Reset (the reference's CryptStartup): counter 0, no commitments, a new
 * nonce of the largest digest size (TPM2B_NONCE), so no r of an earlier epoch can be derived again.
 */
export const freshCommitState = (): CommitState =>
  ({ counter: 0n, nonce: randomBytes(64), array: new Uint8Array(COMMIT_ARRAY_BYTES) });

/** 128 commitments may be outstanding at once (TPM_PT_SPLIT_MAX), as the reference's commitArray. */
export const COMMIT_ARRAY_BYTES = 16;

/**
 * Command audit as manufactured (the reference's CommandAuditPreInstall_Init): only
 * SetCommandCodeAuditStatus audited, in the context integrity hash (SHA-512, as libtpms), counter 0.
 */
const manufacturedCommandAudit = (): CommandAuditState =>
  ({ hashAlg: TPM_ALG.SHA512, commands: [TPM_CC.SetCommandCodeAuditStatus], counter: 0n, digest: new Uint8Array(0) });

/** Size of primary seeds and proofs: the largest digest, as the reference's PRIMARY_SEED_SIZE for SHA-512. */
const SEED_BYTES = 64;

const freshSeeds = (): Pick<PersistentState, 'eps' | 'sps' | 'pps' | 'nullSeed' | 'nullProof'> => ({
  eps: randomBytes(SEED_BYTES),
  sps: randomBytes(SEED_BYTES),
  pps: randomBytes(SEED_BYTES),
  ...freshNullHierarchy(),
});

/** A new null seed and proof: every TPM Reset (Part 1 §14.5). */
export const freshNullHierarchy = (): Pick<PersistentState, 'nullSeed' | 'nullProof'> => ({
  nullSeed: randomBytes(SEED_BYTES),
  nullProof: randomBytes(SEED_BYTES),
});

/** A new storage primary seed and proofs: TPM2_Clear (Part 3 §24.6). */
export const freshStorageHierarchy = (): Pick<PersistentState, 'sps' | 'shProof' | 'ehProof'> => ({
  sps: randomBytes(SEED_BYTES),
  shProof: randomBytes(64),
  ehProof: randomBytes(64),
});

/** A new endorsement primary seed and proof: TPM2_ChangeEPS (Part 3 §24.5). */
export const freshEndorsementHierarchy = (): Pick<PersistentState, 'eps' | 'ehProof'> => ({
  eps: randomBytes(SEED_BYTES),
  ehProof: randomBytes(64),
});

/** A new platform primary seed and proof: TPM2_ChangePPS (Part 3 §24.4). */
export const freshPlatformHierarchy = (): Pick<PersistentState, 'pps' | 'phProof'> => ({
  pps: randomBytes(SEED_BYTES),
  phProof: randomBytes(64),
});

/**
 * A persistent state written before keys (or NV) existed gets seeds, empty object stores and an
 * empty NV on load, as if it had been manufactured with them. Returns whether it did (the caller saves it then).
 */
export function upgradePersistent(p: PersistentState): boolean {
  const old = p as Partial<PersistentState>;
  let upgraded = false;
  if (!old.eps) {
    Object.assign(p, freshSeeds(), {
      hierarchyPolicies: new Map(), persistentObjects: new Map(), primaryCache: new Map(), disableClear: false,
    });
    upgraded = true;
  }
  // A state from before NV storage has no indices.
  if (!old.nvIndexes) {
    Object.assign(p, { nvIndexes: new Map(), nvMaxCounter: 0n });
    upgraded = true;
  }
  if (!old.commandAudit) {
    p.commandAudit = manufacturedCommandAudit();
    upgraded = true;
  }
  if (!old.dictionaryAttack) {
    p.dictionaryAttack = { ...DA_DEFAULTS, daUsed: false };
    upgraded = true;
  }
  if (!old.commit) {
    p.commit = freshCommitState();
    upgraded = true;
  }
  return upgraded;
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
