import assert from 'node:assert/strict';
import { TPM_ALG } from '../../src/tpm/spec/constants.js';
import { kdfa } from '../../src/tpm/crypto/kdf.js';
import {
  isSupportedSymmetric,
  symmetricBlockSize,
  symmetricDecrypt,
  symmetricDefs,
  symmetricEncrypt,
  xorObfuscate,
} from '../../src/tpm/crypto/symmetric.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s/g, ''), 'hex'));

const aesCfb = (keyBits: number) => ({ algorithm: TPM_ALG.AES, keyBits, mode: TPM_ALG.CFB });

// NIST SP 800-38A appendix F.3: CFB128 with the common IV and plaintext.
const IV = bytes('000102030405060708090a0b0c0d0e0f');
const PLAINTEXT = bytes(`6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
                         30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710`);
const SP800_38A = [
  // F.3.13 / F.3.14 CFB128-AES128
  [128, '2b7e151628aed2a6abf7158809cf4f3c',
   '3b3fd92eb72dad20333449f8e83cfb4a c8a64537a0b3a93fcde3cdad9f1ce58b 26751f67a3cbb140b1808cf187a4f4df c04b05357c5d1c0eeac4c66f9ff7f2e6'],
  // F.3.15 / F.3.16 CFB128-AES192
  [192, '8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b',
   'cdc80d6fddf18cab34c25909c99a4174 67ce7f7f81173621961a2b70171d3d7a 2e1e8a1dd59b88b1c8e60fed1efac4c9 c05f9f9ca9834fa042ae8fba584b09ff'],
  // F.3.17 / F.3.18 CFB128-AES256
  [256, '603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4',
   'dc7e84bfda79164b7ecd8486985d3860 39ffed143b28b1c832113c6331e5407b df10132415e54b92a13ed0a8267ae2f9 75a385741ab9cef82031623d55b1e471'],
] as const;

describe('crypto/symmetric', () => {
  for (const [keyBits, key, ciphertext] of SP800_38A) {
    it(`encrypts and decrypts the SP800-38A CFB128-AES${keyBits} vectors`, () => {
      assert.equal(hex(symmetricEncrypt(aesCfb(keyBits), bytes(key), IV, PLAINTEXT)), hex(bytes(ciphertext)));
      assert.equal(hex(symmetricDecrypt(aesCfb(keyBits), bytes(key), IV, bytes(ciphertext))), hex(PLAINTEXT));
    });
  }

  it('handles a length that is not a block multiple (TPM parameters are arbitrary sizes)', () => {
    const [, key, ciphertext] = SP800_38A[0];
    const part = symmetricEncrypt(aesCfb(128), bytes(key), IV, PLAINTEXT.subarray(0, 21));
    assert.equal(hex(part), hex(bytes(ciphertext).subarray(0, 21)));
    assert.equal(hex(symmetricDecrypt(aesCfb(128), bytes(key), IV, part)), hex(PLAINTEXT.subarray(0, 21)));
  });

  it('lists AES-CFB 128/192/256 and rejects other combinations', () => {
    assert.deepEqual(symmetricDefs().filter((d) => d.mode === TPM_ALG.CFB).map((d) => d.keyBits), [128, 192, 256]);
    assert.equal(symmetricBlockSize(aesCfb(256)), 16);
    assert.equal(isSupportedSymmetric({ algorithm: TPM_ALG.AES, keyBits: 100, mode: TPM_ALG.OFB }), false);
    assert.throws(() => symmetricEncrypt(aesCfb(512), new Uint8Array(64), IV, PLAINTEXT), /unsupported symmetric cipher/);
  });

  describe('xorObfuscate', () => {
    const key = bytes('00112233445566778899');
    const u = bytes('a1a2a3a4');
    const v = bytes('b1b2');

    it('XORs the data with KDFa(hash, key, "XOR", U, V, 8 * length)', () => {
      const data = bytes('000000000000000000ff');
      const mask = kdfa(TPM_ALG.SHA256, key, 'XOR', u, v, 80);
      const want = Uint8Array.from(data, (b, i) => b ^ mask[i]!);
      const out = xorObfuscate(TPM_ALG.SHA256, key, u, v, data);
      assert.equal(hex(out), hex(want));
      assert.equal(hex(out.subarray(0, 9)), hex(mask.subarray(0, 9)));
    });

    it('is its own inverse', () => {
      const data = bytes('48656c6c6f2c2054504d2c2074686973206973206c6f6e676572207468616e206f6e65206469676573742e');
      const once = xorObfuscate(TPM_ALG.SHA1, key, u, v, data);
      assert.notEqual(hex(once), hex(data));
      assert.equal(hex(xorObfuscate(TPM_ALG.SHA1, key, u, v, once)), hex(data));
    });
  });
});
