import assert from 'node:assert/strict';
import { stateFromJson, stateToJson } from '../../../src/tpm/state/serialize.js';
import type { PersistentState } from '../../../src/tpm/state/tpm-state.js';
import { RH, RC, commands as c, eccStorageTemplate, hierarchyTpm, primaryOut, rcOf, readPublicOut } from '../helpers/hierarchy-cmd.js';

const OWNER_HANDLE = 0x81000001;
const PLATFORM_HANDLE = 0x81800001;
const STCLEAR = 0x00000004;

/** A started TPM with a primary of `hierarchy` loaded. */
function withPrimary(hierarchy: number = RH.OWNER, template = eccStorageTemplate()) {
  const t = hierarchyTpm();
  const { handle, outPublic } = primaryOut(t.ok(c.createPrimary(hierarchy, template)));
  return { ...t, handle, outPublic: Buffer.from(outPublic) };
}

describe('EvictControl (Part 3 §28.5)', () => {
  it('makes an owner object persistent: ReadPublic at the persistent handle, a new Tpm from the same state has it', () => {
    let saved: PersistentState | undefined;
    const t = hierarchyTpm(undefined, (s) => { saved = s; });
    const { handle, outPublic } = primaryOut(t.ok(c.createPrimary(RH.OWNER)));
    saved = undefined;
    t.ok(c.evictControl(RH.OWNER, handle, OWNER_HANDLE));
    assert.ok(saved, 'the change reached the host as a persistent change');
    const json = stateToJson(saved);
    const again = hierarchyTpm(stateFromJson<PersistentState>(json));
    const read = readPublicOut(again.ok(c.readPublic(OWNER_HANDLE)));
    assert.deepEqual(read.outPublic, outPublic);
    assert.deepEqual(again.tpm.tpmCore.objects.persistentHandles(), [OWNER_HANDLE]);
    again.ok(c.evictControl(RH.OWNER, OWNER_HANDLE, OWNER_HANDLE));
    assert.equal(rcOf(again.run(c.readPublic(OWNER_HANDLE))), RC.HANDLE + RC.H1);
    assert.deepEqual(again.tpm.tpmCore.objects.persistentHandles(), []);
  });

  it('persisting takes a copy: the transient object stays loaded; a taken handle is TPM_RC_NV_DEFINED', () => {
    const t = withPrimary();
    t.ok(c.evictControl(RH.OWNER, t.handle, OWNER_HANDLE));
    t.ok(c.readPublic(t.handle));
    assert.equal(rcOf(t.run(c.evictControl(RH.OWNER, t.handle, OWNER_HANDLE))), RC.NV_DEFINED);
  });

  it('handle ranges: owner below 0x81800000, platform from it (TPM_RC_RANGE P1); not persistent TPM_RC_VALUE P1', () => {
    const t = withPrimary();
    assert.equal(rcOf(t.run(c.evictControl(RH.OWNER, t.handle, PLATFORM_HANDLE))), RC.RANGE + RC.P1);
    assert.equal(rcOf(t.run(c.evictControl(RH.OWNER, t.handle, 0x80000001))), RC.VALUE + RC.P1);
    const p = withPrimary(RH.PLATFORM);
    assert.equal(rcOf(p.run(c.evictControl(RH.PLATFORM, p.handle, OWNER_HANDLE))), RC.RANGE + RC.P1);
    p.ok(c.evictControl(RH.PLATFORM, p.handle, PLATFORM_HANDLE));
  });

  it('hierarchy rules: owner cannot persist or evict platform objects, platform cannot persist owner ones but evicts any', () => {
    const p = withPrimary(RH.PLATFORM);
    assert.equal(rcOf(p.run(c.evictControl(RH.OWNER, p.handle, OWNER_HANDLE))), RC.HIERARCHY + RC.H2);
    p.ok(c.evictControl(RH.PLATFORM, p.handle, PLATFORM_HANDLE));
    assert.equal(rcOf(p.run(c.evictControl(RH.OWNER, PLATFORM_HANDLE, PLATFORM_HANDLE))), RC.HIERARCHY + RC.H2);
    const o = withPrimary();
    assert.equal(rcOf(o.run(c.evictControl(RH.PLATFORM, o.handle, PLATFORM_HANDLE))), RC.HIERARCHY + RC.H2);
    o.ok(c.evictControl(RH.OWNER, o.handle, OWNER_HANDLE));
    o.ok(c.evictControl(RH.PLATFORM, OWNER_HANDLE, OWNER_HANDLE));
    assert.equal(rcOf(o.run(c.evictControl(RH.ENDORSEMENT, o.handle, OWNER_HANDLE))), RC.VALUE + RC.H1);
  });

  it('refuses NULL-hierarchy, stClear and sequence objects (TPM_RC_ATTRIBUTES H2)', () => {
    const n = withPrimary(RH.NULL);
    assert.equal(rcOf(n.run(c.evictControl(RH.OWNER, n.handle, OWNER_HANDLE))), RC.ATTRIBUTES + RC.H2);
    const s = withPrimary(RH.OWNER, eccStorageTemplate(STCLEAR));
    assert.equal(rcOf(s.run(c.evictControl(RH.OWNER, s.handle, OWNER_HANDLE))), RC.ATTRIBUTES + RC.H2);
    const seq = s.ok(c.hashSequenceStart()).readUInt32BE(10);
    assert.equal(rcOf(s.run(c.evictControl(RH.OWNER, seq, OWNER_HANDLE))), RC.ATTRIBUTES + RC.H2);
  });

  it('removing: persistentHandle must be the object\'s handle (TPM_RC_HANDLE H2)', () => {
    const t = withPrimary();
    t.ok(c.evictControl(RH.OWNER, t.handle, OWNER_HANDLE));
    assert.equal(rcOf(t.run(c.evictControl(RH.OWNER, OWNER_HANDLE, 0x81000002))), RC.HANDLE + RC.H2);
    assert.equal(rcOf(t.run(c.evictControl(RH.OWNER, 0x81000002, 0x81000002))), RC.HANDLE + RC.H2);
  });

  it('Clear evicts owner and endorsement persistent objects, keeps platform ones; ChangePPS evicts those', () => {
    const t = hierarchyTpm();
    const persist = (h: number, auth: number, at: number): void => {
      t.ok(c.evictControl(auth, primaryOut(t.ok(c.createPrimary(h))).handle, at));
    };
    persist(RH.OWNER, RH.OWNER, OWNER_HANDLE);
    persist(RH.ENDORSEMENT, RH.OWNER, 0x81010002);
    persist(RH.PLATFORM, RH.PLATFORM, PLATFORM_HANDLE);
    t.ok(c.clear());
    assert.deepEqual(t.tpm.tpmCore.objects.persistentHandles(), [PLATFORM_HANDLE]);
    t.ok(c.changePps());
    assert.deepEqual(t.tpm.tpmCore.objects.persistentHandles(), []);
  });

  it('a disabled hierarchy\'s persistent object is out of reach (TPM_RC_HIERARCHY H1) until enabled', () => {
    const t = withPrimary(RH.ENDORSEMENT);
    t.ok(c.evictControl(RH.OWNER, t.handle, 0x81010001));
    t.ok(c.hierarchyControl(RH.ENDORSEMENT, RH.ENDORSEMENT, false));
    assert.equal(rcOf(t.run(c.readPublic(0x81010001))), RC.HIERARCHY + RC.H1);
    t.ok(c.hierarchyControl(RH.PLATFORM, RH.ENDORSEMENT, true));
    t.ok(c.readPublic(0x81010001));
  });
});
