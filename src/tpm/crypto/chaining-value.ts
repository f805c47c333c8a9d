/**
 * The IV a symmetric operation hands back (Part 3 §15.2, ivOut): the chaining value that lets the
 * next call continue the same stream, as the reference's CryptSymmetricEncrypt/Decrypt leave it.
 * - CBC, CFB: the last ciphertext block; a partial CFB block leaves its ciphertext bytes followed
 *   by the rest of the encrypted previous IV.
 * - CTR: the counter after the last block used (node's counter runs the same way).
 * - OFB: the last keystream block.
 * - ECB: no chaining, the IV comes back as it went in.
 */
import { TPM_ALG } from '../spec/constants.js';
import { concatBytes } from './bytes.js';
import { fromBigInt, toBigInt } from './big-endian-int.js';
import { symmetricEncrypt, type SymmetricDef } from './symmetric.js';

const BLOCK = 16;

const encryptBlock = (def: SymmetricDef, key: Uint8Array, block: Uint8Array): Uint8Array =>
  symmetricEncrypt({ ...def, mode: TPM_ALG.ECB }, key, block, block);

const counterAfter = (iv: Uint8Array, blocks: number): Uint8Array =>
  fromBigInt((toBigInt(iv) + BigInt(blocks)) % (1n << BigInt(iv.length * 8)), iv.length);

function cfbNext(def: SymmetricDef, key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const whole = Math.floor(ciphertext.length / BLOCK);
  const rest = ciphertext.length % BLOCK;
  if (rest === 0) return ciphertext.slice((whole - 1) * BLOCK);
  const previous = whole === 0 ? iv : ciphertext.subarray((whole - 1) * BLOCK, whole * BLOCK);
  return concatBytes(ciphertext.subarray(whole * BLOCK), encryptBlock(def, key, previous).subarray(rest));
}

/** ivOut after encrypting or decrypting data whose ciphertext side is `ciphertext`. */
export function chainingValue(def: SymmetricDef, key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  if (ciphertext.length === 0 || def.mode === TPM_ALG.ECB) return iv;
  const blocks = Math.ceil(ciphertext.length / BLOCK);
  switch (def.mode) {
    case TPM_ALG.CBC: return ciphertext.slice(ciphertext.length - BLOCK);
    case TPM_ALG.CFB: return cfbNext(def, key, iv, ciphertext);
    case TPM_ALG.CTR: return counterAfter(iv, blocks);
    case TPM_ALG.OFB: return symmetricEncrypt(def, key, iv, new Uint8Array(blocks * BLOCK)).slice((blocks - 1) * BLOCK);
    default: throw new RangeError(`no chaining value for mode 0x${def.mode.toString(16)}`);
  }
}
