import { createCipheriv, createDecipheriv } from 'node:crypto';
import { TPM_ALG, type TPM_ALG_ID } from '../spec/constants.js';
import { kdfa } from './kdf.js';
import { bytesOf } from './hash.js';

/** A TPMT_SYM_DEF without the NULL case: algorithm, key size in bits, block cipher mode. */
export interface SymmetricDef {
  readonly algorithm: TPM_ALG_ID;
  readonly keyBits: number;
  readonly mode: TPM_ALG_ID;
}

interface CipherEntry extends SymmetricDef {
  /** node:crypto cipher name; node's "-cfb" is CFB128, i.e. full-block feedback as the TPM uses. */
  readonly nodeName: string;
  readonly blockBytes: number;
}

/** AES modes by their node:crypto suffix; CBC and ECB take whole blocks only (no padding). */
const AES_MODES: readonly [number, string][] = [
  [TPM_ALG.CFB, 'cfb'], [TPM_ALG.CBC, 'cbc'], [TPM_ALG.ECB, 'ecb'], [TPM_ALG.CTR, 'ctr'], [TPM_ALG.OFB, 'ofb'],
];

const CIPHERS: readonly CipherEntry[] = AES_MODES.flatMap(([mode, suffix]) =>
  [128, 192, 256].map((keyBits) => ({ algorithm: TPM_ALG.AES, keyBits, mode, nodeName: `aes-${keyBits}-${suffix}`, blockBytes: 16 })));

/** The implemented (algorithm, keyBits, mode) triples. */
export function symmetricDefs(): readonly SymmetricDef[] {
  return CIPHERS.map(({ algorithm, keyBits, mode }) => ({ algorithm, keyBits, mode }));
}

export function isSupportedSymmetric(def: SymmetricDef): boolean {
  return findCipher(def) !== undefined;
}

/** Block size in bytes of the cipher, which is also its IV size. */
export function symmetricBlockSize(def: SymmetricDef): number {
  return requireCipher(def).blockBytes;
}

function findCipher(def: SymmetricDef): CipherEntry | undefined {
  return CIPHERS.find((c) => c.algorithm === def.algorithm && c.keyBits === def.keyBits && c.mode === def.mode);
}

function requireCipher(def: SymmetricDef): CipherEntry {
  const entry = findCipher(def);
  if (entry === undefined) {
    throw new RangeError(
      `unsupported symmetric cipher alg 0x${def.algorithm.toString(16)} keyBits ${def.keyBits} mode 0x${def.mode.toString(16)}`,
    );
  }
  return entry;
}

function run(cipher: ReturnType<typeof createCipheriv> | ReturnType<typeof createDecipheriv>, data: Uint8Array): Uint8Array {
  return bytesOf(Buffer.concat([cipher.update(data), cipher.final()]));
}

/** ECB takes no IV; the other modes one block of it. */
const ivFor = (def: SymmetricDef, iv: Uint8Array): Uint8Array | null => (def.mode === TPM_ALG.ECB ? null : iv);

export function symmetricEncrypt(def: SymmetricDef, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  return run(createCipheriv(requireCipher(def).nodeName, key, ivFor(def, iv)).setAutoPadding(false), data);
}

export function symmetricDecrypt(def: SymmetricDef, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  return run(createDecipheriv(requireCipher(def).nodeName, key, ivFor(def, iv)).setAutoPadding(false), data);
}

/**
 * XOR obfuscation, TPM 2.0 Part 1 §21.2 (TPM_ALG_XOR): data XOR KDFa(hashAlg, key, "XOR",
 * contextU, contextV, data.length * 8). Its own inverse.
 */
export function xorObfuscate(
  hashAlg: TPM_ALG_ID,
  key: Uint8Array,
  contextU: Uint8Array,
  contextV: Uint8Array,
  data: Uint8Array,
): Uint8Array {
  const mask = kdfa(hashAlg, key, 'XOR', contextU, contextV, data.length * 8);
  return data.map((b, i) => b ^ mask[i]!);
}
