import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { TPM_ALG } from '../../src/tpm/spec/constants.js';
import { createHasher, digestSize, hash, hashAlg, hashAlgs, hmac, UnsupportedHashError } from '../../src/tpm/crypto/hash.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const fill = (byte: number, n: number): Uint8Array => new Uint8Array(n).fill(byte);

describe('crypto/hash', () => {
  it('describes the mandatory hashes with their TPM_ALG_ID, digest and block sizes', () => {
    assert.deepEqual(
      [TPM_ALG.SHA1, TPM_ALG.SHA256, TPM_ALG.SHA384, TPM_ALG.SHA512].map((a) => {
        const e = hashAlg(a);
        return e && [e.name, e.digestSize, e.blockSize];
      }),
      [
        ['sha1', 20, 64],
        ['sha256', 32, 64],
        ['sha384', 48, 128],
        ['sha512', 64, 128],
      ],
    );
    assert.equal(digestSize(0x000b), 32);
    assert.equal(hashAlg(TPM_ALG.NULL), undefined);
    assert.ok(hashAlgs().every((e) => hash(e.alg).length === e.digestSize));
  });

  it('rejects algorithms that are not hashes', () => {
    assert.throws(() => hash(TPM_ALG.AES, ascii('x')), UnsupportedHashError);
    assert.throws(() => digestSize(0x9999), /unsupported hash algorithm 0x9999/);
  });

  // FIPS 180-2 appendix examples: the message "abc".
  it('hashes the FIPS 180 "abc" examples', () => {
    assert.equal(hex(hash(TPM_ALG.SHA1, ascii('abc'))), 'a9993e364706816aba3e25717850c26c9cd0d89d');
    assert.equal(hex(hash(TPM_ALG.SHA256, ascii('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(
      hex(hash(TPM_ALG.SHA384, ascii('abc'))),
      'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7',
    );
    assert.equal(
      hex(hash(TPM_ALG.SHA512, ascii('abc'))),
      'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    );
  });

  it('hashes chunks as their concatenation', () => {
    assert.deepEqual(hash(TPM_ALG.SHA256, ascii('a'), ascii(''), ascii('bc')), hash(TPM_ALG.SHA256, ascii('abc')));
  });

  it('hashes any chunk list, below and above the one-shot size, as node hashes the joined bytes', () => {
    const chunks = fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 4 });
    fc.assert(fc.property(chunks, chunks, (first, second) => {
      // Two calls in a row: the second must not see what the first left in the join buffer.
      for (const list of [first, second]) {
        assert.deepEqual(Buffer.from(hash(TPM_ALG.SHA384, ...list)), createHash('sha384').update(Buffer.concat(list)).digest());
      }
    }), { numRuns: 200 });
  });

  // RFC 4231 test cases 1, 2 and 6; RFC 2202 test case 1 for HMAC-SHA1.
  it('computes the RFC 4231 / RFC 2202 HMAC vectors', () => {
    const tc1 = [fill(0x0b, 20), ascii('Hi There')] as const;
    assert.equal(hex(hmac(TPM_ALG.SHA1, ...tc1)), 'b617318655057264e28bc0b6fb378c8ef146be00');
    assert.equal(hex(hmac(TPM_ALG.SHA256, ...tc1)), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7');
    assert.equal(
      hex(hmac(TPM_ALG.SHA384, ...tc1)),
      'afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6',
    );
    assert.equal(
      hex(hmac(TPM_ALG.SHA512, ...tc1)),
      '87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854',
    );
    assert.equal(
      hex(hmac(TPM_ALG.SHA256, ascii('Jefe'), ascii('what do ya '), ascii('want for nothing?'))),
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
    assert.equal(
      hex(hmac(TPM_ALG.SHA512, ascii('Jefe'), ascii('what do ya want for nothing?'))),
      '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737',
    );
    assert.equal(
      hex(hmac(TPM_ALG.SHA256, fill(0xaa, 131), ascii('Test Using Larger Than Block-Size Key - Hash Key First'))),
      '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    );
  });

  it('returns plain Uint8Arrays, not Buffers', () => {
    const d = hash(TPM_ALG.SHA256, ascii('abc'));
    assert.equal(Object.getPrototypeOf(d), Uint8Array.prototype);
    assert.equal(d.buffer.byteLength, 32);
  });

  describe('createHasher', () => {
    it('hashes incrementally and forks with copy()', () => {
      const h = createHasher(TPM_ALG.SHA256).update(ascii('a'));
      const fork = h.copy().update(ascii('b'), ascii('c'));
      assert.equal(hex(fork.digest()), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      // SHA-256("a"): the fork did not disturb the original state.
      assert.equal(hex(h.digest()), 'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb');
      assert.equal(fork.alg.alg, TPM_ALG.SHA256);
    });

    it('throws for an unknown algorithm', () => {
      assert.throws(() => createHasher(TPM_ALG.XOR), UnsupportedHashError);
    });
  });
});
