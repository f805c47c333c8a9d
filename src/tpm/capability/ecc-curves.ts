/** The ECC curves this TPM implements (TPM_CAP_ECC_CURVES, TPMI_ECC_CURVE), with node:crypto's names for them. */
import { TPM_ECC } from '../spec/tpm-pt.js';

export interface EccCurve {
  curveID: number;
  /** node:crypto / OpenSSL curve name. */
  nodeName: string;
  keyBits: number;
  /** JWK "crv". */
  jwkName: string;
  /** Order of the base point: private scalars are in [1, order - 1]. */
  order: bigint;
  /** The field prime p (the curves' a is -3). */
  prime: bigint;
}

/** In TPM_ECC_CURVE order. Only the NIST curves: BN and SM2 curves are not in node:crypto. */
export const ECC_CURVES: readonly EccCurve[] = [
  {
    curveID: TPM_ECC.NIST_P256, nodeName: 'prime256v1', keyBits: 256, jwkName: 'P-256',
    order: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    prime: 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
  },
  {
    curveID: TPM_ECC.NIST_P384, nodeName: 'secp384r1', keyBits: 384, jwkName: 'P-384',
    order: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    prime: 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n,
  },
  {
    curveID: TPM_ECC.NIST_P521, nodeName: 'secp521r1', keyBits: 521, jwkName: 'P-521',
    order: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
    prime: 2n ** 521n - 1n,
  },
];

const BY_ID = new Map(ECC_CURVES.map((c) => [c.curveID, c]));
export const eccCurve = (curveID: number): EccCurve | undefined => BY_ID.get(curveID);
