/** NV_Certify (Part 3 §31.16) through Tpm.execute: TPMS_NV_CERTIFY_INFO / TPMS_NV_DIGEST_CERTIFY_INFO decoded, signatures checked by node:crypto, error numbers. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { hierarchyTpm, rcOf } from '../helpers/hierarchy-cmd.js';
import { NVA, NV_CC, NV_RC, nv, readPublicOut } from '../helpers/nv-cmd.js';
import { ALG, OBJ, RH, createPrimaryCommand, eccKey, eccStorageKey, parseCreatePrimary, rsaKey, scheme, type Template } from '../helpers/key-cmd.js';
import { command, pwAuth, u16 } from '../helpers/tpm-wire.js';
import { ATTEST_ST, TPM_GENERATED, attestResponse, nvCertifyCommand, primaryQualifiedName, verifiesAttest } from '../helpers/attest-cmd.js';

const IDX = 0x01000020;
const RC = { KEY_H1: 0x19c, SCHEME_P2: 0x2d2, VALUE_P3: 0x3c4, AUTH_UNAVAILABLE: 0x12f };

function setup(attributes = NVA.OWNERWRITE | NVA.OWNERREAD | NVA.AUTHREAD, size = 32) {
  const t = hierarchyTpm();
  const key = (template: Template) => parseCreatePrimary(template, t.ok(createPrimaryCommand(template)));
  t.ok(nv.define(RH.OWNER, { index: IDX, attributes, size }, Buffer.from('nvpw')));
  const name = (): Buffer => readPublicOut(t.ok(nv.readPublic(IDX))).name;
  return { t, key, name };
}

describe('NV_Certify (engine)', () => {
  it('certifies a range: TPM_ST_ATTEST_NV with indexName, offset and the octets, ECDSA signature verified', () => {
    const { t, key, name } = setup();
    const data = randomBytes(32);
    t.ok(nv.write(RH.OWNER, IDX, data));
    const ak = key(eccKey(OBJ.sign, scheme(ALG.ECDSA, ALG.SHA256)));
    const qualifying = randomBytes(16);
    const { attest, info, signature } = attestResponse(t.ok(nvCertifyCommand(ak.handle, RH.OWNER, IDX, { qualifying, size: 7, offset: 5 })));
    assert.deepEqual([info.magic, info.type], [TPM_GENERATED, ATTEST_ST.NV]);
    assert.deepEqual(info.qualifiedSigner, primaryQualifiedName(RH.OWNER, ak.name));
    assert.deepEqual(info.extraData, qualifying);
    const p = info.attested;
    assert.deepEqual([p.b2(), p.u16(), p.b2()], [name(), 5, data.subarray(5, 12)]);
    assert.ok(verifiesAttest(ak, attest, signature));
    const tampered = Buffer.from(attest);
    tampered[tampered.length - 1]! ^= 1;
    assert.ok(!verifiesAttest(ak, tampered, signature));
  });

  it('size 0 and offset 0 certify a digest of the whole index (TPM_ST_ATTEST_NV_DIGEST, in the scheme hash); the index may authorize with its authValue', () => {
    const { t, key, name } = setup();
    const data = randomBytes(32);
    t.ok(nv.write(RH.OWNER, IDX, data));
    const ak = key(rsaKey(OBJ.sign, scheme(ALG.NULL), 2048));
    const r = t.ok(nvCertifyCommand(ak.handle, IDX, IDX, { inScheme: scheme(ALG.RSASSA, ALG.SHA256), size: 0, offset: 0, authAuth: Buffer.from('nvpw') }));
    const { attest, info, signature } = attestResponse(r);
    assert.equal(info.type, ATTEST_ST.NV_DIGEST);
    const p = info.attested;
    assert.deepEqual([p.b2(), p.b2()], [name(), createHash('sha256').update(data).digest()]);
    assert.ok(verifiesAttest(ak, attest, signature));
  });

  it('TPM_RH_NULL signs nothing: TPM_ALG_NULL signature, and an empty digest', () => {
    const { t, name } = setup();
    t.ok(nv.write(RH.OWNER, IDX, Buffer.alloc(32, 7)));
    const { info, signature } = attestResponse(t.ok(nvCertifyCommand(RH.NULL, RH.OWNER, IDX, { size: 0, offset: 0 })));
    assert.deepEqual(signature, u16(ALG.NULL));
    assert.deepEqual(info.qualifiedSigner, Buffer.from([0x40, 0, 0, 7]));
    assert.deepEqual([info.attested.b2(), info.attested.b2()], [name(), Buffer.alloc(0)]);
  });

  it('a key that cannot sign is KEY+H1, a scheme it cannot use SCHEME+P2, before any NV check', () => {
    const { t, key } = setup();
    const storage = key(eccStorageKey());
    assert.equal(rcOf(t.run(nvCertifyCommand(storage.handle, RH.OWNER, IDX, { size: 1, offset: 0 }))), RC.KEY_H1);
    const ak = key(eccKey(OBJ.sign, scheme(ALG.ECDSA, ALG.SHA256)));
    assert.equal(rcOf(t.run(nvCertifyCommand(ak.handle, RH.OWNER, IDX, { inScheme: scheme(ALG.RSASSA, ALG.SHA256), size: 1, offset: 0 }))), RC.SCHEME_P2);
  });

  it('read access: unwritten NV_UNINITIALIZED, wrong authorizer NV_AUTHORIZATION, past dataSize NV_RANGE, over the buffer VALUE+P3, read-locked NV_LOCKED', () => {
    const { t } = setup(NVA.OWNERWRITE | NVA.AUTHREAD | NVA.READ_STCLEAR, 2048);
    const certify = (auth: number, size: number, offset: number): number =>
      rcOf(t.run(nvCertifyCommand(RH.NULL, auth, IDX, { size, offset, authAuth: auth === IDX ? Buffer.from('nvpw') : undefined })));
    assert.equal(certify(IDX, 8, 0), NV_RC.NV_UNINITIALIZED);
    t.ok(nv.write(RH.OWNER, IDX, Buffer.alloc(1024, 1)));
    t.ok(nv.write(RH.OWNER, IDX, Buffer.alloc(1024, 2), 1024));
    assert.equal(certify(RH.OWNER, 8, 0), NV_RC.NV_AUTHORIZATION);
    assert.equal(certify(IDX, 8, 2041), NV_RC.NV_RANGE);
    assert.equal(certify(IDX, 1025, 0), RC.VALUE_P3);
    assert.equal(certify(IDX, 1024, 1024), 0);
    t.ok(command(NV_CC.ReadLock, [IDX, IDX], [], [pwAuth(Buffer.from('nvpw'))]));
    assert.equal(certify(IDX, 8, 0), NV_RC.NV_LOCKED);
  });
});
