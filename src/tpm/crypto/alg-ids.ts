/**
 * The TPM_ALG_ID values (TPM 2.0 Part 2 §6.3) that the crypto adapters key on.
 * Kept local so this layer has no upward imports; src/tpm/spec/ reconciles with it.
 */
export const TPM_ALG = {
  SHA1: 0x0004,
  HMAC: 0x0005,
  AES: 0x0006,
  XOR: 0x000a,
  SHA256: 0x000b,
  SHA384: 0x000c,
  SHA512: 0x000d,
  NULL: 0x0010,
  SM3_256: 0x0012,
  SHA3_256: 0x0027,
  SHA3_384: 0x0028,
  SHA3_512: 0x0029,
  CFB: 0x0043,
} as const;

/** A TPM_ALG_ID as it appears on the wire (u16). */
export type TPM_ALG_ID = number;
