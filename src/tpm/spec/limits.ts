/** Implementation limits of this TPM (the values a TCG implementation chooses; most are reported as properties). */
export const LIMITS = {
  PCR_COUNT: 24,
  PCR_SELECT_MIN: 3,
  PCR_SELECT_MAX: 3,
  HASH_COUNT: 4,
  MAX_DIGEST_BUFFER: 1024,
  MAX_EVENT_DATA: 1024,
  MAX_SYM_DATA: 128,
  MAX_RSA_KEY_BYTES: 512,
  MAX_ECC_KEY_BYTES: 66,
  MAX_SYM_KEY_BYTES: 32,
  MAX_SYM_BLOCK_SIZE: 16,
  MAX_ENCRYPTED_SECRET: 512,
  MAX_CONTEXT_SIZE: 2048,
  MAX_ALG_LIST_SIZE: 64,
  MAX_COMMAND_SIZE: 4096,
  MAX_RESPONSE_SIZE: 4096,
  MAX_CAP_BUFFER: 1024,
  MAX_LOADED_SESSIONS: 16,
  MAX_ACTIVE_SESSIONS: 64,
  MAX_LOADED_OBJECTS: 16,
  NV_INDEX_MAX: 2048,
  NV_BUFFER_MAX: 1024,
  /** NV space budget: defined indices and the octets of their data (past it, TPM_RC_NV_SPACE). */
  NV_INDEX_COUNT_MAX: 64,
  NV_SPACE_BYTES: 65536,
  /** Counter indices that may be defined (TPM_PT_NV_COUNTERS_MAX). */
  NV_COUNTERS_MAX: 32,
  /** How far the oldest saved session may lag the context counter (TPM_PT_CONTEXT_GAP_MAX). */
  CONTEXT_GAP_MAX: 0xffff,
  MAX_PCR_DIGESTS_PER_READ: 8,
} as const;
