/**
 * The object, duplication, symmetric and HMAC commands of stage 3 through raw command bytes:
 * results checked against node:crypto, and the response codes (with their handle / parameter
 * numbers) of Part 3 §12, §13, §15, §17.2.2 and §23.11.
 */
import assert from 'node:assert/strict';
import { createCipheriv, createHash, createHmac } from 'node:crypto';
import { startedTpm, hex, type Response } from '../helpers/session-cmd.js';
import { command, pwAuth, tpm2b, u8, u16, u32 } from '../helpers/tpm-wire.js';
import { TALG as A, OBJ, OCC, TEMPLATES, createLoaded, ownerPrimary, ok, policyAuth, publicArea, Fields } from '../helpers/object-cmd.js';

const RH = { OWNER: 0x40000001, NULL: 0x40000007 } as const;
const EMPTY = Buffer.alloc(0);

function setup() {
  const { run } = startedTpm();
  const parent = ok(run(ownerPrimary(TEMPLATES.storage)), true).handle;
  const make = (template: Buffer, userAuth?: Buffer, data?: Buffer) => {
    const { handle, fields } = ok(run(createLoaded(parent, template, userAuth, data)), true);
    return { handle, outPrivate: fields.tpm2b(), outPublic: fields.tpm2b(), name: fields.tpm2b() };
  };
  return { run, parent, make };
}

const expectRc = (r: Response, rc: number, what: string): void => assert.equal(hex(r.rc), hex(rc), what);

/** A policy session after PolicyCommandCode(code); its digest, from a fresh trial-free computation. */
function policySession(run: (c: Buffer) => Response, code: number): number {
  const r = run(command(0x176, [RH.NULL, RH.NULL], [tpm2b(Buffer.alloc(32, 1)), tpm2b(EMPTY), u8(1), u16(A.NULL), u16(A.SHA256)]));
  const h = r.body.readUInt32BE(0);
  expectRc(run(command(OCC.PolicyCommandCode, [h], [u32(code)])), 0, 'PolicyCommandCode');
  return h;
}
const ccPolicy = (code: number): Buffer =>
  createHash('sha256').update(Buffer.alloc(32)).update(u32(OCC.PolicyCommandCode)).update(u32(code)).digest();

describe('object commands (engine)', () => {
  it('CreateLoaded: under a hierarchy it is CreatePrimary with an empty private; under a key Load takes its private', () => {
    const { run, parent, make } = setup();
    const primary = ok(run(createLoaded(RH.OWNER, TEMPLATES.storage)), true).fields;
    assert.equal(primary.tpm2b().length, 0, 'outPrivate of a primary');
    primary.tpm2b();
    const again = ok(run(ownerPrimary(TEMPLATES.storage)), true);
    const createPrimaryName = (() => { const f = again.fields; f.tpm2b(); f.tpm2b(); f.tpm2b(); f.u16(); f.u32(); f.tpm2b(); return f.tpm2b(); })();
    assert.deepEqual(primary.tpm2b(), createPrimaryName, 'same template, same seed: same primary');
    const child = make(TEMPLATES.sealed(), EMPTY, Buffer.from('abc'));
    const loaded = ok(run(command(OCC.Load, [parent], [tpm2b(child.outPrivate), tpm2b(child.outPublic)], [pwAuth()])), true);
    assert.deepEqual(loaded.fields.tpm2b(), child.name);
  });

  it('Unseal gives a sealed object\'s data; other keyed-hash objects are TPM_RC_ATTRIBUTES, other types TPM_RC_TYPE', () => {
    const { run, make } = setup();
    const sealed = make(TEMPLATES.sealed(), Buffer.from('pw'), Buffer.from('sealed data'));
    assert.deepEqual(ok(run(command(OCC.Unseal, [sealed.handle], [], [pwAuth(Buffer.from('pw'))]))).fields.tpm2b(), Buffer.from('sealed data'));
    expectRc(run(command(OCC.Unseal, [sealed.handle], [], [pwAuth(Buffer.from('px'))])), 0x98e, 'wrong password');
    expectRc(run(command(OCC.Unseal, [make(TEMPLATES.hmac).handle], [], [pwAuth()])), 0x182, 'HMAC key: ATTRIBUTES on handle 1');
    expectRc(run(command(OCC.Unseal, [make(TEMPLATES.aes(A.CFB)).handle], [], [pwAuth()])), 0x18a, 'AES key: TYPE on handle 1');
  });

  it('ObjectChangeAuth: a private with the new authValue; too long is TPM_RC_SIZE, a wrong parent TPM_RC_TYPE', () => {
    const { run, parent, make } = setup();
    const sealed = make(TEMPLATES.sealed(), Buffer.from('old'), Buffer.from('x'));
    const change = (newAuth: Buffer, p = parent) => run(command(OCC.ObjectChangeAuth, [sealed.handle, p], [tpm2b(newAuth)], [pwAuth(Buffer.from('old'))]));
    expectRc(change(Buffer.alloc(33, 1)), 0x1d5, 'newAuth longer than SHA-256: SIZE on parameter 1');
    expectRc(change(Buffer.from('new'), make(TEMPLATES.storage).handle), 0x28a, 'not its parent: TYPE on handle 2');
    const outPrivate = ok(change(Buffer.from('new'))).fields.tpm2b();
    const reloaded = ok(run(command(OCC.Load, [parent], [tpm2b(outPrivate), tpm2b(sealed.outPublic)], [pwAuth()])), true).handle;
    expectRc(run(command(OCC.Unseal, [reloaded], [], [pwAuth(Buffer.from('old'))])), 0x98e, 'old password');
    assert.deepEqual(ok(run(command(OCC.Unseal, [reloaded], [], [pwAuth(Buffer.from('new'))]))).fields.tpm2b(), Buffer.from('x'));
  });

  it('EncryptDecrypt / EncryptDecrypt2 equal node\'s AES with the chaining value as ivOut; mode, IV and size errors', () => {
    const { run, make } = setup();
    const key = Buffer.alloc(16, 7);
    const imported = (mode: number) => make(publicArea(A.SYMCIPHER, OBJ.fixedTPM | OBJ.fixedParent | OBJ.userWithAuth | OBJ.decrypt | OBJ.sign,
      Buffer.concat([u16(A.AES), u16(128), u16(mode)]), tpm2b(EMPTY)), EMPTY, key).handle;
    const cbc = imported(A.CBC);
    const iv = Buffer.alloc(16, 9);
    const data = Buffer.alloc(64, 3);
    const ed = (h: number, decrypt: number, mode: number, ivIn: Buffer, inData: Buffer) =>
      run(command(OCC.EncryptDecrypt, [h], [u8(decrypt), u16(mode), tpm2b(ivIn), tpm2b(inData)], [pwAuth()]));
    const ed2 = (h: number, decrypt: number, mode: number, ivIn: Buffer, inData: Buffer) =>
      run(command(OCC.EncryptDecrypt2, [h], [tpm2b(inData), u8(decrypt), u16(mode), tpm2b(ivIn)], [pwAuth()]));
    const out = ok(ed(cbc, 0, A.NULL, iv, data)).fields;
    const expected = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false).update(data);
    assert.deepEqual(out.tpm2b(), expected);
    assert.deepEqual(out.tpm2b(), expected.subarray(48), 'CBC ivOut: the last ciphertext block');
    assert.deepEqual(ok(ed2(cbc, 1, A.CBC, iv, expected)).fields.tpm2b(), data, 'EncryptDecrypt2 decrypts');
    expectRc(ed(cbc, 0, A.CFB, iv, data), 0x2c9, 'key mode CBC, CFB asked: MODE on parameter 2');
    expectRc(ed2(cbc, 0, A.CFB, iv, data), 0x3c9, 'EncryptDecrypt2: MODE on parameter 3');
    expectRc(ed(cbc, 0, A.NULL, iv.subarray(0, 8), data), 0x3d5, 'short IV: SIZE on parameter 3');
    expectRc(ed(cbc, 0, A.NULL, iv, data.subarray(0, 20)), 0x4d5, 'CBC, partial block: SIZE on parameter 4');
    expectRc(ed2(cbc, 0, A.NULL, iv, data.subarray(0, 20)), 0x1d5, 'EncryptDecrypt2: SIZE on parameter 1');
    const free = imported(A.NULL);
    expectRc(ed(free, 0, A.NULL, iv, data), 0x2c9, 'no mode anywhere: MODE on parameter 2');
    // CTR: the counter after the blocks used; OFB: the last keystream block.
    const part = Buffer.alloc(20, 5);
    const ctr = ok(ed(free, 0, A.CTR, iv, part)).fields;
    assert.deepEqual(ctr.tpm2b(), createCipheriv('aes-128-ctr', key, iv).update(part));
    const counter = Buffer.from(iv);
    counter[15] = counter[15]! + 2;
    assert.deepEqual(ctr.tpm2b(), counter);
    const ofb = ok(ed(free, 0, A.OFB, iv, part)).fields;
    ofb.tpm2b();
    assert.deepEqual(ofb.tpm2b(), createCipheriv('aes-128-ofb', key, iv).update(Buffer.alloc(32)).subarray(16));
    // CFB, partial block: its ciphertext bytes, then the rest of E(previous IV).
    const cfb = ok(ed(free, 0, A.CFB, iv, part)).fields;
    const c = cfb.tpm2b();
    const e = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false).update(c.subarray(0, 16));
    assert.deepEqual(cfb.tpm2b(), Buffer.concat([c.subarray(16), e.subarray(4)]));
    expectRc(ed(make(TEMPLATES.hmac).handle, 0, A.NULL, iv, data), 0x19c, 'not a symmetric key: KEY on handle 1');
  });

  it('HMAC and HMAC_Start sequences equal node\'s HMAC; a hash other than the key\'s is TPM_RC_VALUE', () => {
    const { run, make } = setup();
    const key = Buffer.from('0123456789abcdef0123456789abcdef');
    const hmacKey = make(publicArea(A.KEYEDHASH, OBJ.fixedTPM | OBJ.fixedParent | OBJ.userWithAuth | OBJ.sign,
      Buffer.concat([u16(A.HMAC), u16(A.SHA256)]), tpm2b(EMPTY)), EMPTY, key).handle;
    const msg = Buffer.from('message');
    const mac = (alg: number) => run(command(OCC.HMAC, [hmacKey], [tpm2b(msg), u16(alg)], [pwAuth()]));
    assert.deepEqual(ok(mac(A.NULL)).fields.tpm2b(), createHmac('sha256', key).update(msg).digest());
    expectRc(mac(A.SHA384), 0x2c4, 'VALUE on parameter 2');
    expectRc(run(command(OCC.HMAC, [make(TEMPLATES.sealed(), EMPTY, msg).handle], [tpm2b(msg), u16(A.NULL)], [pwAuth()])), 0x19c, 'no sign attribute: KEY on handle 1');
    // As libtpms (checked against swtpm): a sequence's auth is bounded by TPM2B_AUTH only, not by the key's digest.
    expectRc(run(command(OCC.HMAC_Start, [hmacKey], [tpm2b(Buffer.alloc(33, 1)), u16(A.NULL)], [pwAuth()])), 0, 'auth longer than SHA-256 accepted');
    const seq = ok(run(command(OCC.HMAC_Start, [hmacKey], [tpm2b(Buffer.from('sa')), u16(A.SHA256)], [pwAuth()])), true).handle;
    const big = Buffer.alloc(1000, 0x41);
    expectRc(run(command(OCC.SequenceUpdate, [seq], [tpm2b(big)], [pwAuth(Buffer.from('sa'))])), 0, 'SequenceUpdate');
    const done = ok(run(command(OCC.SequenceComplete, [seq], [tpm2b(msg), u32(RH.OWNER)], [pwAuth(Buffer.from('sa'))]))).fields;
    assert.deepEqual(done.tpm2b(), createHmac('sha256', key).update(big).update(msg).digest());
    assert.deepEqual([done.u16(), done.u32(), done.tpm2b().length], [0x8024, RH.NULL, 0], 'the NULL ticket');
  });

  it('LoadExternal: sensitive parts only in the NULL hierarchy and without fixedTPM/fixedParent; bound or TPM_RC_BINDING', () => {
    const { run } = setup();
    const secret = Buffer.from('external secret');
    const seed = Buffer.alloc(32, 4);
    const unique = createHash('sha256').update(seed).update(secret).digest();
    const pub = (attrs: number, u = unique) => publicArea(A.KEYEDHASH, attrs, u16(A.NULL), tpm2b(u));
    const sensitive = tpm2b(Buffer.concat([u16(A.KEYEDHASH), tpm2b(EMPTY), tpm2b(seed), tpm2b(secret)]));
    const load = (priv: Buffer, p: Buffer, h: number) => run(command(OCC.LoadExternal, [], [priv, tpm2b(p), u32(h)]));
    expectRc(load(sensitive, pub(OBJ.userWithAuth), RH.OWNER), 0x3c5, 'HIERARCHY on parameter 3');
    expectRc(load(sensitive, pub(OBJ.userWithAuth | OBJ.fixedParent), RH.NULL), 0x2c2, 'ATTRIBUTES on parameter 2');
    expectRc(load(sensitive, pub(OBJ.userWithAuth, Buffer.alloc(32)), RH.NULL), 0x2e5, 'BINDING on parameter 2');
    const r = load(sensitive, pub(OBJ.userWithAuth), RH.NULL);
    expectRc(r, 0, 'bound');
    const h = r.body.readUInt32BE(0);
    assert.deepEqual(ok(run(command(OCC.Unseal, [h], [], [pwAuth()]))).fields.tpm2b(), secret);
    expectRc(load(u16(0), pub(OBJ.userWithAuth | OBJ.fixedTPM | OBJ.fixedParent), RH.OWNER), 0, 'public only: any attributes, any hierarchy');
  });

  it('PolicyCommandCode extends H(digest || TPM_CC_PolicyCommandCode || code); a second code or an unimplemented one fails', () => {
    const { run } = setup();
    const h = policySession(run, OCC.Duplicate);
    const d = run(command(0x189, [h], []));
    assert.deepEqual(d.body.subarray(2), ccPolicy(OCC.Duplicate));
    expectRc(run(command(OCC.PolicyCommandCode, [h], [u32(OCC.Unseal)])), 0x1c4, 'VALUE on parameter 1');
    const other = policySession(run, OCC.Unseal);
    run(command(0x180, [other], []));
    expectRc(run(command(OCC.PolicyCommandCode, [other], [u32(0x12f)])), 0x1e4, 'FieldUpgradeStart is not implemented: POLICY_CC');
  });

  it('PolicyAuthValue and PolicyPassword both extend with TPM_CC_PolicyAuthValue', () => {
    const { run } = setup();
    const expected = createHash('sha256').update(Buffer.alloc(32)).update(u32(0x16b)).digest();
    assert.equal(expected.toString('hex'), '8fcd2169ab92694e0c633f1ab772842b8241bbc20288981fc7ac1eddc1fddb0e', 'the digest tpm2-tools documents');
    for (const cc of [0x16b, 0x18c]) {
      const h = policySession(run, OCC.Unseal);
      run(command(0x180, [h], []));
      expectRc(run(command(cc, [h], [])), 0, hex(cc));
      assert.deepEqual(run(command(0x189, [h], [])).body.subarray(2), expected, hex(cc));
    }
  });

  it('Duplicate needs a policy; with NULL wraps the duplicate is the sensitive area; Import checks sizes, attributes and integrity', () => {
    const { run, parent, make } = setup();
    const attrs = OBJ.userWithAuth;
    const obj = make(TEMPLATES.sealed(attrs, ccPolicy(OCC.Duplicate)), Buffer.from('pw'), Buffer.from('dup data'));
    const dup = (auth: Buffer, newParent: number, keyIn: Buffer, sym: Buffer) =>
      run(command(OCC.Duplicate, [obj.handle, newParent], [tpm2b(keyIn), sym], [auth]));
    expectRc(dup(pwAuth(Buffer.from('pw')), RH.NULL, EMPTY, u16(A.NULL)), 0x12f, 'DUP role: AUTH_UNAVAILABLE for a password');
    const plain = ok(dup(policyAuth(policySession(run, OCC.Duplicate)), RH.NULL, EMPTY, u16(A.NULL))).fields;
    assert.equal(plain.tpm2b().length, 0, 'no encryptionKeyOut');
    const sens = new Fields(plain.tpm2b());
    const body = new Fields(sens.tpm2b());
    assert.deepEqual([body.u16(), body.tpm2b(), body.tpm2b().length, body.tpm2b()], [A.KEYEDHASH, Buffer.from('pw'), 32, Buffer.from('dup data')]);
    const aes = Buffer.concat([u16(A.AES), u16(128), u16(A.CFB)]);
    expectRc(dup(policyAuth(policySession(run, OCC.Duplicate)), RH.NULL, Buffer.alloc(8), aes), 0x1d5, 'inner key of the wrong size: SIZE on parameter 1');
    const wrapped = ok(dup(policyAuth(policySession(run, OCC.Duplicate)), parent, EMPTY, aes)).fields;
    const innerKey = wrapped.tpm2b();
    const blob = wrapped.tpm2b();
    const seed = wrapped.tpm2b();
    assert.equal(innerKey.length, 16, 'a TPM-made inner key');
    const imp = (keyIn: Buffer, pub: Buffer, priv: Buffer, sym: Buffer) =>
      run(command(OCC.Import, [parent], [tpm2b(keyIn), tpm2b(pub), tpm2b(priv), tpm2b(seed), sym], [pwAuth()]));
    expectRc(imp(innerKey, obj.outPublic, blob, u16(A.NULL)), 0x1d5, 'a key without an algorithm: SIZE on parameter 1');
    const fixedPub = TEMPLATES.sealed(attrs | OBJ.fixedTPM | OBJ.fixedParent, ccPolicy(OCC.Duplicate));
    expectRc(imp(innerKey, fixedPub, blob, aes), 0x2c2, 'fixedTPM object: ATTRIBUTES on parameter 2');
    const tampered = Buffer.from(blob);
    tampered[tampered.length - 1]! ^= 1;
    expectRc(imp(innerKey, obj.outPublic, tampered, aes), 0x3df, 'INTEGRITY on parameter 3');
    const outPrivate = ok(imp(innerKey, obj.outPublic, blob, aes)).fields.tpm2b();
    const loaded = ok(run(command(OCC.Load, [parent], [tpm2b(outPrivate), tpm2b(obj.outPublic)], [pwAuth()])), true).handle;
    assert.deepEqual(ok(run(command(OCC.Unseal, [loaded], [], [pwAuth(Buffer.from('pw'))]))).fields.tpm2b(), Buffer.from('dup data'));
  });

  it('Rewrap moves an outer wrap from one parent to another; a seed without a parent is TPM_RC_HANDLE', () => {
    const { run, parent, make } = setup();
    const obj = make(TEMPLATES.sealed(OBJ.userWithAuth, ccPolicy(OCC.Duplicate)), EMPTY, Buffer.from('moved'));
    const other = make(TEMPLATES.storage).handle;
    const d = ok(run(command(OCC.Duplicate, [obj.handle, parent], [tpm2b(EMPTY), u16(A.NULL)], [policyAuth(policySession(run, OCC.Duplicate))]))).fields;
    d.tpm2b();
    const blob = d.tpm2b();
    const seed = d.tpm2b();
    const rewrap = (oldP: number, newP: number, s: Buffer) =>
      run(command(0x152, [oldP, newP], [tpm2b(blob), tpm2b(obj.name), tpm2b(s)], [pwAuth()]));
    expectRc(rewrap(RH.NULL, other, seed), 0x18b, 'a seed without an old parent: HANDLE on handle 1');
    const moved = ok(rewrap(parent, other, seed)).fields;
    const movedBlob = moved.tpm2b();
    const movedSeed = moved.tpm2b();
    const imp = (p: number, b: Buffer, s: Buffer) =>
      run(command(OCC.Import, [p], [tpm2b(EMPTY), tpm2b(obj.outPublic), tpm2b(b), tpm2b(s), u16(A.NULL)], [pwAuth()]));
    // ECC: the old parent derives some other seed from the point, so the outer HMAC fails.
    expectRc(imp(parent, movedBlob, movedSeed), 0x3df, 'under the old parent: INTEGRITY on parameter 3');
    const outPrivate = ok(imp(other, movedBlob, movedSeed)).fields.tpm2b();
    const loaded = ok(run(command(OCC.Load, [other], [tpm2b(outPrivate), tpm2b(obj.outPublic)], [pwAuth()])), true).handle;
    assert.deepEqual(ok(run(command(OCC.Unseal, [loaded], [], [pwAuth()]))).fields.tpm2b(), Buffer.from('moved'));
  });
});
