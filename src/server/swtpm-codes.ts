/** swtpm control channel command codes (swtpm include/swtpm/tpm_ioctl.h, enum CMD_*). */
export const CMD = {
  GET_CAPABILITY: 0x01,
  INIT: 0x02,
  SHUTDOWN: 0x03,
  GET_TPMESTABLISHED: 0x04,
  SET_LOCALITY: 0x05,
  HASH_START: 0x06,
  HASH_DATA: 0x07,
  HASH_END: 0x08,
  CANCEL_TPM_CMD: 0x09,
  STORE_VOLATILE: 0x0a,
  RESET_TPMESTABLISHED: 0x0b,
  GET_STATEBLOB: 0x0c,
  SET_STATEBLOB: 0x0d,
  STOP: 0x0e,
  GET_CONFIG: 0x0f,
  SET_DATAFD: 0x10,
  SET_BUFFERSIZE: 0x11,
  GET_INFO: 0x12,
} as const;

/** PTM_CAP_* bit numbers of the CMD_GET_CAPABILITY bitmask. */
export const PTM_CAP_BIT = {
  INIT: 0,
  SHUTDOWN: 1,
  GET_TPMESTABLISHED: 2,
  SET_LOCALITY: 3,
  HASHING: 4,
  CANCEL_TPM_CMD: 5,
  STORE_VOLATILE: 6,
  RESET_TPMESTABLISHED: 7,
  GET_STATEBLOB: 8,
  SET_STATEBLOB: 9,
  STOP: 10,
  GET_CONFIG: 11,
  SET_DATAFD: 12,
  SET_BUFFERSIZE: 13,
  GET_INFO: 14,
  SEND_COMMAND_HEADER: 15,
} as const;

/** The TPM 1.2-style result codes swtpm's control channel answers with. */
export const PTM_RES = {
  SUCCESS: 0,
  BAD_PARAMETER: 0x03,
  FAIL: 0x09,
  /** Also swtpm's answer for "TPM not running" and "TPM running" preconditions. */
  BAD_ORDINAL: 0x0a,
  /** TPM_IOERROR: CMD_SET_DATAFD while a passed data channel is still open. */
  IOERROR: 0x1f,
  BAD_LOCALITY: 0x3d,
  /** TPM_RETRY: CMD_GET_STATEBLOB of a part that does not exist (swtpm's missing state file). */
  RETRY: 0x800,
} as const;

/** CMD_INIT's ptm_init.init_flags. */
export const PTM_INIT_FLAG_DELETE_VOLATILE = 1;

/** CMD_GET/SET_STATEBLOB's blob types (PTM_BLOB_TYPE_*). */
export const PTM_BLOB_TYPE = { PERMANENT: 1, VOLATILE: 2, SAVESTATE: 3 } as const;

/** CMD_GET/SET_STATEBLOB's state_flags (PTM_STATE_FLAG_*). */
export const PTM_STATE_FLAG = { DECRYPTED: 1, ENCRYPTED: 2 } as const;

/** CMD_GET_INFO flags. */
export const SWTPM_INFO = { TPMSPECIFICATION: 1n, TPMATTRIBUTES: 2n } as const;

/** Room for the JSON in one CMD_GET_INFO answer (PTM_GETINFO_SIZE). */
export const GETINFO_SIZE = 3 * 1024;

/** Largest localities swtpm accepts. */
export const MAX_LOCALITY = 4;

/** What swtpm's data channel answers while the TPM is not running: TPM_RC_FAILURE. */
export const TPM_FAILURE_RESPONSE: Uint8Array = Uint8Array.from([
  0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x01,
]);
