import assert from 'node:assert/strict';
import { randomBytes } from '../../src/tpm/crypto/random.js';

describe('crypto/random', () => {
  it('returns n fresh bytes as a plain Uint8Array', () => {
    const a = randomBytes(32);
    const b = randomBytes(32);
    assert.equal(a.length, 32);
    assert.equal(Object.getPrototypeOf(a), Uint8Array.prototype);
    assert.notDeepEqual(a, b);
    assert.equal(randomBytes(0).length, 0);
  });
});
