/** ECDSA and RSA signatures of a digest, against node:crypto signing and verifying the message, on every curve and hash. */
import assert from 'node:assert/strict';
import { constants, createHash, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { ecKeyPair } from '../helpers/key-pairs.js';
import { ECC_CURVES } from '../../src/tpm/capability/ecc-curves.js';
import { HASH_ALGS } from '../../src/tpm/spec/hash-algs.js';
import { ecdsaSign, ecdsaVerify } from '../../src/tpm/crypto/ecdsa.js';
import { rsapssSign, rsapssVerify, rsassaSign, rsassaVerify, pssSaltLength } from '../../src/tpm/crypto/rsa-signature.js';

const rng = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const b64 = (s: string | undefined): Buffer => Buffer.from(s!, 'base64url');

describe('crypto/ecdsa', () => {
  for (const curve of ECC_CURVES) {
    for (const h of HASH_ALGS) {
      it(`${curve.jwkName} with ${h.name}: node verifies ours, we verify node's`, () => {
        const { privateKey, publicKey } = ecKeyPair(curve.nodeName);
        const jwk = privateKey.export({ format: 'jwk' });
        const [d, x, y] = [b64(jwk.d), b64(jwk.x), b64(jwk.y)];
        const message = randomBytes(50);
        const digest = createHash(h.name).update(message).digest();
        const ours = ecdsaSign(curve, d, digest, rng);
        assert.ok(verify(h.name, message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.concat([ours.r, ours.s])));
        assert.ok(ecdsaVerify(curve, x, y, digest, ours));

        const theirs = sign(h.name, message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        const half = theirs.length / 2;
        assert.ok(ecdsaVerify(curve, x, y, digest, { r: theirs.subarray(0, half), s: theirs.subarray(half) }));
        const other = Buffer.from(digest);
        other[0] = other[0]! ^ 1;
        assert.equal(ecdsaVerify(curve, x, y, other, ours), false);
      });
    }
  }
});

describe('crypto/rsa-signature', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  for (const h of HASH_ALGS) {
    it(`RSASSA and RSAPSS with ${h.name} on a 1024-bit key match node`, () => {
      const message = randomBytes(40);
      const digest = createHash(h.name).update(message).digest();
      const pkcs1 = rsassaSign(privateKey, h, digest);
      assert.deepEqual(Buffer.from(pkcs1), sign(h.name, message, privateKey), 'PKCS#1 v1.5 is deterministic');
      assert.ok(rsassaVerify(publicKey, h, digest, pkcs1));

      const saltLength = pssSaltLength(h, 128);
      assert.equal(saltLength, Math.min(h.digestSize, 128 - h.digestSize - 2));
      const pss = rsapssSign(privateKey, h, digest, 128, rng(saltLength));
      assert.ok(verify(h.name, message, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, pss));
      const theirs = sign(h.name, message, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 0 });
      assert.ok(rsapssVerify(publicKey, h, digest, theirs), 'any salt length verifies');
      const other = Buffer.from(digest);
      other[0] = other[0]! ^ 1;
      assert.equal(rsapssVerify(publicKey, h, other, pss), false);
      assert.equal(rsassaVerify(publicKey, h, other, pkcs1), false);
    });
  }
});
