/** Sign and VerifySignature through Tpm.execute: signatures checked by node:crypto, and the error codes of Part 3 §20. */
import assert from 'node:assert/strict';
import { constants, createHash, createHmac, randomBytes, verify } from 'node:crypto';
import { Params, rcOf, startedTpm } from '../helpers/pcr-cmd.js';
import { tpm2b, u16, u32 } from '../helpers/tpm-wire.js';
import {
  ALG, CC, OBJ, RH, ST, createPrimaryCommand, eccKey, eccStorageKey, hashCheck, hmacKey, parseCreatePrimary, rsaKey,
  responseParams, scheme, signCommand, verifyCommand, type CreatedKey, type Template,
} from '../helpers/key-cmd.js';
import { command } from '../helpers/tpm-wire.js';

const RC = {
  KEY_H1: 0x19c, ATTRIBUTES_H1: 0x182, SCHEME_P2: 0x2d2, SIZE_P1: 0x1d5, TICKET_P3: 0x3e0, SIGNATURE_P2: 0x2db,
};

const sha256 = (data: Uint8Array): Buffer => createHash('sha256').update(data).digest();

function setup() {
  const t = startedTpm();
  const create = (template: Template, data?: Uint8Array): CreatedKey => parseCreatePrimary(template, t.ok(createPrimaryCommand(template, data)));
  /** TPMT_SIGNATURE of a successful Sign. */
  const sign = (key: number, digest: Uint8Array, inScheme: Buffer, validation?: Buffer): Buffer => {
    return responseParams(t.ok(signCommand(key, digest, inScheme, validation)));
  };
  return { t, create, sign };
}

/** TPMT_SIGNATURE fields: sigAlg, hash and the rest. */
const sigParts = (sig: Buffer): { sigAlg: number; hash: number; rest: Buffer } =>
  ({ sigAlg: sig.readUInt16BE(0), hash: sig.readUInt16BE(2), rest: sig.subarray(4) });
const tpm2bAt = (buf: Buffer, at: number): Buffer => buf.subarray(at + 2, at + 2 + buf.readUInt16BE(at));

describe('Sign and VerifySignature (engine)', () => {
  it('ECDSA with the key scheme: node verifies the signature, VerifySignature issues a ticket', () => {
    const { t, create, sign } = setup();
    const key = create(eccKey(OBJ.sign, scheme(ALG.ECDSA, ALG.SHA256)));
    const message = randomBytes(77);
    const digest = sha256(message);
    const sig = sign(key.handle, digest, scheme(ALG.NULL));
    const { sigAlg, hash, rest } = sigParts(sig);
    assert.deepEqual([sigAlg, hash], [ALG.ECDSA, ALG.SHA256]);
    const r = tpm2bAt(rest, 0);
    const s = tpm2bAt(rest, 2 + r.length);
    assert.ok(verify('sha256', message, { key: key.publicKey!, dsaEncoding: 'ieee-p1363' }, Buffer.concat([r, s])));

    const p = new Params(t.ok(verifyCommand(key.handle, digest, sig)));
    const [tag, hierarchy, ticket] = [p.u16(), p.u32(), p.b2()];
    // TicketComputeVerified: HMAC-SHA512(proof, TPM_ST_VERIFIED || digest || keyName).
    const expected = createHmac('sha512', t.tpm.persistent.shProof).update(u16(ST.VERIFIED)).update(digest).update(key.name).digest();
    assert.deepEqual([tag, hierarchy, ticket], [ST.VERIFIED, RH.OWNER, expected]);

    const wrong = Buffer.from(digest);
    wrong[0] = wrong[0]! ^ 1;
    assert.equal(rcOf(t.run(verifyCommand(key.handle, wrong, sig))), RC.SIGNATURE_P2);
  });

  it('RSASSA and RSAPSS chosen by inScheme for a key without a scheme; PSS salt as long as the digest', () => {
    const { t, create, sign } = setup();
    const key = create(rsaKey(OBJ.sign, scheme(ALG.NULL)));
    const message = randomBytes(33);
    const digest = sha256(message);
    const pkcs1 = sigParts(sign(key.handle, digest, scheme(ALG.RSASSA, ALG.SHA256)));
    assert.equal(pkcs1.sigAlg, ALG.RSASSA);
    assert.ok(verify('sha256', message, key.publicKey!, tpm2bAt(pkcs1.rest, 0)));
    const pss = sign(key.handle, digest, scheme(ALG.RSAPSS, ALG.SHA256));
    assert.ok(verify('sha256', message, { key: key.publicKey!, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, tpm2bAt(sigParts(pss).rest, 0)));
    assert.equal(rcOf(t.run(verifyCommand(key.handle, digest, pss))), 0);
    // Both NULL: no scheme to sign with.
    assert.equal(rcOf(t.run(signCommand(key.handle, digest, scheme(ALG.NULL)))), RC.SCHEME_P2);
  });

  it('HMAC signature of a KEYEDHASH key is HMAC(key, digest); VerifySignature checks it', () => {
    const { t, create, sign } = setup();
    const secret = randomBytes(32);
    const key = create(hmacKey(ALG.SHA256), secret);
    const digest = sha256(Buffer.from('data'));
    const sig = sign(key.handle, digest, scheme(ALG.NULL));
    assert.deepEqual(sig, Buffer.concat([u16(ALG.HMAC), u16(ALG.SHA256), createHmac('sha256', secret).update(digest).digest()]));
    assert.equal(rcOf(t.run(verifyCommand(key.handle, digest, sig))), 0);
    const forged = Buffer.from(sig);
    forged[forged.length - 1] = forged[forged.length - 1]! ^ 0x80;
    assert.equal(rcOf(t.run(verifyCommand(key.handle, digest, forged))), RC.SIGNATURE_P2);
  });

  it('a key without sign is TPM_RC_KEY (handle 1) for Sign and TPM_RC_ATTRIBUTES (handle 1) for VerifySignature', () => {
    const { t, create } = setup();
    const storage = create(eccStorageKey());
    const digest = sha256(Buffer.from('x'));
    assert.equal(rcOf(t.run(signCommand(storage.handle, digest, scheme(ALG.ECDSA, ALG.SHA256)))), RC.KEY_H1);
    const sig = Buffer.concat([u16(ALG.ECDSA), u16(ALG.SHA256), tpm2b(Buffer.alloc(32, 1)), tpm2b(Buffer.alloc(32, 1))]);
    assert.equal(rcOf(t.run(verifyCommand(storage.handle, digest, sig))), RC.ATTRIBUTES_H1);
  });

  it('schemes that differ from the key scheme or do not fit the key type are TPM_RC_SCHEME (parameter 2)', () => {
    const { t, create } = setup();
    const key = create(eccKey(OBJ.sign, scheme(ALG.ECDSA, ALG.SHA256)));
    const open = create(eccKey(OBJ.sign, scheme(ALG.NULL)));
    const digest = sha256(Buffer.from('x'));
    for (const [handle, s] of [
      [key.handle, scheme(ALG.ECDSA, ALG.SHA384)], [key.handle, scheme(ALG.RSASSA, ALG.SHA256)], [open.handle, scheme(ALG.RSAPSS, ALG.SHA256)],
      [open.handle, scheme(ALG.HMAC, ALG.SHA256)], [open.handle, scheme(ALG.NULL)],
    ] as const) {
      assert.equal(rcOf(t.run(signCommand(handle, digest, s))), RC.SCHEME_P2);
    }
    // An RSA signature handed to an ECC key.
    const rsaSig = Buffer.concat([u16(ALG.RSASSA), u16(ALG.SHA256), tpm2b(Buffer.alloc(128, 1))]);
    assert.equal(rcOf(t.run(verifyCommand(key.handle, digest, rsaSig))), RC.SCHEME_P2);
  });

  it('a digest of another size than the scheme hash is TPM_RC_SIZE (parameter 1)', () => {
    const { t, create } = setup();
    const key = create(eccKey(OBJ.sign, scheme(ALG.ECDSA, ALG.SHA256)));
    assert.equal(rcOf(t.run(signCommand(key.handle, Buffer.alloc(20, 7), scheme(ALG.NULL)))), RC.SIZE_P1);
    assert.equal(rcOf(t.run(signCommand(key.handle, Buffer.alloc(48, 7), scheme(ALG.NULL)))), RC.SIZE_P1);
  });

  it('a restricted key signs only with a valid hash-check ticket: NULL or wrong tickets are TPM_RC_TICKET (parameter 3)', () => {
    const { t, create, sign } = setup();
    const key = create(eccKey(OBJ.sign | OBJ.restricted, scheme(ALG.ECDSA, ALG.SHA256)));
    const data = Buffer.from('data the TPM hashed');
    const hashed = new Params(t.ok(command(CC.Hash, [], [tpm2b(data), u16(ALG.SHA256), u32(RH.OWNER)])));
    const [digest, tag, hierarchy, ticket] = [hashed.b2(), hashed.u16(), hashed.u32(), hashed.b2()];
    assert.deepEqual([tag, hierarchy], [ST.HASHCHECK, RH.OWNER]);

    assert.equal(rcOf(t.run(signCommand(key.handle, digest, scheme(ALG.NULL)))), RC.TICKET_P3, 'NULL ticket');
    const other = sha256(Buffer.from('another digest'));
    assert.equal(rcOf(t.run(signCommand(key.handle, other, scheme(ALG.NULL), hashCheck(RH.OWNER, ticket)))), RC.TICKET_P3, 'ticket of another digest');
    assert.equal(rcOf(t.run(signCommand(key.handle, digest, scheme(ALG.NULL), hashCheck(RH.ENDORSEMENT, ticket)))), RC.TICKET_P3, 'ticket of another hierarchy');
    const sig = sign(key.handle, digest, scheme(ALG.NULL), hashCheck(RH.OWNER, ticket));
    assert.equal(rcOf(t.run(verifyCommand(key.handle, digest, sig))), 0);
  });

  it('an unrestricted key checks a ticket it is given', () => {
    const { t, create } = setup();
    const key = create(eccKey(OBJ.sign, scheme(ALG.ECDSA, ALG.SHA256)));
    const digest = sha256(Buffer.from('x'));
    assert.equal(rcOf(t.run(signCommand(key.handle, digest, scheme(ALG.NULL), hashCheck(RH.OWNER, Buffer.alloc(64, 3))))), RC.TICKET_P3);
  });
});
