/** TPM2_GetCapability through Tpm.execute, byte level; expected values restate the reference (swtpm 0.7.1) behaviour. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  CAP, CC, TestTpm, cmd, getCap, hex, parseCap, propertyMap, rcOf, tpm2b, u8, u16, u32, walk,
} from '../helpers/capability-cmd.js';
import { COMMANDS } from '../../../src/tpm/commands/command-table.js';
import { FIRMWARE_VERSION } from '../../../src/tpm/capability/properties.js';
import { manufacture } from '../../../src/tpm/state/initial-state.js';

const RC = { VALUE_P1: 0x1c4, VALUE_P2: 0x2c4, HANDLE_P2: 0x2cb, INSUFFICIENT_P3: 0x3da, SIZE: 0x095 };

/** The algorithm table this TPM promises, restated as the oracle: [TPM_ALG_ID, TPMA_ALGORITHM]. */
const EXPECTED_ALGS: [number, number][] = [
  [0x0001, 0x009], [0x0004, 0x004], [0x0005, 0x104], [0x0006, 0x002], [0x0007, 0x404], [0x0008, 0x30c],
  [0x000a, 0x006], [0x000b, 0x004], [0x000c, 0x004], [0x000d, 0x004], [0x0014, 0x101], [0x0015, 0x201],
  [0x0016, 0x101], [0x0017, 0x201], [0x0018, 0x101], [0x0019, 0x401], [0x001a, 0x101], [0x001d, 0x401], [0x0020, 0x404], [0x0021, 0x404],
  [0x0022, 0x404], [0x0023, 0x009], [0x0025, 0x008], [0x0040, 0x202], [0x0041, 0x202], [0x0042, 0x202],
  [0x0043, 0x202], [0x0044, 0x202],
];

const PT = {
  FIXED: 0x100, FAMILY: 0x100, REVISION: 0x102, MANUFACTURER: 0x105, VENDOR_1: 0x106, FW1: 0x10b, FW2: 0x10c,
  INPUT_BUFFER: 0x10d, NV_INDEX_MAX: 0x117, CONTEXT_HASH: 0x11a, CONTEXT_SYM: 0x11b, CONTEXT_SYM_SIZE: 0x11c,
  MAX_COMMAND_SIZE: 0x11e, MAX_DIGEST: 0x120, TOTAL_COMMANDS: 0x129, LIBRARY_COMMANDS: 0x12a, NV_BUFFER_MAX: 0x12c,
  MAX_CAP_BUFFER: 0x12e, VAR: 0x200, PERMANENT: 0x200, STARTUP_CLEAR: 0x201, HR_LOADED: 0x203, HR_LOADED_AVAIL: 0x204,
  HR_ACTIVE: 0x205, HR_ACTIVE_AVAIL: 0x206, HR_TRANSIENT_AVAIL: 0x207, LOADED_CURVES: 0x20d, AUDIT_COUNTER_1: 0x214,
};

const startSession = (t: TestTpm, type: number, client = 0): number =>
  t.ok(cmd(CC.StartAuthSession, u32(0x40000007), u32(0x40000007), tpm2b(Buffer.alloc(16, 1)), u16(0), u8(type),
    u16(0x10), u16(0x0b)), client).readUInt32BE(10);
const startSequence = (t: TestTpm, client: number): number =>
  t.ok(cmd(CC.HashSequenceStart, u16(0), u16(0x0b)), client).readUInt32BE(10);
const handles = (t: TestTpm, property: number, client = 0): number[] =>
  parseCap(t.params(getCap(CAP.HANDLES, property, 254), client)).items.map((b) => b.readUInt32BE(0));
const properties = (t: TestTpm, property: number, count = 127): Map<number, number> =>
  propertyMap(parseCap(t.params(getCap(CAP.TPM_PROPERTIES, property, count))).items);

describe('GetCapability (engine)', () => {
  it('ALGS: the whole table in one answer, exact bytes', () => {
    const t = new TestTpm();
    const body = Buffer.concat(EXPECTED_ALGS.map(([alg, attr]) => Buffer.concat([u16(alg), u32(attr)])));
    const expected = Buffer.concat([hex('8001'), u32(10 + 1 + 4 + 4 + body.length), u32(0), u8(0), u32(CAP.ALGS),
      u32(EXPECTED_ALGS.length), body]);
    assert.deepEqual(t.ok(getCap(CAP.ALGS, 0, 127)), expected);
  });

  it('ALGS: the hash algorithms are exactly those with attributes == TPMA_ALGORITHM.hash (what tpm2-tools picks from)', () => {
    const t = new TestTpm();
    const hashOnly = parseCap(t.params(getCap(CAP.ALGS, 0, 127))).items
      .filter((b) => b.readUInt32BE(2) === 0x4).map((b) => b.readUInt16BE(0));
    assert.deepEqual(hashOnly, [0x0004, 0x000b, 0x000c, 0x000d]);
  });

  it('paging: count 0 is an empty page with moreData = YES; a property past the end is empty with NO', () => {
    const t = new TestTpm();
    assert.equal(t.params(getCap(CAP.ALGS, 0, 0)).toString('hex'), '01' + '00000000' + '00000000');
    assert.equal(t.params(getCap(CAP.ALGS, 0x45, 5)).toString('hex'), '00' + '00000000' + '00000000');
    assert.equal(t.params(getCap(CAP.ALGS, 0x44, 5)).toString('hex'), '00' + '00000000' + '00000001' + '004400000202');
    assert.equal(t.params(getCap(CAP.ALGS, 0, 1)).toString('hex'), '01' + '00000000' + '00000001' + '000100000009');
    assert.equal(t.params(getCap(CAP.ALGS, 0x44, 1)).toString('hex'), '00' + '00000000' + '00000001' + '004400000202');
    assert.equal(t.params(getCap(CAP.ALGS, 0, EXPECTED_ALGS.length)).readUInt8(0), 0);
    assert.equal(t.params(getCap(CAP.ALGS, 0, EXPECTED_ALGS.length - 1)).readUInt8(0), 1);
    assert.equal(t.params(getCap(CAP.TPM_PROPERTIES, 0, 0)).toString('hex'), '01' + '00000006' + '00000000');
    assert.equal(t.params(getCap(CAP.HANDLES, 0, 0)).toString('hex'), '01' + '00000001' + '00000000');
    assert.equal(t.params(getCap(CAP.HANDLES, 24, 5)).toString('hex'), '00' + '00000001' + '00000000');
    assert.equal(t.params(getCap(CAP.HANDLES, 23, 5)).toString('hex'), '00' + '00000001' + '00000001' + '00000017');
  });

  for (const [name, capability, property] of [
    ['ALGS', CAP.ALGS, 0], ['COMMANDS', CAP.COMMANDS, 0], ['fixed properties', CAP.TPM_PROPERTIES, PT.FIXED],
    ['variable properties', CAP.TPM_PROPERTIES, PT.VAR], ['PCR handles', CAP.HANDLES, 0],
    ['permanent handles', CAP.HANDLES, 0x40000000], ['PCR properties', CAP.PCR_PROPERTIES, 0],
    ['ECC curves', CAP.ECC_CURVES, 0], ['auth policies', CAP.AUTH_POLICIES, 0x40000000],
  ] as const) {
    it(`paging: walking ${name} one entry at a time gives the same list as one big call`, () => {
      const t = new TestTpm();
      const big = parseCap(t.params(getCap(capability, property, 0xffffffff)));
      assert.equal(big.moreData, 0);
      assert.ok(big.items.length > 1);
      assert.deepEqual(walk(t, capability, property, 1), big.items);
      assert.deepEqual(walk(t, capability, property, 3), big.items);
    });
  }

  it('errors: unknown capability, PCRS property, handle type, AUTH_POLICIES and ACT ranges, short command', () => {
    const t = new TestTpm();
    assert.equal(rcOf(t.run(getCap(11, 0, 1))), RC.VALUE_P1);
    assert.equal(rcOf(t.run(getCap(0x100, 0, 1))), RC.VALUE_P1); // TPM_CAP_VENDOR_PROPERTY: none
    assert.equal(rcOf(t.run(getCap(CAP.PCRS, 1, 1))), RC.VALUE_P2);
    assert.equal(rcOf(t.run(getCap(CAP.HANDLES, 0x05000000, 1))), RC.HANDLE_P2);
    assert.equal(rcOf(t.run(getCap(CAP.HANDLES, 0x20000000, 1))), RC.HANDLE_P2);
    assert.equal(rcOf(t.run(getCap(CAP.AUTH_POLICIES, 0, 10))), RC.VALUE_P2);
    assert.equal(rcOf(t.run(getCap(CAP.ACT, 0, 10))), RC.VALUE_P2);
    assert.equal(rcOf(t.run(getCap(CAP.ACT, 0x40000120, 10))), RC.VALUE_P2);
    assert.equal(t.params(getCap(CAP.ACT, 0x40000110, 10)).toString('hex'), '00' + '0000000a' + '00000000');
    assert.equal(rcOf(t.run(cmd(CC.GetCapability, u32(0), u32(0), u16(1)))), RC.INSUFFICIENT_P3);
    assert.equal(rcOf(t.run(cmd(CC.GetCapability, u32(0), u32(0), u32(1), u8(0)))), RC.SIZE);
  });

  it('PCRS: the whole allocation even for count 1; count 0 is empty with moreData', () => {
    const t = new TestTpm(manufacture([0x0b, 0x0c]));
    assert.equal(t.params(getCap(CAP.PCRS, 0, 1)).toString('hex'),
      '00' + '00000005' + '00000002' + '000b03ffffff' + '000c03ffffff');
    assert.equal(t.params(getCap(CAP.PCRS, 0, 0)).toString('hex'), '01' + '00000005' + '00000000');
    const one = new TestTpm(manufacture([0x04, 0x0b, 0x0c, 0x0d]));
    assert.equal(parseCap(one.params(getCap(CAP.PCRS, 0, 1))).items.length, 4);
  });

  it('TPM_PROPERTIES: fixed group values, and a request never runs on into the next group', () => {
    const t = new TestTpm();
    const fixed = properties(t, 0);
    assert.equal(fixed.size, 46);
    assert.ok([...fixed.keys()].every((k) => k >= 0x100 && k <= 0x12e));
    assert.equal(fixed.get(PT.FAMILY), 0x322e3000);
    assert.equal(fixed.get(PT.REVISION), 164);
    assert.equal(fixed.get(PT.MANUFACTURER), Buffer.from('MRTP').readUInt32BE(0));
    assert.equal(fixed.get(PT.VENDOR_1), Buffer.from('mrtp').readUInt32BE(0));
    assert.equal(fixed.get(PT.INPUT_BUFFER), 1024);
    assert.equal(fixed.get(PT.NV_INDEX_MAX), 2048);
    assert.equal(fixed.get(PT.NV_BUFFER_MAX), 1024);
    assert.equal(fixed.get(PT.MAX_DIGEST), 64);
    assert.equal(fixed.get(PT.MAX_COMMAND_SIZE), 4096);
    assert.equal(fixed.get(PT.MAX_CAP_BUFFER), 1024);
    assert.equal(fixed.get(PT.CONTEXT_HASH), 0x0b);
    assert.equal(fixed.get(PT.CONTEXT_SYM), 0x06);
    assert.equal(fixed.get(PT.CONTEXT_SYM_SIZE), 128);
    assert.equal(fixed.get(PT.TOTAL_COMMANDS), COMMANDS.size);
    assert.equal(fixed.get(PT.LIBRARY_COMMANDS), COMMANDS.size);
    const variable = properties(t, PT.VAR);
    assert.equal(variable.size, 21);
    assert.ok([...variable.keys()].every((k) => k >= 0x200 && k <= 0x214));
    assert.equal(variable.get(PT.LOADED_CURVES), 3);
    // The last fixed property ends the answer, as the reference does (moreData NO).
    assert.equal(t.params(getCap(CAP.TPM_PROPERTIES, 0x12e, 3)).toString('hex'), '00' + '00000006' + '00000001' + '0000012e00000400');
    assert.equal(t.params(getCap(CAP.TPM_PROPERTIES, 0x12f, 3)).toString('hex'), '00' + '00000006' + '00000000');
    assert.equal(t.params(getCap(CAP.TPM_PROPERTIES, 0x214, 3)).toString('hex'), '00' + '00000006' + '00000001' + '0000021400000000');
    assert.equal(t.params(getCap(CAP.TPM_PROPERTIES, 0x300, 3)).toString('hex'), '00' + '00000006' + '00000000');
    assert.equal(t.params(getCap(CAP.TPM_PROPERTIES, 0, 2)).toString('hex'),
      '01' + '00000006' + '00000002' + '00000100322e3000' + '0000010100000000');
  });

  it('FIRMWARE_VERSION_1/2 carry the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(FIRMWARE_VERSION, pkg.version);
    const [major, minor, patch] = pkg.version.split('.').map(Number) as [number, number, number];
    const fixed = properties(new TestTpm(), PT.FIXED);
    assert.equal(fixed.get(PT.FW1), (major << 16) | minor);
    assert.equal(fixed.get(PT.FW2), patch);
  });

  it('PERMANENT and STARTUP_CLEAR follow the state', () => {
    const p = manufacture();
    const t = new TestTpm(p);
    assert.equal(properties(t, PT.PERMANENT, 2).get(PT.PERMANENT), 0x400);
    assert.equal(properties(t, PT.PERMANENT, 2).get(PT.STARTUP_CLEAR), 0x0000000f); // first Startup: not orderly
    p.ownerAuth = new Uint8Array([1]);
    p.lockoutAuth = new Uint8Array([2]);
    t.core.volatile.shEnable = false;
    assert.equal(properties(t, PT.PERMANENT, 2).get(PT.PERMANENT), 0x405);
    assert.equal(properties(t, PT.PERMANENT, 2).get(PT.STARTUP_CLEAR), 0x0000000d);
    t.ok(cmd(CC.Shutdown, u16(0)));
    t.tpm.init();
    t.ok(cmd(CC.Startup, u16(0)));
    assert.equal(properties(t, PT.PERMANENT, 2).get(PT.STARTUP_CLEAR), 0x8000000f);
  });

  it('COMMANDS: TPMA_CC of every implemented command in code order, from its declaration', () => {
    const t = new TestTpm();
    const attrs = parseCap(t.params(getCap(CAP.COMMANDS, 0, 254))).items.map((b) => b.readUInt32BE(0));
    const codes = [...COMMANDS.keys()].sort((a, b) => a - b);
    assert.deepEqual(attrs.map((a) => a & 0xffff), codes);
    for (const a of attrs) {
      const def = COMMANDS.get(a & 0xffff)!;
      assert.equal((a >>> 25) & 7, def.handles.length, `cHandles of ${def.name}`);
      assert.equal((a >>> 28) & 1, def.responseHandle ? 1 : 0, `rHandle of ${def.name}`);
      assert.equal((a >>> 22) & 1, def.nv ? 1 : 0, `nv of ${def.name}`);
    }
    assert.ok(attrs.includes(0x0000017a)); // GetCapability: no handles
    assert.ok(attrs.includes(0x0000018a)); // TestParms
    assert.ok(attrs.includes(0x14000176)); // StartAuthSession: 2 handles, a response handle
    assert.equal(t.params(getCap(CAP.COMMANDS, 0x17a, 1)).subarray(9).toString('hex'), '0000017a');
    assert.equal(parseCap(t.params(getCap(CAP.COMMANDS, 0x199, 5))).items.length, 0);
  });

  it('PP_COMMANDS is empty; AUDIT_COMMANDS of a new TPM holds SetCommandCodeAuditStatus only', () => {
    const t = new TestTpm();
    assert.equal(t.params(getCap(CAP.PP_COMMANDS, 0, 10)).toString('hex'), '00' + '00000003' + '00000000');
    assert.equal(t.params(getCap(CAP.AUDIT_COMMANDS, 0, 10)).toString('hex'), '00' + '00000004' + '00000001' + '00000140');
    assert.equal(t.params(getCap(CAP.AUDIT_COMMANDS, 0x141, 10)).toString('hex'), '00' + '00000004' + '00000000');
  });

  it('HANDLES: PCRs, permanent handles, empty NV and persistent ranges', () => {
    const t = new TestTpm();
    assert.deepEqual(handles(t, 0), [...Array(24).keys()]);
    assert.deepEqual(handles(t, 0x40000000),
      [0x40000001, 0x40000007, 0x40000009, 0x4000000a, 0x4000000b, 0x4000000c, 0x4000000d]);
    assert.deepEqual(handles(t, 0x40000008), [0x40000009, 0x4000000a, 0x4000000b, 0x4000000c, 0x4000000d]);
    assert.deepEqual(handles(t, 0x01000000), []);
    assert.deepEqual(handles(t, 0x81000000), []);
  });

  it('HANDLES: loaded sessions (0x02 query) keep their type; saved ones (0x03 query) are listed in the HMAC range', () => {
    const t = new TestTpm();
    const hmac = startSession(t, 0);
    const policy = startSession(t, 1);
    const hmac2 = startSession(t, 0);
    assert.deepEqual([hmac, policy, hmac2], [0x02000000, 0x03000001, 0x02000002]);
    assert.deepEqual(handles(t, 0x02000000), [hmac, policy, hmac2]);
    assert.deepEqual(handles(t, 0x02000001), [policy, hmac2]);
    assert.deepEqual(handles(t, 0x03000000), []);
    const vars = properties(t, PT.HR_LOADED, 4);
    assert.deepEqual([...vars.values()], [3, 16 - 3, 3, 64 - 3]);
    t.ok(cmd(0x162, u32(policy))); // ContextSave
    assert.deepEqual(handles(t, 0x02000000), [hmac, hmac2]);
    assert.deepEqual(handles(t, 0x03000000), [0x02000001]);
    assert.deepEqual(handles(t, 0x03000002), []);
    assert.deepEqual([...properties(t, PT.HR_LOADED, 4).values()], [2, 16 - 2, 3, 64 - 3]);
  });

  it('HANDLES: transient objects are the calling client\'s only', () => {
    const t = new TestTpm();
    const a = startSequence(t, 1);
    const b = startSequence(t, 2);
    const c = startSequence(t, 1);
    assert.deepEqual(handles(t, 0x80000000, 1), [a, c]);
    assert.deepEqual(handles(t, 0x80000000, 2), [b]);
    assert.deepEqual(handles(t, 0x80000000, 3), []);
    assert.equal(properties(t, PT.HR_TRANSIENT_AVAIL, 1).get(PT.HR_TRANSIENT_AVAIL), 16 - 3);
  });

  it('PCR_PROPERTIES: selections from the PCR attribute table (the same as swtpm reports)', () => {
    const t = new TestTpm();
    const items = parseCap(t.params(getCap(CAP.PCR_PROPERTIES, 0, 127))).items.map((b) => b.toString('hex'));
    assert.deepEqual(items, [
      '0000000003ffff00', // SAVE: 0-15
      '0000000103ffff81', '0000000203000081', // L0: extend 0-16, 23; reset 16, 23
      '0000000303ffff91', '0000000403000081', // L1: extend adds 20
      '0000000503ffffff', '00000006030000f1', // L2: extend all; reset 16, 20-23
      '0000000703ffff9f', '0000000803000081', // L3: extend 0-20, 23
      '0000000903ffff87', '0000000a0300007e', // L4: extend 0-18, 23; reset 17-22
      '00000011030000e1', // NO_INCREMENT: 16, 21, 22, 23
      '000000120300007e', // DRTM_RESET: 17-22
    ]);
  });

  it('ECC_CURVES, AUTH_POLICIES', () => {
    const t = new TestTpm();
    assert.equal(t.params(getCap(CAP.ECC_CURVES, 0, 100)).toString('hex'), '00' + '00000008' + '00000003' + '000300040005');
    assert.equal(t.params(getCap(CAP.ECC_CURVES, 4, 100)).toString('hex'), '00' + '00000008' + '00000002' + '00040005');
    assert.equal(t.params(getCap(CAP.AUTH_POLICIES, 0x40000001, 10)).toString('hex'),
      '00' + '00000009' + '00000004' + '400000010010' + '4000000a0010' + '4000000b0010' + '4000000c0010');
  });
});
