import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { manufacture } from '../../../src/tpm/state/initial-state.js';
import { stateFromJson, stateToJson } from '../../../src/tpm/state/serialize.js';
import type { PersistentState } from '../../../src/tpm/state/tpm-state.js';
import { definePlatformIndex } from '../../../src/tpm/nv/nv-provisioning.js';
import { RH, RC, commands as hc, hierarchyTpm, rcOf } from '../helpers/hierarchy-cmd.js';
import { NVA, NV_RC, nv, readOut, readPublicOut, nvPublic } from '../helpers/nv-cmd.js';

const IDX = 0x01000010;
const RW_OWNER = NVA.OWNERWRITE | NVA.OWNERREAD;
const RW_AUTH = NVA.AUTHWRITE | NVA.AUTHREAD;

describe('NV core: DefineSpace, ReadPublic, Write, Read, UndefineSpace', () => {
  it('defines an index; ReadPublic gives the TPMS_NV_PUBLIC and Name = nameAlg || SHA-256 of it; WRITTEN after a write changes the Name', () => {
    const t = hierarchyTpm();
    t.ok(nv.define(RH.OWNER, { index: IDX, attributes: RW_OWNER, size: 16 }));
    const before = readPublicOut(t.ok(nv.readPublic(IDX)));
    assert.deepEqual(before.nvPublic, nvPublic({ index: IDX, attributes: RW_OWNER, size: 16 }));
    assert.deepEqual(before.name, Buffer.concat([Buffer.from([0, 0x0b]), createHash('sha256').update(before.nvPublic).digest()]));
    t.ok(nv.write(RH.OWNER, IDX, Buffer.from('hello'), 3));
    const after = readPublicOut(t.ok(nv.readPublic(IDX)));
    assert.equal(after.attributes, (RW_OWNER | NVA.WRITTEN) >>> 0);
    assert.notDeepEqual(after.name, before.name);
    assert.deepEqual(readOut(t.ok(nv.read(RH.OWNER, IDX, 5, 3))), Buffer.from('hello'));
  });

  it('read checks: unwritten NV_UNINITIALIZED, past dataSize NV_RANGE, no OWNERREAD NV_AUTHORIZATION', () => {
    const t = hierarchyTpm();
    t.ok(nv.define(RH.OWNER, { index: IDX, attributes: NVA.OWNERWRITE | NVA.AUTHREAD, size: 8 }));
    assert.equal(rcOf(t.run(nv.read(IDX, IDX, 8))), NV_RC.NV_UNINITIALIZED);
    t.ok(nv.write(RH.OWNER, IDX, Buffer.alloc(8, 1)));
    assert.equal(rcOf(t.run(nv.read(RH.OWNER, IDX, 8))), NV_RC.NV_AUTHORIZATION);
    assert.equal(rcOf(t.run(nv.read(IDX, IDX, 8, 1))), NV_RC.NV_RANGE);
    assert.deepEqual(readOut(t.ok(nv.read(IDX, IDX, 8))), Buffer.alloc(8, 1));
  });

  it('write checks: past dataSize NV_RANGE, offset > dataSize VALUE+P2, WRITEALL partial NV_RANGE, authValue without AUTHWRITE AUTH_UNAVAILABLE', () => {
    const t = hierarchyTpm();
    t.ok(nv.define(RH.OWNER, { index: IDX, attributes: NVA.OWNERWRITE | NVA.AUTHREAD | NVA.WRITEALL, size: 8 }));
    assert.equal(rcOf(t.run(nv.write(RH.OWNER, IDX, Buffer.alloc(9)))), NV_RC.NV_RANGE);
    assert.equal(rcOf(t.run(nv.write(RH.OWNER, IDX, Buffer.alloc(2), 9))), RC.VALUE + RC.P2);
    assert.equal(rcOf(t.run(nv.write(RH.OWNER, IDX, Buffer.alloc(4), 6))), NV_RC.NV_RANGE);
    assert.equal(rcOf(t.run(nv.write(RH.OWNER, IDX, Buffer.alloc(4)))), NV_RC.NV_RANGE);
    assert.equal(rcOf(t.run(nv.write(IDX, IDX, Buffer.alloc(8)))), NV_RC.AUTH_UNAVAILABLE);
  });

  it('the index authValue authorizes AUTHWRITE/AUTHREAD; a wrong one is AUTH_FAIL, or BAD_AUTH with NO_DA', () => {
    const t = hierarchyTpm();
    const pw = Buffer.from('secret');
    t.ok(nv.define(RH.OWNER, { index: IDX, attributes: RW_AUTH, size: 4 }, pw));
    t.ok(nv.write(IDX, IDX, Buffer.from('abcd'), 0, pw));
    assert.deepEqual(readOut(t.ok(nv.read(IDX, IDX, 4, 0, pw))), Buffer.from('abcd'));
    assert.equal(rcOf(t.run(nv.read(IDX, IDX, 4, 0, Buffer.from('x')))), RC.AUTH_FAIL + RC.S1);
    t.ok(nv.define(RH.OWNER, { index: IDX + 1, attributes: RW_AUTH | NVA.NO_DA, size: 4 }, pw));
    assert.equal(rcOf(t.run(nv.write(IDX + 1, IDX + 1, Buffer.from('abcd'), 0, Buffer.from('x')))), RC.BAD_AUTH + RC.S1);
  });

  it('DefineSpace rules: duplicate NV_DEFINED, WRITTEN set ATTRIBUTES+P2, PLATFORMCREATE by owner ATTRIBUTES+H1, counter size SIZE+P2, no read bit', () => {
    const t = hierarchyTpm();
    t.ok(nv.define(RH.OWNER, { index: IDX, attributes: RW_OWNER, size: 8 }));
    assert.equal(rcOf(t.run(nv.define(RH.OWNER, { index: IDX, attributes: RW_OWNER, size: 8 }))), NV_RC.NV_DEFINED);
    assert.equal(rcOf(t.run(nv.define(RH.OWNER, { index: IDX + 1, attributes: RW_OWNER | NVA.WRITTEN, size: 8 }))), RC.ATTRIBUTES + RC.P2);
    assert.equal(rcOf(t.run(nv.define(RH.OWNER, { index: IDX + 1, attributes: RW_OWNER | NVA.PLATFORMCREATE, size: 8 }))), RC.ATTRIBUTES + RC.H1);
    assert.equal(rcOf(t.run(nv.define(RH.PLATFORM, { index: IDX + 1, attributes: RW_OWNER, size: 8 }))), RC.ATTRIBUTES + RC.H1);
    assert.equal(rcOf(t.run(nv.define(RH.OWNER, { index: IDX + 1, attributes: RW_OWNER | NVA.COUNTER, size: 4 }))), RC.SIZE + RC.P2);
    assert.equal(rcOf(t.run(nv.define(RH.OWNER, { index: IDX + 1, attributes: NVA.OWNERWRITE, size: 4 }))), RC.ATTRIBUTES + RC.P2);
    assert.equal(rcOf(t.run(nv.define(RH.OWNER, { index: 0x81000001, attributes: RW_OWNER, size: 4 }))), RC.VALUE + RC.P2);
  });

  it('UndefineSpace: owner may not delete a PLATFORMCREATE index (NV_AUTHORIZATION), platform may; absent handle is HANDLE+H2', () => {
    const t = hierarchyTpm();
    t.ok(nv.define(RH.PLATFORM, { index: IDX, attributes: RW_OWNER | NVA.PLATFORMCREATE, size: 8 }));
    assert.equal(rcOf(t.run(nv.undefine(RH.OWNER, IDX))), NV_RC.NV_AUTHORIZATION);
    t.ok(nv.undefine(RH.PLATFORM, IDX));
    assert.equal(rcOf(t.run(nv.undefine(RH.PLATFORM, IDX))), RC.HANDLE + RC.H2);
    assert.equal(rcOf(t.run(nv.readPublic(IDX))), RC.HANDLE + RC.H1);
  });

  it('an owner index is out of reach (HANDLE) while shEnable is clear', () => {
    const t = hierarchyTpm();
    t.ok(nv.define(RH.OWNER, { index: IDX, attributes: RW_OWNER | NVA.PPREAD, size: 8 }));
    t.ok(hc.hierarchyControl(RH.PLATFORM, RH.OWNER, false));
    assert.equal(rcOf(t.run(nv.readPublic(IDX))), RC.HANDLE + RC.H1);
  });

  it('persists: data written survives a serialize round trip and a new TPM', () => {
    let saved = '';
    const t = hierarchyTpm(manufacture(), (s) => { saved = stateToJson(s); });
    t.ok(nv.define(RH.OWNER, { index: IDX, attributes: RW_OWNER, size: 4 }));
    t.ok(nv.write(RH.OWNER, IDX, Buffer.from('keep')));
    const t2 = hierarchyTpm(stateFromJson<PersistentState>(saved));
    assert.deepEqual(readOut(t2.ok(nv.read(RH.OWNER, IDX, 4))), Buffer.from('keep'));
  });

  it('definePlatformIndex provisions a written PLATFORMCREATE index readable by owner', () => {
    const p = manufacture();
    definePlatformIndex(p, 0x01c00002, NVA.PPWRITE | NVA.PPREAD | NVA.OWNERREAD | NVA.NO_DA, Buffer.from('cert'));
    const t = hierarchyTpm(p);
    const pub = readPublicOut(t.ok(nv.readPublic(0x01c00002)));
    assert.equal(pub.attributes & (NVA.WRITTEN | NVA.PLATFORMCREATE), (NVA.WRITTEN | NVA.PLATFORMCREATE) >>> 0);
    assert.deepEqual(readOut(t.ok(nv.read(RH.OWNER, 0x01c00002, 4))), Buffer.from('cert'));
  });
});
