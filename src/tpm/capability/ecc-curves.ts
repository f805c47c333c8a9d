/** The ECC curves this TPM implements (TPM_CAP_ECC_CURVES, TPMI_ECC_CURVE), with node:crypto's names for them. */
import { TPM_ECC } from '../spec/tpm-pt.js';

export interface EccCurve {
  curveID: number;
  /** node:crypto / OpenSSL curve name. */
  nodeName: string;
  keyBits: number;
}

/** In TPM_ECC_CURVE order. Only the NIST curves: BN and SM2 curves are not in node:crypto. */
export const ECC_CURVES: readonly EccCurve[] = [
  { curveID: TPM_ECC.NIST_P256, nodeName: 'prime256v1', keyBits: 256 },
  { curveID: TPM_ECC.NIST_P384, nodeName: 'secp384r1', keyBits: 384 },
  { curveID: TPM_ECC.NIST_P521, nodeName: 'secp521r1', keyBits: 521 },
];

const BY_ID = new Map(ECC_CURVES.map((c) => [c.curveID, c]));
export const eccCurve = (curveID: number): EccCurve | undefined => BY_ID.get(curveID);
