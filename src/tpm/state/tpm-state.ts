/**
 * The TPM's state, split as Part 1 splits it: what survives power loss (persistent, written on
 * every change) and what a power cycle clears (volatile, saved on orderly exit so one TPM can span
 * several processes). Plain data only: the engine's modules own the behaviour.
 */
export type ShutdownType = 'none' | 'clear' | 'state';

/** A bank allocation: hash algorithm and the PCR indices allocated in it. */
export interface BankAllocation {
  hash: number;
  pcrs: number[];
}

export interface PersistentState {
  format: 1;
  /** Hierarchy proofs (Part 1 §14.4): keys for tickets, never leave the TPM. */
  phProof: Uint8Array;
  shProof: Uint8Array;
  ehProof: Uint8Array;
  /** Secret for saved-context integrity and confidentiality keys (Part 1 §30). */
  contextSecret: Uint8Array;
  ownerAuth: Uint8Array;
  endorsementAuth: Uint8Array;
  lockoutAuth: Uint8Array;
  /** TPMS_CLOCK_INFO fields; clock in milliseconds, as of `clock` being last written. */
  clock: bigint;
  resetCount: number;
  restartCount: number;
  /** How the TPM was last shut down (drives Startup(STATE) and TPM Restart vs Reset). */
  shutdown: ShutdownType;
  pcrAllocation: BankAllocation[];
  /** PCR_Allocate result, applied at the next TPM Reset. */
  pendingAllocation?: BankAllocation[];
  /** Shutdown(STATE) image: PCRs with the SAVE attribute, saved-session bookkeeping, counters. */
  savedState?: SavedVolatile;
  /** Nonce identifying the current TPM Reset epoch; saved contexts of older epochs are refused. */
  resetEpoch: Uint8Array;
  /** Primary seeds (Part 1 §14.3): endorsement, storage and platform; primaries derive from them. */
  eps: Uint8Array;
  sps: Uint8Array;
  pps: Uint8Array;
  /** The null hierarchy's seed and proof, renewed at every TPM Reset (Part 1 §14.5). */
  nullSeed: Uint8Array;
  nullProof: Uint8Array;
  /** Hierarchy authPolicy values (SetPrimaryPolicy), by hierarchy handle; absent means empty. */
  hierarchyPolicies: Map<number, HierarchyPolicy>;
  /** Objects made persistent with EvictControl, by persistent handle. */
  persistentObjects: Map<number, StoredObject>;
  /**
   * Derived RSA primary keys (their prime search is expensive), by an HMAC of the template under
   * the hierarchy seed, so a repeated CreatePrimary is a lookup.
   */
  primaryCache: Map<string, CachedPrimaryKey>;
  /** TPMA_PERMANENT.disableClear (ClearControl). */
  disableClear: boolean;
  /** Defined NV indices (Part 1 §37), by NV index handle; absent in states older than NV. */
  nvIndexes: Map<number, NvIndexState>;
  /** The highest value any NV counter has had; a new counter starts there (Part 1 §37.2.3). */
  nvMaxCounter: bigint;
  /** Command audit (Part 1 §32); absent in states older than audit. */
  commandAudit: CommandAuditState;
  /** Dictionary-attack protection (Part 1 §19.8); absent in states older than DA. */
  dictionaryAttack: DictionaryAttackState;
  /** ECC commitments (Commit, EC_Ephemeral); absent in states older than them. */
  commit: CommitState;
}

/**
 * Dictionary-attack protection: the reference's persistent failedTries, maxTries, recoveryTime
 * (seconds), lockoutRecovery (seconds) and lockOutAuthEnabled, with what its orderly state keeps.
 */
export interface DictionaryAttackState {
  failedTries: number;
  maxTries: number;
  recoveryTime: number;
  lockoutRecovery: number;
  lockOutAuthEnabled: boolean;
  /**
   * The reference's SU_DA_USED orderly state: a DA-protected authorization was checked since
   * Startup and no Shutdown followed, so the next Startup counts one failure (the outcome of that
   * check may not have reached NV before power was lost).
   */
  daUsed: boolean;
  /**
   * At an orderly Shutdown: TPM time (ms) already served toward the next failedTries decrement
   * and toward re-enabling lockoutAuth, which the next Startup carries on (ACCUMULATE_SELF_HEAL_TIMER).
   */
  served?: { selfHeal: bigint; lockout: bigint };
}

/**
 * The commitments of split ECC operations (ECDAA signing, ZGen_2Phase): the reference's
 * state-reset data commitCounter, commitNonce and commitArray, kept here and renewed at TPM Reset.
 */
export interface CommitState {
  /** Incremented by each commitment (Commit, EC_Ephemeral); its low 16 bits name it. */
  counter: bigint;
  /** KDFa key from which each commitment's secret r is derived with its counter value. */
  nonce: Uint8Array;
  /** One bit per counter value modulo its width: set from commitment until its one use. */
  array: Uint8Array;
}

/**
 * The audited commands and their digest. The list, algorithm and counter are the reference's
 * persistent data; the digest is its state-reset data, kept here and cleared at TPM Reset.
 */
export interface CommandAuditState {
  /** The digest's hash algorithm (SetCommandCodeAuditStatus auditAlg). */
  hashAlg: number;
  /** Audited command codes, ascending. */
  commands: number[];
  /** TPM_PT_AUDIT_COUNTER: how many audit digests have been started. */
  counter: bigint;
  /** Empty when cleared: the next audited command starts it from zeros and counts it. */
  digest: Uint8Array;
}

/**
 * An NV index: its TPMS_NV_PUBLIC fields, authValue and data. The lock bits (READLOCKED,
 * WRITELOCKED) and WRITTEN live in `attributes` as TPMS_NV_PUBLIC reports them; Startup clears
 * the STCLEAR ones. `data` is `dataSize` octets once written, empty before.
 */
export interface NvIndexState {
  nameAlg: number;
  attributes: number;
  authPolicy: Uint8Array;
  authValue: Uint8Array;
  dataSize: number;
  data: Uint8Array;
}

export interface CachedPrimaryKey {
  n: Uint8Array;
  p: Uint8Array;
  seedValue: Uint8Array;
}

export interface HierarchyPolicy {
  hashAlg: number;
  digest: Uint8Array;
}

/** An object as persistent storage keeps it: marshaled public and sensitive areas and where it belongs. */
export interface StoredObject {
  public: Uint8Array;
  sensitive: Uint8Array;
  hierarchy: number;
  qualifiedName: Uint8Array;
}

/** What Shutdown(STATE) preserves for Startup(STATE) (Part 1 §12.2.3). */
export interface SavedVolatile {
  pcrs: Map<number, Uint8Array[]>;
  pcrUpdateCounter: number;
  contextCounter: bigint;
  savedSessions: Map<number, SavedSessionSlot>;
  /** TPMA_STARTUP_CLEAR flags a Resume keeps (a TPM Reset or Restart sets them); absent in older images. */
  enables?: Pick<VolatileState, 'shEnable' | 'ehEnable' | 'phEnableNV'>;
}

export interface SavedSessionSlot {
  /** TPMS_CONTEXT.sequence the blob for this handle was saved with; only that blob can be loaded. */
  sequence: bigint;
}

export type SessionKind = 'hmac' | 'policy' | 'trial';

export interface SessionState {
  handle: number;
  kind: SessionKind;
  authHash: number;
  nonceTPM: Uint8Array;
  sessionKey: Uint8Array;
  symmetric: { algorithm: number; keyBits: number; mode: number };
  /**
   * HMAC sessions started with a bind entity: a digest of that entity's Name and authValue at
   * StartAuthSession. While the entity still matches it, its authValue is not added to the HMAC key
   * (Part 1 §19.6, bound sessions); a changed authValue unbinds, as in the reference implementation.
   */
  boundEntity?: Uint8Array;
  policyDigest: Uint8Array;
  /** Policy assertions that take effect at use (Part 3 §23): pcrUpdateCounter captured by PolicyPCR, etc. */
  pcrCounter?: number;
  isAuthValueNeeded?: boolean;
  isPasswordNeeded?: boolean;
  commandCode?: number;
  /** TPMS_TIME_INFO.time (ms) when the session started; relative expirations count from it (absent in older saved state: 0). */
  startTime?: bigint;
  /** The time epoch the session started in (policy-context.ts timeEpoch); a timeout from another epoch has expired. */
  timeEpoch?: bigint;
  /** Earliest expiration (TPMS_TIME_INFO.time, ms) set by PolicySigned / PolicySecret / PolicyTicket. */
  timeout?: bigint;
  /** cpHash the command must have (PolicyCpHash, or cpHashA of PolicySigned / PolicySecret / PolicyTicket). */
  cpHash?: Uint8Array;
  /** nameHash the command's handles must have (PolicyNameHash, PolicyDuplicationSelect). */
  nameHash?: Uint8Array;
  /** templateHash the command's inPublic must have (PolicyTemplate). */
  templateHash?: Uint8Array;
  /** TPMA_LOCALITY the command must come from (PolicyLocality). */
  locality?: number;
  /** PolicyPhysicalPresence: the command needs physical presence asserted. */
  isPPRequired?: boolean;
  /** PolicyNvWritten: the state TPMA_NV_WRITTEN of the authorized index must have. */
  nvWrittenState?: boolean;
  /** An audit session's digest (Part 1 §19.6.6); absent until the session is first used with audit. */
  auditDigest?: Uint8Array;
  /** Bound to an entity subject to DA protection: every use is subject to lockout, and its HMAC failures count. */
  isDaBound?: boolean;
  /** Bound to TPM_RH_LOCKOUT: its HMAC failures count against lockoutAuth. */
  isLockoutBound?: boolean;
  /** Owning client of a loaded session (resource-manager view). */
  client: number;
}

export interface VolatileState {
  format: 1;
  /** Startup has been run since _TPM_Init. */
  started: boolean;
  platformAuth: Uint8Array;
  phEnable: boolean;
  shEnable: boolean;
  ehEnable: boolean;
  /** TPMA_STARTUP_CLEAR.phEnableNV; absent (older saved state) means SET. */
  phEnableNV?: boolean;
  pcrs: Map<number, Uint8Array[]>;
  pcrUpdateCounter: number;
  sessions: Map<number, SessionState>;
  savedSessions: Map<number, SavedSessionSlot>;
  contextCounter: bigint;
  /** TPMS_TIME_INFO.time: ms since _TPM_Init, as of the last command. */
  time: bigint;
  /** Locality of the Startup command (PCR 0's reset value records locality 3). */
  startupLocality: number;
  selfTested: boolean;
  /** TPMA_STARTUP_CLEAR.orderly: the last Startup followed a Shutdown (absent in older saved state). */
  orderlyStartup?: boolean;
  /** H-CRTM digests measured before Startup, applied to PCR 0 by Startup. */
  hcrtm?: Map<number, Uint8Array>;
  /** The platform hierarchy's authPolicy (it lives as long as platformAuth). */
  platformPolicy?: HierarchyPolicy;
  /** The exclusive audit session (Part 1 §19.6.6), until a command runs without it. */
  exclusiveAuditSession?: number;
  /**
   * The reference's self-heal timers: TPMS_TIME_INFO.time (ms) from which the next failedTries
   * decrement and the lockoutAuth re-enable count (absent: 0). Negative after an orderly restart.
   */
  daSelfHealTimer?: bigint;
  daLockoutTimer?: bigint;
}
