import assert from 'node:assert/strict';
import { TPM_ALG } from '../../../src/tpm/spec/constants.js';
import { TPM_RC, TpmError } from '../../../src/tpm/spec/tpm-rc.js';
import { decode } from '../../../src/tpm/marshal/codec.js';
import { TPMT_PUBLIC, TPMT_SENSITIVE } from '../../../src/tpm/marshal/object-types.js';
import { makeObject, type TpmObject } from '../../../src/tpm/objects/tpm-object.js';
import { recoverSecret } from '../../../src/tpm/objects/secret-exchange.js';
import { ECC_VECTORS, RSA_VECTORS, type SecretSharingVector } from './secret-sharing-vectors.js';

const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

function keyOf(v: SecretSharingVector): TpmObject {
  const object = makeObject(decode(TPMT_PUBLIC, bytes(v.publicKey)), decode(TPMT_SENSITIVE, bytes(v.privateKey)), 0x40000001, new Uint8Array(0));
  return { ...object, handle: 0x80000000, client: 0 };
}

describe('objects/secret-exchange recoverSecret', () => {
  for (const v of [...RSA_VECTORS, ...ECC_VECTORS]) {
    it(`recovers the seed of tpm-test-vectors ${v.name} (${v.label}${v.validated ? `, checked with ${v.validated}` : ''})`, () => {
      assert.equal(Buffer.from(recoverSecret(keyOf(v), v.label, bytes(v.ciphertext))).toString('hex'), v.secret);
    });
  }

  it('RSA: another label is TPM_RC_VALUE (the OAEP label is part of the padding check)', () => {
    const v = RSA_VECTORS[0]!;
    assert.throws(() => recoverSecret(keyOf(v), v.label === 'SECRET' ? 'IDENTITY' : 'SECRET', bytes(v.ciphertext)),
      (e: unknown) => e instanceof TpmError && e.rc === TPM_RC.VALUE);
  });

  it('RSA: a key with a scheme other than OAEP is TPM_RC_SCHEME', () => {
    const key = keyOf(RSA_VECTORS[0]!);
    const rsaes = { ...key, publicArea: { ...key.publicArea, parameters: { ...key.publicArea.parameters, scheme: { scheme: TPM_ALG.RSAES } } } } as TpmObject;
    assert.throws(() => recoverSecret(rsaes, RSA_VECTORS[0]!.label, bytes(RSA_VECTORS[0]!.ciphertext)),
      (e: unknown) => e instanceof TpmError && e.rc === TPM_RC.SCHEME);
  });

  it('ECC: a point off the curve is TPM_RC_ECC_POINT', () => {
    const v = ECC_VECTORS[0]!;
    const tampered = bytes(v.ciphertext);
    tampered[tampered.length - 1]! ^= 1;
    assert.throws(() => recoverSecret(keyOf(v), v.label, tampered), (e: unknown) => e instanceof TpmError && e.rc === TPM_RC.ECC_POINT);
  });
});
