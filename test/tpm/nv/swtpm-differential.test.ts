/**
 * Differential check of NV: the same NV_DefineSpace / NV_Write / NV_ReadPublic / NV_Read stream
 * goes to the engine and to real swtpm (libtpms); every response (TPMS_NV_PUBLIC, Name, data,
 * error codes) must be byte-identical.
 */
import assert from 'node:assert/strict';
import { useSwtpmClient } from '../../helpers/swtpm-client.js';
import { Tpm } from '../../../src/tpm/engine/tpm.js';
import { manufacture } from '../../../src/tpm/state/initial-state.js';
import { RH, commands as hc, rcOf } from '../helpers/hierarchy-cmd.js';
import { NVA, nv, type NvDef } from '../helpers/nv-cmd.js';

const O = NVA.OWNERWRITE | NVA.OWNERREAD;
const DEFS: NvDef[] = [
  { index: 0x01000100, attributes: O, size: 32 },
  { index: 0x01000101, attributes: NVA.AUTHWRITE | NVA.AUTHREAD | NVA.NO_DA, size: 100 },
  { index: 0x01000102, attributes: O | NVA.WRITE_STCLEAR | NVA.READ_STCLEAR | NVA.WRITEALL, size: 16 },
  { index: 0x01000103, attributes: O | NVA.WRITEDEFINE | NVA.POLICYREAD, size: 8, policy: Buffer.alloc(32, 7) },
  { index: 0x01000104, attributes: O | NVA.COUNTER, size: 8 },
  { index: 0x01000105, attributes: O | NVA.BITS | NVA.ORDERLY, size: 8 },
  { index: 0x01000106, attributes: O | NVA.EXTEND | NVA.CLEAR_STCLEAR, size: 32 },
  { index: 0x01000107, attributes: O, size: 20, nameAlg: 0x0004 },
];
/** Definitions libtpms refuses, each for another rule. */
const BAD: NvDef[] = [
  { index: 0x01000110, attributes: O | NVA.WRITTEN, size: 8 },
  { index: 0x01000111, attributes: O | NVA.COUNTER, size: 4 },
  { index: 0x01000112, attributes: O | NVA.COUNTER | NVA.CLEAR_STCLEAR, size: 8 },
  { index: 0x01000113, attributes: NVA.OWNERWRITE, size: 8 },
  { index: 0x01000114, attributes: O | NVA.PLATFORMCREATE, size: 8 },
  { index: 0x01000115, attributes: O | NVA.WRITEDEFINE | NVA.CLEAR_STCLEAR, size: 8 },
  { index: 0x01000116, attributes: O, size: 8, policy: Buffer.alloc(20) },
  { index: 0x01000117, attributes: O | NVA.POLICY_DELETE, size: 8 },
  { index: 0x01000118, attributes: O | NVA.EXTEND, size: 20 },
  { index: 0x01000119, attributes: O | (3 << 4), size: 8 },
  { index: 0x01000100, attributes: O, size: 8 },
];

function steps(): [string, Buffer][] {
  const s: [string, Buffer][] = [];
  for (const d of DEFS) s.push([`define ${d.index.toString(16)}`, nv.define(RH.OWNER, d)], [`public ${d.index.toString(16)}`, nv.readPublic(d.index)]);
  for (const d of BAD) s.push([`bad define ${d.index.toString(16)}`, nv.define(RH.OWNER, d)]);
  s.push(['read unwritten', nv.read(RH.OWNER, 0x01000100, 4)]);
  s.push(['partial write', nv.write(RH.OWNER, 0x01000100, Buffer.from('abc'), 5)]);
  s.push(['read around it', nv.read(RH.OWNER, 0x01000100, 32)]);
  s.push(['public after write', nv.readPublic(0x01000100)]);
  s.push(['auth write', nv.write(0x01000101, 0x01000101, Buffer.alloc(100, 9))]);
  s.push(['owner write without OWNERWRITE', nv.write(RH.OWNER, 0x01000101, Buffer.alloc(1))]);
  s.push(['public 101', nv.readPublic(0x01000101)]);
  s.push(['writeall partial', nv.write(RH.OWNER, 0x01000102, Buffer.alloc(8))]);
  s.push(['writeall full', nv.write(RH.OWNER, 0x01000102, Buffer.alloc(16, 1))]);
  s.push(['writelock', nv.writeLock(RH.OWNER, 0x01000102)]);
  s.push(['readlock', nv.readLock(RH.OWNER, 0x01000102)]);
  s.push(['public 102 locked', nv.readPublic(0x01000102)]);
  s.push(['read locked', nv.read(RH.OWNER, 0x01000102, 1)]);
  s.push(['write to counter', nv.write(RH.OWNER, 0x01000104, Buffer.alloc(8))]);
  s.push(['increment', nv.increment(RH.OWNER, 0x01000104)]);
  s.push(['public counter', nv.readPublic(0x01000104)]);
  s.push(['setbits', nv.setBits(RH.OWNER, 0x01000105, 0x81n)]);
  s.push(['read bits', nv.read(RH.OWNER, 0x01000105, 8)]);
  s.push(['extend', nv.extend(RH.OWNER, 0x01000106, Buffer.from('x'))]);
  s.push(['read extend', nv.read(RH.OWNER, 0x01000106, 32)]);
  s.push(['public sha1', nv.readPublic(0x01000107)]);
  s.push(['write offset past end', nv.write(RH.OWNER, 0x01000107, Buffer.alloc(1), 21)]);
  s.push(['write range', nv.write(RH.OWNER, 0x01000107, Buffer.alloc(5), 16)]);
  s.push(['undefine', nv.undefine(RH.OWNER, 0x01000107)]);
  s.push(['public undefined', nv.readPublic(0x01000107)]);
  return s;
}

describe('differential: engine vs swtpm on NV commands', function () {
  this.timeout(60000);
  const swtpm = useSwtpmClient(['sha256']);

  it('TPMS_NV_PUBLIC, Names, data and response codes are byte-identical to libtpms', async () => {
    const tpm = new Tpm(manufacture([0x000b]), undefined, { now: () => 0, persistentChanged: () => undefined });
    assert.equal(rcOf(Buffer.from(tpm.execute(hc.startup(0)).response)), 0);
    const mismatches: string[] = [];
    let successes = 0;
    for (const [what, command] of steps()) {
      const theirs = await swtpm().transmit(command);
      const mine = Buffer.from(tpm.execute(command).response);
      if (rcOf(theirs) === 0) successes++;
      if (!theirs.equals(mine)) mismatches.push(`${what}: swtpm ${theirs.toString('hex')} mrtpm ${mine.toString('hex')}`);
    }
    assert.deepEqual(mismatches, []);
    assert.ok(successes > 20, `successes: ${successes}`);
  });
});
