/**
 * The algorithms this TPM implements (TPM_CAP_ALGS) with their TPMA_ALGORITHM, and the key sizes
 * and modes it supports. The marshalling of algorithm-selecting TPMI_* types and TestParms consult
 * this table, so listing an algorithm here is the promise that the key commands implement it with
 * node:crypto. Attributes are those of the TCG Algorithm Registry (libtpms reports the same).
 */
import { TPM_ALG, TPMA_ALGORITHM as A } from '../spec/constants.js';

export interface AlgorithmProperty {
  alg: number;
  /** TPMA_ALGORITHM. */
  algProperties: number;
}

const HASH = A.hash;
const SIGN = A.asymmetric | A.signing;
const DECRYPT = A.asymmetric | A.encrypting;
const KDF = A.hash | A.method;
const MODE = A.symmetric | A.encrypting;

/** In TPM_ALG_ID order, as TPM_CAP_ALGS reports them. Hash algorithms carry exactly TPMA_ALGORITHM.hash (tpm2-tools picks its session hash by that). */
export const ALGORITHMS: readonly AlgorithmProperty[] = [
  { alg: TPM_ALG.RSA, algProperties: A.asymmetric | A.object },
  { alg: TPM_ALG.SHA1, algProperties: HASH },
  { alg: TPM_ALG.HMAC, algProperties: A.hash | A.signing },
  { alg: TPM_ALG.AES, algProperties: A.symmetric },
  { alg: TPM_ALG.MGF1, algProperties: KDF },
  { alg: TPM_ALG.KEYEDHASH, algProperties: A.hash | A.object | A.signing | A.encrypting },
  { alg: TPM_ALG.XOR, algProperties: A.hash | A.symmetric },
  { alg: TPM_ALG.SHA256, algProperties: HASH },
  { alg: TPM_ALG.SHA384, algProperties: HASH },
  { alg: TPM_ALG.SHA512, algProperties: HASH },
  { alg: TPM_ALG.RSASSA, algProperties: SIGN },
  { alg: TPM_ALG.RSAES, algProperties: DECRYPT },
  { alg: TPM_ALG.RSAPSS, algProperties: SIGN },
  { alg: TPM_ALG.OAEP, algProperties: DECRYPT },
  { alg: TPM_ALG.ECDSA, algProperties: SIGN },
  { alg: TPM_ALG.ECDH, algProperties: A.asymmetric | A.method },
  { alg: TPM_ALG.ECDAA, algProperties: SIGN },
  { alg: TPM_ALG.ECMQV, algProperties: A.asymmetric | A.method },
  { alg: TPM_ALG.KDF1_SP800_56A, algProperties: KDF },
  { alg: TPM_ALG.KDF2, algProperties: KDF },
  { alg: TPM_ALG.KDF1_SP800_108, algProperties: KDF },
  { alg: TPM_ALG.ECC, algProperties: A.asymmetric | A.object },
  { alg: TPM_ALG.SYMCIPHER, algProperties: A.object },
  // Every AES mode node:crypto offers (aes-N-ctr/ofb/cbc/cfb/ecb); key protection uses CFB.
  { alg: TPM_ALG.CTR, algProperties: MODE },
  { alg: TPM_ALG.OFB, algProperties: MODE },
  { alg: TPM_ALG.CBC, algProperties: MODE },
  { alg: TPM_ALG.CFB, algProperties: MODE },
  { alg: TPM_ALG.ECB, algProperties: MODE },
];

const IMPLEMENTED = new Set(ALGORITHMS.map((a) => a.alg));
export const isImplemented = (alg: number): boolean => IMPLEMENTED.has(alg);

/** The implemented members of a TPMI_ALG_* type's Part 2 value set. */
export const implementedOf = (algs: readonly number[]): ReadonlySet<number> =>
  new Set(algs.filter(isImplemented));

/** TPMI_AES_KEY_BITS. */
export const AES_KEY_BITS: readonly number[] = [128, 192, 256];
/** TPMI_RSA_KEY_BITS: the sizes node:crypto generates in reasonable time. */
export const RSA_KEY_BITS: readonly number[] = [1024, 2048, 3072, 4096];
