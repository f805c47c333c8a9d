import { TPM_ALG } from './constants.js';

/** The hash algorithms this TPM implements, in TPM_ALG_ID order (PCR_Event answers in this order). */
export const HASH_ALGS = [
  { alg: TPM_ALG.SHA1, name: 'sha1', digestSize: 20, blockSize: 64 },
  { alg: TPM_ALG.SHA256, name: 'sha256', digestSize: 32, blockSize: 64 },
  { alg: TPM_ALG.SHA384, name: 'sha384', digestSize: 48, blockSize: 128 },
  { alg: TPM_ALG.SHA512, name: 'sha512', digestSize: 64, blockSize: 128 },
] as const;

export type HashAlgInfo = (typeof HASH_ALGS)[number];

const BY_ID = new Map<number, HashAlgInfo>(HASH_ALGS.map((h) => [h.alg, h]));
const BY_NAME = new Map<string, HashAlgInfo>(HASH_ALGS.map((h) => [h.name, h]));

export const hashInfo = (alg: number): HashAlgInfo | undefined => BY_ID.get(alg);
export const hashByName = (name: string): HashAlgInfo | undefined => BY_NAME.get(name.toLowerCase());
export const isHashAlg = (alg: number): boolean => BY_ID.has(alg);

/** Largest digest this TPM produces: TPM2B_DIGEST's capacity and TPM_PT_MAX_DIGEST. */
export const MAX_DIGEST_SIZE = 64;
