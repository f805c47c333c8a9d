/**
 * The endorsement key templates of the TCG EK Credential Profile for TPM 2.0 (version 2.x, Annex B:
 * templates L-1, RSA 2048, and L-2, ECC NIST P-256), as the marshaled TPMT_PUBLIC the profile
 * specifies, and the persistent handles the profile assigns them. tpm2_createek sends these same
 * bytes, so the EK persisted at manufacture is the key tpm2_createek derives. Each EK's certificate
 * sits at the NV index the TCG PC Client Platform TPM Profile (§4.5, table 1) reserves for it.
 */

export type EkKind = 'rsa2048' | 'ecc256';

export interface EkTemplate {
  /** The profile's template: TPMT_PUBLIC with the unique field zero-filled to the key's size. */
  template: Uint8Array;
  persistentHandle: number;
  /** NV index of the EK certificate (DER). */
  certificateIndex: number;
}

/** PolicySecret(TPM_RH_ENDORSEMENT) under SHA-256: the authPolicy of templates L-1 and L-2. */
const POLICY_A_SHA256 = '837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa';

/** fixedTPM | fixedParent | sensitiveDataOrigin | adminWithPolicy | restricted | decrypt. */
const ATTRIBUTES_A = '000300b2';

/** AES-128 in CFB mode: the symmetric algorithm of the L templates' storage key. */
const AES_128_CFB = '0006' + '0080' + '0043';

const hex = (...fields: string[]): Uint8Array => Uint8Array.from(Buffer.from(fields.join(''), 'hex'));
const zeros = (bytes: number): string => '00'.repeat(bytes);

export const EK_TEMPLATES: Record<EkKind, EkTemplate> = {
  rsa2048: {
    persistentHandle: 0x81010001,
    certificateIndex: 0x01c00002,
    template: hex(
      '0001', '000b', ATTRIBUTES_A, '0020', POLICY_A_SHA256,
      AES_128_CFB, '0010', '0800', '00000000', // symmetric, scheme NULL, keyBits 2048, exponent default
      '0100', zeros(256), // unique.rsa: 256 zero octets
    ),
  },
  ecc256: {
    persistentHandle: 0x81010002,
    certificateIndex: 0x01c0000a,
    template: hex(
      '0023', '000b', ATTRIBUTES_A, '0020', POLICY_A_SHA256,
      AES_128_CFB, '0010', '0003', '0010', // symmetric, scheme NULL, curve NIST P-256, kdf NULL
      '0020', zeros(32), '0020', zeros(32), // unique.ecc: x and y of 32 zero octets
    ),
  },
};

export const EK_KINDS = Object.keys(EK_TEMPLATES) as EkKind[];
