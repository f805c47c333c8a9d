/**
 * Part 2 codecs of signatures and what the signing and RSA commands exchange: TPMT_SIG_SCHEME,
 * TPMT_SIGNATURE, TPMT_TK_VERIFIED and TPMT_RSA_DECRYPT. TPMI_ALG_SIG_SCHEME and
 * TPMI_ALG_RSA_DECRYPT admit the implemented members of their Part 2 sets, else TPM_RC_SCHEME
 * (TPM_RC_VALUE for TPMI_ALG_RSA_DECRYPT, as the reference unmarshals it).
 */
import { TPM_ALG, TPM_ST } from '../spec/constants.js';
import { TPM_RC } from '../spec/tpm-rc.js';
import { hashInfo } from '../spec/hash-algs.js';
import { type Codec, UINT16, restricted, struct } from './codec.js';
import { TPM2B_DIGEST, TPMI_ALG_HASH, TPMI_RH_HIERARCHY_NULL } from './types.js';
import { TPM2B_ECC_PARAMETER, TPM2B_PUBLIC_KEY_RSA } from './object-types.js';
import { algSelector, schemeCodec } from './public-parms-types.js';

/** The shape of each TPMU_SIGNATURE member: RSA (one modulus-sized value), ECC (r, s), HMAC (TPMT_HA). */
type SignatureMember = 'rsa' | 'ecc' | 'hmac';
const SIGNATURE_MEMBERS: Partial<Record<number, SignatureMember>> = {
  [TPM_ALG.RSASSA]: 'rsa', [TPM_ALG.RSAPSS]: 'rsa',
  [TPM_ALG.ECDSA]: 'ecc', [TPM_ALG.ECDAA]: 'ecc', [TPM_ALG.SM2]: 'ecc', [TPM_ALG.ECSCHNORR]: 'ecc',
  [TPM_ALG.HMAC]: 'hmac',
};

/** TPMT_SIG_SCHEME+. */
export const TPMT_SIG_SCHEME = schemeCodec({
  [TPM_ALG.RSASSA]: 'hash', [TPM_ALG.RSAPSS]: 'hash', [TPM_ALG.ECDSA]: 'hash', [TPM_ALG.ECDAA]: 'ecdaa',
  [TPM_ALG.SM2]: 'hash', [TPM_ALG.ECSCHNORR]: 'hash', [TPM_ALG.HMAC]: 'hash',
}, TPM_RC.SCHEME);

/** TPMT_RSA_DECRYPT+. */
export const TPMT_RSA_DECRYPT = schemeCodec({ [TPM_ALG.RSAES]: 'empty', [TPM_ALG.OAEP]: 'hash' }, TPM_RC.VALUE);

/**
 * A TPMT_SIGNATURE value: the scheme, its hash, and the member's values in Part 2 order
 * (the RSA signature; r and s; the HMAC). A NULL signature has hash NULL and no parts.
 */
export interface Signature {
  sigAlg: number;
  hash: number;
  parts: Uint8Array[];
}

/** The sized values of the RSA and ECC members; the HMAC member is a digest of its hash's size. */
const MEMBER_PARTS: Record<'rsa' | 'ecc', Codec<Uint8Array>[]> = {
  rsa: [TPM2B_PUBLIC_KEY_RSA],
  ecc: [TPM2B_ECC_PARAMETER, TPM2B_ECC_PARAMETER],
};

const TPMI_ALG_SIG_SCHEME_NULL = algSelector(Object.keys(SIGNATURE_MEMBERS).map(Number), TPM_RC.SCHEME, true);

export const TPMT_SIGNATURE: Codec<Signature> = {
  read(r) {
    const sigAlg = TPMI_ALG_SIG_SCHEME_NULL.read(r);
    const member = SIGNATURE_MEMBERS[sigAlg];
    if (!member) return { sigAlg, hash: TPM_ALG.NULL, parts: [] };
    const hash = TPMI_ALG_HASH.read(r);
    if (member === 'hmac') return { sigAlg, hash, parts: [r.bytes(hashInfo(hash)!.digestSize)] };
    return { sigAlg, hash, parts: MEMBER_PARTS[member].map((c) => c.read(r)) };
  },
  write(w, v) {
    w.u16(v.sigAlg);
    const member = SIGNATURE_MEMBERS[v.sigAlg];
    if (!member) return;
    w.u16(v.hash);
    if (member === 'hmac') w.bytes(v.parts[0]!);
    else MEMBER_PARTS[member].forEach((c, i) => c.write(w, v.parts[i]!));
  },
};

/** TPMT_TK_VERIFIED. */
export const TPMT_TK_VERIFIED = struct({
  tag: restricted<number>(UINT16, (v) => v === TPM_ST.VERIFIED, TPM_RC.TAG),
  hierarchy: TPMI_RH_HIERARCHY_NULL,
  digest: TPM2B_DIGEST,
});
