import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { RH, RC, commands as hc, hierarchyTpm, rcOf } from '../helpers/hierarchy-cmd.js';
import { CAP, getCap, parseCap } from '../helpers/capability-cmd.js';
import { NVA, NV_RC, nv, readOut, readPublicOut } from '../helpers/nv-cmd.js';

const IDX = 0x01000020;
const OWNER_RW = NVA.OWNERWRITE | NVA.OWNERREAD;
const SU = { CLEAR: 0, STATE: 1 };

/** Orderly shutdown of `su` type, _TPM_Init, Startup of the same type. */
function cycle(t: ReturnType<typeof hierarchyTpm>, su: number): void {
  t.ok(hc.shutdown(su));
  t.tpm.init();
  t.ok(hc.startup(su));
}

describe('NV index types, locks and Startup', () => {
  it('counter: first Increment starts from the highest counter value ever (Part 1 §37.2.3); NV_Write is ATTRIBUTES', () => {
    const t = hierarchyTpm();
    t.ok(nv.define(RH.OWNER, { index: IDX, attributes: OWNER_RW | NVA.COUNTER, size: 8 }));
    for (let i = 0; i < 3; i++) t.ok(nv.increment(RH.OWNER, IDX));
    assert.equal(readOut(t.ok(nv.read(RH.OWNER, IDX, 8))).readBigUInt64BE(), 3n);
    assert.equal(rcOf(t.run(nv.write(RH.OWNER, IDX, Buffer.alloc(8)))), RC.ATTRIBUTES);
    t.ok(nv.undefine(RH.OWNER, IDX));
    t.ok(nv.define(RH.OWNER, { index: IDX + 1, attributes: OWNER_RW | NVA.COUNTER, size: 8 }));
    assert.equal(rcOf(t.run(nv.read(RH.OWNER, IDX + 1, 8))), NV_RC.NV_UNINITIALIZED);
    t.ok(nv.increment(RH.OWNER, IDX + 1));
    assert.equal(readOut(t.ok(nv.read(RH.OWNER, IDX + 1, 8))).readBigUInt64BE(), 4n);
    assert.equal(rcOf(t.run(nv.setBits(RH.OWNER, IDX + 1, 1n))), RC.ATTRIBUTES + RC.H2);
  });

  it('bits ORs; extend hashes old digest || data with nameAlg', () => {
    const t = hierarchyTpm();
    t.ok(nv.define(RH.OWNER, { index: IDX, attributes: OWNER_RW | NVA.BITS, size: 8 }));
    t.ok(nv.setBits(RH.OWNER, IDX, 0x5n));
    t.ok(nv.setBits(RH.OWNER, IDX, 0x100n));
    assert.equal(readOut(t.ok(nv.read(RH.OWNER, IDX, 8))).readBigUInt64BE(), 0x105n);
    t.ok(nv.define(RH.OWNER, { index: IDX + 1, attributes: OWNER_RW | NVA.EXTEND, size: 32 }));
    t.ok(nv.extend(RH.OWNER, IDX + 1, Buffer.from('abc')));
    const expected = createHash('sha256').update(Buffer.alloc(32)).update('abc').digest();
    assert.deepEqual(readOut(t.ok(nv.read(RH.OWNER, IDX + 1, 32))), expected);
    assert.equal(rcOf(t.run(nv.define(RH.OWNER, { index: IDX + 2, attributes: OWNER_RW | NVA.EXTEND, size: 20 }))), RC.SIZE + RC.P2);
  });

  it('WRITE_STCLEAR lock: kept by Resume, cleared by Restart; WRITEDEFINE lock of a written index survives both', () => {
    const t = hierarchyTpm();
    t.ok(nv.define(RH.OWNER, { index: IDX, attributes: OWNER_RW | NVA.WRITE_STCLEAR, size: 4 }));
    t.ok(nv.define(RH.OWNER, { index: IDX + 1, attributes: OWNER_RW | NVA.WRITEDEFINE, size: 4 }));
    t.ok(nv.write(RH.OWNER, IDX + 1, Buffer.from('once')));
    assert.equal(rcOf(t.run(nv.writeLock(RH.OWNER, IDX + 2))), RC.HANDLE + RC.H2);
    t.ok(nv.writeLock(RH.OWNER, IDX));
    t.ok(nv.writeLock(RH.OWNER, IDX));
    t.ok(nv.writeLock(RH.OWNER, IDX + 1));
    assert.equal(rcOf(t.run(nv.write(RH.OWNER, IDX, Buffer.from('x')))), NV_RC.NV_LOCKED);
    cycle(t, SU.STATE);
    assert.equal(rcOf(t.run(nv.write(RH.OWNER, IDX, Buffer.from('x')))), NV_RC.NV_LOCKED);
    cycle(t, SU.CLEAR);
    t.ok(nv.write(RH.OWNER, IDX, Buffer.from('x')));
    assert.equal(rcOf(t.run(nv.write(RH.OWNER, IDX + 1, Buffer.from('x')))), NV_RC.NV_LOCKED);
    assert.ok(readPublicOut(t.ok(nv.readPublic(IDX + 1))).attributes & NVA.WRITELOCKED);
  });

  it('WriteLock without WRITEDEFINE/WRITE_STCLEAR is ATTRIBUTES+H2; ReadLock needs READ_STCLEAR', () => {
    const t = hierarchyTpm();
    t.ok(nv.define(RH.OWNER, { index: IDX, attributes: OWNER_RW, size: 4 }));
    assert.equal(rcOf(t.run(nv.writeLock(RH.OWNER, IDX))), RC.ATTRIBUTES + RC.H2);
    assert.equal(rcOf(t.run(nv.readLock(RH.OWNER, IDX))), RC.ATTRIBUTES + RC.H2);
  });

  it('READ_STCLEAR: ReadLock makes reads NV_LOCKED until Restart', () => {
    const t = hierarchyTpm();
    t.ok(nv.define(RH.OWNER, { index: IDX, attributes: OWNER_RW | NVA.READ_STCLEAR, size: 4 }));
    t.ok(nv.write(RH.OWNER, IDX, Buffer.from('data')));
    t.ok(nv.readLock(RH.OWNER, IDX));
    assert.equal(rcOf(t.run(nv.read(RH.OWNER, IDX, 4))), NV_RC.NV_LOCKED);
    cycle(t, SU.CLEAR);
    assert.deepEqual(readOut(t.ok(nv.read(RH.OWNER, IDX, 4))), Buffer.from('data'));
  });

  it('GlobalWriteLock locks GLOBALLOCK indices only, until Restart; CLEAR_STCLEAR forgets WRITTEN at Restart, not at Resume', () => {
    const t = hierarchyTpm();
    t.ok(nv.define(RH.OWNER, { index: IDX, attributes: OWNER_RW | NVA.GLOBALLOCK, size: 4 }));
    t.ok(nv.define(RH.OWNER, { index: IDX + 1, attributes: OWNER_RW | NVA.CLEAR_STCLEAR, size: 4 }));
    t.ok(nv.write(RH.OWNER, IDX + 1, Buffer.from('tmp!')));
    t.ok(nv.globalWriteLock(RH.OWNER));
    assert.equal(rcOf(t.run(nv.write(RH.OWNER, IDX, Buffer.from('x')))), NV_RC.NV_LOCKED);
    t.ok(nv.write(RH.OWNER, IDX + 1, Buffer.from('y')));
    cycle(t, SU.STATE);
    assert.equal(rcOf(t.run(nv.write(RH.OWNER, IDX, Buffer.from('x')))), NV_RC.NV_LOCKED);
    t.ok(nv.read(RH.OWNER, IDX + 1, 4));
    cycle(t, SU.CLEAR);
    t.ok(nv.write(RH.OWNER, IDX, Buffer.from('x')));
    assert.equal(rcOf(t.run(nv.read(RH.OWNER, IDX + 1, 4))), NV_RC.NV_UNINITIALIZED);
  });

  it('GetCapability lists NV handles and counts them in HR_NV_INDEX, NV_COUNTERS', () => {
    const t = hierarchyTpm();
    t.ok(nv.define(RH.OWNER, { index: IDX + 1, attributes: OWNER_RW | NVA.COUNTER, size: 8 }));
    t.ok(nv.define(RH.OWNER, { index: IDX, attributes: OWNER_RW, size: 8 }));
    const handles = parseCap(t.ok(getCap(CAP.HANDLES, 0x01000000, 16)).subarray(10)).items.map((b) => b.readUInt32BE(0));
    assert.deepEqual(handles, [IDX, IDX + 1]);
    const props = parseCap(t.ok(getCap(CAP.TPM_PROPERTIES, 0x202, 10)).subarray(10)).items;
    const prop = (p: number): number | undefined => props.find((b) => b.readUInt32BE(0) === p)?.readUInt32BE(4);
    assert.equal(prop(0x202), 2); // HR_NV_INDEX
    assert.equal(prop(0x20a), 1); // NV_COUNTERS
    assert.equal(prop(0x20b), 31); // NV_COUNTERS_AVAIL
  });
});
