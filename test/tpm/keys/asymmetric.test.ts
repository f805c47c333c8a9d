/** RSA_Encrypt, RSA_Decrypt, ECDH_KeyGen and ECDH_ZGen through Tpm.execute, against node:crypto, with the error codes of Part 3 §14. */
import assert from 'node:assert/strict';
import { constants, createECDH, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { rcOf, startedTpm } from '../helpers/pcr-cmd.js';
import { command, pwAuth, tpm2b } from '../helpers/tpm-wire.js';
import {
  ALG, CC, OBJ, createPrimaryCommand, eccKey, eccStorageKey, parseCreatePrimary, responseParams, rsaKey, rsaStorageKey, scheme,
  type CreatedKey, type Template,
} from '../helpers/key-cmd.js';

const RC = {
  KEY_H1: 0x19c, ATTRIBUTES_H1: 0x182, SCHEME_P2: 0x2d2, VALUE_P1: 0x1c4, VALUE_P2: 0x2c4, VALUE_P3: 0x3c4, SIZE_P1: 0x1d5, ECC_POINT_P1: 0x1e7,
};

const sized = (buf: Buffer, at = 0): Buffer => buf.subarray(at + 2, at + 2 + buf.readUInt16BE(at));
/** TPM2B_ECC_POINT. */
const eccPoint = (x: Buffer, y: Buffer): Buffer => tpm2b(Buffer.concat([tpm2b(x), tpm2b(y)]));
/** x and y of the TPM2B_ECC_POINT at `at`; returns the offset after it too. */
function readPoint(buf: Buffer, at: number): { x: Buffer; y: Buffer; end: number } {
  const x = sized(buf, at + 2);
  const y = sized(buf, at + 4 + x.length);
  return { x, y, end: at + 2 + buf.readUInt16BE(at) };
}

function setup() {
  const t = startedTpm();
  const create = (template: Template): CreatedKey => parseCreatePrimary(template, t.ok(createPrimaryCommand(template)));
  const encrypt = (key: number, message: Uint8Array, inScheme: Buffer, label: Uint8Array = Buffer.alloc(0)): Buffer =>
    t.run(command(CC.RSA_Encrypt, [key], [tpm2b(message), inScheme, tpm2b(label)]));
  const decrypt = (key: number, cipher: Uint8Array, inScheme: Buffer, label: Uint8Array = Buffer.alloc(0)): Buffer =>
    t.run(command(CC.RSA_Decrypt, [key], [tpm2b(cipher), inScheme, tpm2b(label)], [pwAuth()]));
  const zgen = (key: number, point: Buffer): Buffer => t.run(command(CC.ECDH_ZGen, [key], [point], [pwAuth()]));
  return { t, create, encrypt, decrypt, zgen };
}

describe('RSA_Encrypt / RSA_Decrypt (engine)', () => {
  it('round trips with OAEP (with a label), RSAES and raw RSA, and decrypts what node encrypted', () => {
    const { create, encrypt, decrypt } = setup();
    const key = create(rsaKey(OBJ.decrypt, scheme(ALG.NULL)));
    const message = randomBytes(40);
    const label = Buffer.from('label\0');
    for (const [s, l] of [[scheme(ALG.OAEP, ALG.SHA256), label], [scheme(ALG.RSAES), Buffer.alloc(0)]] as const) {
      const cipher = sized(encrypt(key.handle, message, s, l).subarray(10));
      assert.equal(cipher.length, 128);
      assert.deepEqual(sized(responseParams(decrypt(key.handle, cipher, s, l))), message);
    }
    const raw = sized(encrypt(key.handle, message, scheme(ALG.NULL)).subarray(10));
    assert.deepEqual(sized(responseParams(decrypt(key.handle, raw, scheme(ALG.NULL)))), Buffer.concat([Buffer.alloc(128 - 40), message]));

    const fromNode = publicEncrypt({ key: key.publicKey!, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: label }, message);
    assert.deepEqual(sized(responseParams(decrypt(key.handle, fromNode, scheme(ALG.OAEP, ALG.SHA256), label))), message);
    const pkcs1 = publicEncrypt({ key: key.publicKey!, padding: constants.RSA_PKCS1_PADDING }, message);
    assert.deepEqual(sized(responseParams(decrypt(key.handle, pkcs1, scheme(ALG.RSAES)))), message);
  });

  it('refuses other keys: ECC is TPM_RC_KEY, no decrypt or (for RSA_Decrypt) restricted is TPM_RC_ATTRIBUTES (handle 1)', () => {
    const { create, encrypt, decrypt } = setup();
    const ecc = create(eccKey(OBJ.decrypt, scheme(ALG.ECDH, ALG.SHA256)));
    const signer = create(rsaKey(OBJ.sign, scheme(ALG.RSASSA, ALG.SHA256)));
    const storage = create(rsaStorageKey());
    const m = Buffer.alloc(16, 1);
    assert.equal(rcOf(encrypt(ecc.handle, m, scheme(ALG.NULL))), RC.KEY_H1);
    assert.equal(rcOf(encrypt(signer.handle, m, scheme(ALG.NULL))), RC.ATTRIBUTES_H1);
    assert.equal(rcOf(decrypt(storage.handle, Buffer.alloc(128, 1), scheme(ALG.RSAES))), RC.ATTRIBUTES_H1);
    assert.equal(rcOf(encrypt(storage.handle, m, scheme(ALG.RSAES))), 0, 'a restricted decrypt key may encrypt');
  });

  it('labels, schemes and sizes: TPM_RC_VALUE (3), TPM_RC_VALUE/SCHEME (2), TPM_RC_SIZE/VALUE (1)', () => {
    const { create, encrypt, decrypt } = setup();
    const key = create(rsaKey(OBJ.decrypt, scheme(ALG.OAEP, ALG.SHA256)));
    const m = Buffer.alloc(16, 1);
    assert.equal(rcOf(encrypt(key.handle, m, scheme(ALG.NULL), Buffer.from('no terminator'))), RC.VALUE_P3);
    assert.equal(rcOf(decrypt(key.handle, Buffer.alloc(128, 1), scheme(ALG.NULL), Buffer.from('no terminator'))), RC.VALUE_P3);
    assert.equal(rcOf(encrypt(key.handle, m, scheme(ALG.RSASSA, ALG.SHA256))), RC.VALUE_P2, 'not a TPMI_ALG_RSA_DECRYPT');
    assert.equal(rcOf(encrypt(key.handle, m, scheme(ALG.RSAES))), RC.SCHEME_P2, 'another scheme than the key');
    assert.equal(rcOf(encrypt(key.handle, m, scheme(ALG.OAEP, ALG.SHA384))), RC.SCHEME_P2, 'another hash than the key');
    assert.equal(rcOf(encrypt(key.handle, Buffer.alloc(128 - 2 * 32 - 1, 1), scheme(ALG.NULL))), RC.VALUE_P1, 'too long for OAEP-SHA256');
    assert.equal(rcOf(decrypt(key.handle, Buffer.alloc(127, 1), scheme(ALG.NULL))), RC.SIZE_P1);
    assert.equal(rcOf(decrypt(key.handle, Buffer.alloc(128, 1), scheme(ALG.NULL))), RC.VALUE_P1, 'not OAEP-encoded');
  });
});

describe('ECDH_KeyGen / ECDH_ZGen (engine)', () => {
  it('KeyGen Z equals ZGen of its ephemeral point, and ZGen agrees with node on a point node made', () => {
    const { t, create, zgen } = setup();
    const key = create(eccKey(OBJ.decrypt, scheme(ALG.ECDH, ALG.SHA256)));
    const generated = t.ok(command(CC.ECDH_KeyGen, [key.handle], [])).subarray(10);
    const z = readPoint(generated, 0);
    const ephemeral = readPoint(generated, z.end);
    const again = readPoint(responseParams(zgen(key.handle, eccPoint(ephemeral.x, ephemeral.y))), 0);
    assert.deepEqual([again.x, again.y], [z.x, z.y]);

    const mine = createECDH('prime256v1');
    const pub = mine.generateKeys();
    const out = readPoint(responseParams(zgen(key.handle, eccPoint(pub.subarray(1, 33), pub.subarray(33)))), 0);
    const expected = mine.computeSecret(Buffer.concat([Buffer.of(4), key.unique[0]!, key.unique[1]!]));
    assert.deepEqual(out.x, expected);
    // y as well: the output is a point of the curve.
    createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: out.x.toString('base64url'), y: out.y.toString('base64url') }, format: 'jwk' });
  });

  it('a point off the curve is TPM_RC_ECC_POINT (parameter 1); restricted or non-ECC keys are refused on handle 1 (KeyGen: non-ECC only)', () => {
    const { t, create, zgen } = setup();
    const key = create(eccKey(OBJ.decrypt, scheme(ALG.ECDH, ALG.SHA256)));
    const storage = create(eccStorageKey());
    const rsa = create(rsaKey(OBJ.decrypt, scheme(ALG.NULL)));
    assert.equal(rcOf(zgen(key.handle, eccPoint(key.unique[0]!, Buffer.alloc(32, 1)))), RC.ECC_POINT_P1);
    const onCurve = eccPoint(key.unique[0]!, key.unique[1]!);
    assert.equal(rcOf(zgen(storage.handle, onCurve)), RC.ATTRIBUTES_H1);
    assert.equal(rcOf(zgen(rsa.handle, onCurve)), RC.KEY_H1);
    assert.equal(rcOf(t.run(command(CC.ECDH_KeyGen, [rsa.handle], []))), RC.KEY_H1);
    assert.equal(rcOf(t.run(command(CC.ECDH_KeyGen, [storage.handle], []))), 0, 'any ECC key: the reference checks no attributes');
  });
});
