import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ECC_CURVES } from '../../src/tpm/capability/ecc-curves.js';
import { ecdhPoint } from '../../src/tpm/crypto/ecdh-point.js';
import { pointMultiply } from '../../src/tpm/crypto/ecc-point.js';
import { generateEccKey } from '../../src/tpm/crypto/ecc.js';
import { fromBigInt, toBigInt } from '../../src/tpm/crypto/big-endian-int.js';

describe('ecdhPoint: d * Q through node ECDH, y chosen by a public check', () => {
  for (const curve of ECC_CURVES) {
    it(`${curve.jwkName}: equals double-and-add on random keys, and at d = 1 and d = order - 1`, () => {
      const q = generateEccKey(curve, randomBytes);
      const Q = { x: toBigInt(q.x), y: toBigInt(q.y) };
      const size = q.x.length;
      const scalars = [1n, curve.order - 1n, 2n, ...Array.from({ length: 4 }, () => toBigInt(generateEccKey(curve, randomBytes).d))];
      for (const d of scalars) {
        const expected = pointMultiply(curve, Q, d)!;
        const got = ecdhPoint(curve, fromBigInt(d, size), q);
        assert.equal(toBigInt(got.x), expected.x, `x for d = ${d}`);
        assert.equal(toBigInt(got.y), expected.y, `y for d = ${d}`);
      }
    });
  }
});
