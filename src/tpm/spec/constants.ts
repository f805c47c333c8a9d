/** Constants of TPM 2.0 Part 2 other than TPM_CC and TPM_RC. */

/** TPM_ALG_ID (Part 2 table 9; TCG Algorithm Registry). */
export const TPM_ALG = {
  ERROR: 0x0000,
  RSA: 0x0001,
  TDES: 0x0003,
  SHA1: 0x0004,
  HMAC: 0x0005,
  AES: 0x0006,
  MGF1: 0x0007,
  KEYEDHASH: 0x0008,
  XOR: 0x000a,
  SHA256: 0x000b,
  SHA384: 0x000c,
  SHA512: 0x000d,
  NULL: 0x0010,
  SM3_256: 0x0012,
  SM4: 0x0013,
  RSASSA: 0x0014,
  RSAES: 0x0015,
  RSAPSS: 0x0016,
  OAEP: 0x0017,
  ECDSA: 0x0018,
  ECDH: 0x0019,
  ECDAA: 0x001a,
  SM2: 0x001b,
  ECSCHNORR: 0x001c,
  ECMQV: 0x001d,
  KDF1_SP800_56A: 0x0020,
  KDF2: 0x0021,
  KDF1_SP800_108: 0x0022,
  ECC: 0x0023,
  SYMCIPHER: 0x0025,
  CAMELLIA: 0x0026,
  SHA3_256: 0x0027,
  SHA3_384: 0x0028,
  SHA3_512: 0x0029,
  CMAC: 0x003f,
  CTR: 0x0040,
  OFB: 0x0041,
  CBC: 0x0042,
  CFB: 0x0043,
  ECB: 0x0044,
} as const;

/** A TPM_ALG_ID as it appears on the wire (u16). */
export type TPM_ALG_ID = number;

/** TPM_ST structure tags (Part 2 table 19). */
export const TPM_ST = {
  RSP_COMMAND: 0x00c4,
  NULL: 0x8000,
  NO_SESSIONS: 0x8001,
  SESSIONS: 0x8002,
  ATTEST_NV: 0x8014,
  ATTEST_COMMAND_AUDIT: 0x8015,
  ATTEST_SESSION_AUDIT: 0x8016,
  ATTEST_CERTIFY: 0x8017,
  ATTEST_QUOTE: 0x8018,
  ATTEST_TIME: 0x8019,
  ATTEST_CREATION: 0x801a,
  ATTEST_NV_DIGEST: 0x801c,
  CREATION: 0x8021,
  VERIFIED: 0x8022,
  AUTH_SECRET: 0x8023,
  HASHCHECK: 0x8024,
  AUTH_SIGNED: 0x8025,
} as const;

/** TPM_SU (Part 2 table 20). */
export const TPM_SU = { CLEAR: 0x0000, STATE: 0x0001 } as const;

/** TPM_SE (Part 2 table 21). */
export const TPM_SE = { HMAC: 0x00, POLICY: 0x01, TRIAL: 0x03 } as const;

/** TPM_CAP (Part 2 table 22). */
export const TPM_CAP = {
  ALGS: 0,
  HANDLES: 1,
  COMMANDS: 2,
  PP_COMMANDS: 3,
  AUDIT_COMMANDS: 4,
  PCRS: 5,
  TPM_PROPERTIES: 6,
  PCR_PROPERTIES: 7,
  ECC_CURVES: 8,
  AUTH_POLICIES: 9,
  ACT: 10,
  VENDOR_PROPERTY: 0x100,
} as const;

/** TPM_HT handle types: the most significant octet of a handle (Part 2 table 26). */
export const TPM_HT = {
  PCR: 0x00,
  NV_INDEX: 0x01,
  HMAC_SESSION: 0x02,
  POLICY_SESSION: 0x03,
  PERMANENT: 0x40,
  TRANSIENT: 0x80,
  PERSISTENT: 0x81,
} as const;

export const HR_SHIFT = 24;
export const handleType = (h: number): number => h >>> HR_SHIFT;

/** TPM_RH / TPM_RS permanent handles (Part 2 table 28). */
export const TPM_RH = {
  SRK: 0x40000000,
  OWNER: 0x40000001,
  NULL: 0x40000007,
  UNASSIGNED: 0x40000008,
  PW: 0x40000009,
  LOCKOUT: 0x4000000a,
  ENDORSEMENT: 0x4000000b,
  PLATFORM: 0x4000000c,
  PLATFORM_NV: 0x4000000d,
} as const;
export const TPM_RS_PW = TPM_RH.PW;

/** Handle range starts (Part 2 table 29). */
export const HR = {
  PCR: 0x00000000,
  HMAC_SESSION: 0x02000000,
  POLICY_SESSION: 0x03000000,
  TRANSIENT: 0x80000000,
  PERSISTENT: 0x81000000,
  NV_INDEX: 0x01000000,
  PERMANENT: 0x40000000,
} as const;

/** TPMA_SESSION bits (Part 2 table 37). */
export const TPMA_SESSION = {
  continueSession: 0x01,
  auditExclusive: 0x02,
  auditReset: 0x04,
  reserved: 0x18,
  decrypt: 0x20,
  encrypt: 0x40,
  audit: 0x80,
} as const;

/** TPMA_ALGORITHM bits (Part 2 table 32). */
export const TPMA_ALGORITHM = {
  asymmetric: 0x001,
  symmetric: 0x002,
  hash: 0x004,
  object: 0x008,
  signing: 0x100,
  encrypting: 0x200,
  method: 0x400,
} as const;

/** TPM_GENERATED_VALUE: prefix of TPM-generated structures (Part 2 table 7). */
export const TPM_GENERATED_VALUE = 0xff544347;

export const TPM_YES = 1;
export const TPM_NO = 0;

/** Whether any of `bits` is set in an attribute word (TPMA_OBJECT, TPMA_SESSION, ...). */
export const anySet = (attributes: number, bits: number): boolean => (attributes & bits) !== 0;

/** TPMA_OBJECT bits (Part 2 table 31). */
export const TPMA_OBJECT = {
  fixedTPM: 0x00000002,
  stClear: 0x00000004,
  fixedParent: 0x00000010,
  sensitiveDataOrigin: 0x00000020,
  userWithAuth: 0x00000040,
  adminWithPolicy: 0x00000080,
  noDA: 0x00000400,
  encryptedDuplication: 0x00000800,
  restricted: 0x00010000,
  decrypt: 0x00020000,
  sign: 0x00040000,
  x509sign: 0x00080000,
  reserved: 0xfff0f309,
} as const;

/** TPMA_NV bits (Part 2 table 233); TPM_NT is the 4-bit field at TPMA_NV_TPM_NT. */
export const TPMA_NV = {
  PPWRITE: 1 << 0,
  OWNERWRITE: 1 << 1,
  AUTHWRITE: 1 << 2,
  POLICYWRITE: 1 << 3,
  TPM_NT: 0xf0,
  POLICY_DELETE: 1 << 10,
  WRITELOCKED: 1 << 11,
  WRITEALL: 1 << 12,
  WRITEDEFINE: 1 << 13,
  WRITE_STCLEAR: 1 << 14,
  GLOBALLOCK: 1 << 15,
  PPREAD: 1 << 16,
  OWNERREAD: 1 << 17,
  AUTHREAD: 1 << 18,
  POLICYREAD: 1 << 19,
  NO_DA: 1 << 25,
  ORDERLY: 1 << 26,
  CLEAR_STCLEAR: 1 << 27,
  READLOCKED: 1 << 28,
  WRITTEN: 1 << 29,
  PLATFORMCREATE: 1 << 30,
  READ_STCLEAR: 2 ** 31,
  reserved: 0x01f00300,
} as const;
export const TPMA_NV_TPM_NT_SHIFT = 4;

/** TPM_NT index types (Part 2 table 232). */
export const TPM_NT = { ORDINARY: 0, COUNTER: 1, BITS: 2, EXTEND: 4, PIN_FAIL: 8, PIN_PASS: 9 } as const;
