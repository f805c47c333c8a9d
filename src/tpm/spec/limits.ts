/** Implementation limits of this TPM (the values a TCG implementation chooses; most are reported as properties). */
export const LIMITS = {
  PCR_COUNT: 24,
  PCR_SELECT_MIN: 3,
  PCR_SELECT_MAX: 3,
  HASH_COUNT: 4,
  MAX_DIGEST_BUFFER: 1024,
  MAX_EVENT_DATA: 1024,
  MAX_SYM_DATA: 128,
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
  /** How far the oldest saved session may lag the context counter (TPM_PT_CONTEXT_GAP_MAX). */
  CONTEXT_GAP_MAX: 0xffff,
  MAX_PCR_DIGESTS_PER_READ: 8,
} as const;
