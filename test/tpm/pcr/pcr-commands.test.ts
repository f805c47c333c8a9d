/** PCR_Extend / PCR_Event / PCR_Read / PCR_Reset / PCR_Allocate through Tpm.execute, byte level. */
import assert from 'node:assert/strict';
import {
  ALG, BANKS, RH, bits, commands, digest, extendValue, parseDigestValues, parseRead, Params, rcOf, startedTpm, cmd, CC,
  pw, u32, u16, type Bank, type Selection,
} from '../helpers/pcr-cmd.js';
import { TpmError } from '../../../src/tpm/spec/tpm-rc.js';
import type { PcrExtend } from '../../../src/tpm/pcr/pcr-banks.js';

const zero = (bank: Bank): Buffer => Buffer.alloc({ sha1: 20, sha256: 32, sha384: 48, sha512: 64 }[bank]);
const fill = (bank: Bank, byte: number): Buffer => zero(bank).fill(byte);

/**
 * The PC Client attribute table as the reference implementation (libtpms) has it, restated here as
 * the test oracle: localities allowed to extend, and to reset through PCR_Reset (never locality 4).
 */
const EXTEND_MASK = [...Array(17).fill(0x1f), 0x1c, 0x1c, 0x0c, 0x0e, 0x04, 0x04, 0x1f] as number[];
const RESET_MASK = [...Array(16).fill(0), 0x0f, 0, 0, 0, 0x04, 0x04, 0x04, 0x0f] as number[];
/** PCRs whose changes do not move pcrUpdateCounter. */
const NO_INCREMENT = new Set([16, 21, 22, 23]);
const RC = { LOCALITY: 0x907, VALUE_H1: 0x184, HASH_P1: 0x1c3, VALUE_P1: 0x1c4, SIZE_P1: 0x1d5, PCR: 0x127, TYPE_P1: 0x1ca, FAILURE: 0x101 };

describe('PCR commands (engine)', () => {
  it('PCR_Extend: known answer in each allocated bank, digests for other banks ignored', () => {
    const t = startedTpm();
    const d = { sha1: fill('sha1', 1), sha256: fill('sha256', 2), sha384: fill('sha384', 3), sha512: fill('sha512', 4) };
    t.ok(commands.extend(7, [[ALG.sha1, d.sha1], [ALG.sha256, d.sha256], [ALG.sha384, d.sha384], [ALG.sha512, d.sha512]]));
    t.ok(commands.extend(7, [[ALG.sha256, d.sha256]]));
    const once256 = extendValue('sha256', zero('sha256'), d.sha256);
    assert.deepEqual(t.readOne('sha256', 7), extendValue('sha256', once256, d.sha256));
    assert.deepEqual(t.readOne('sha384', 7), extendValue('sha384', zero('sha384'), d.sha384));
    const sha1 = parseRead(t.ok(commands.read([[ALG.sha1, bits([7])], [ALG.sha512, bits([7])]])));
    assert.deepEqual(sha1.values, []);
    assert.deepEqual(sha1.selection, [[ALG.sha1, [0, 0, 0]], [ALG.sha512, [0, 0, 0]]]);
  });

  it('PCR_Extend of TPM_RH_NULL succeeds and changes nothing', () => {
    const t = startedTpm();
    const before = parseRead(t.ok(commands.read([[ALG.sha256, bits([...Array(8).keys()])]])));
    const r = t.ok(commands.extend(RH.NULL, [[ALG.sha256, fill('sha256', 9)]]));
    assert.equal(r.toString('hex'), '80020000001300000000000000000000010000');
    assert.deepEqual(parseRead(t.ok(commands.read([[ALG.sha256, bits([...Array(8).keys()])]]))), before);
  });

  it('PCR_Event: digests of every implemented hash in TPM_ALG_ID order; allocated banks extended', () => {
    const t = startedTpm();
    const data = Buffer.from('event data of some length');
    const out = parseDigestValues(new Params(t.ok(commands.event(16, data))));
    assert.deepEqual(out.map(([alg]) => alg), [ALG.sha1, ALG.sha256, ALG.sha384, ALG.sha512]);
    out.forEach(([alg, d], i) => assert.deepEqual(d, digest(BANKS[i]!, data), `digest ${alg}`));
    assert.deepEqual(t.readOne('sha256', 16), extendValue('sha256', zero('sha256'), digest('sha256', data)));
    assert.deepEqual(t.readOne('sha384', 16), extendValue('sha384', zero('sha384'), digest('sha384', data)));
    // TPM_RH_NULL: digests only
    const counter = parseRead(t.ok(commands.read([]))).counter;
    assert.deepEqual(parseDigestValues(new Params(t.ok(commands.event(RH.NULL, Buffer.alloc(1024, 7))))).map(([, d]) => d),
      BANKS.map((b) => digest(b, Buffer.alloc(1024, 7))));
    assert.equal(parseRead(t.ok(commands.read([]))).counter, counter);
    assert.equal(rcOf(t.run(commands.event(16, Buffer.alloc(1025)))), RC.SIZE_P1);
  });

  it('PCR_Read: more than 8 PCRs across banks comes back 8 at a time with an exact selection', () => {
    const t = startedTpm();
    for (let pcr = 0; pcr < 24; pcr++) t.ok(commands.event(pcr >= 17 && pcr <= 22 ? RH.NULL : pcr, Buffer.from([pcr])));
    const expected = (bank: Bank, pcr: number): Buffer => {
      if (pcr >= 17 && pcr <= 22) return fill(bank, 0xff);
      return extendValue(bank, zero(bank), digest(bank, Buffer.from([pcr])));
    };
    let ask: Selection[] = [[ALG.sha256, bits([...Array(24).keys()])], [ALG.sha1, bits([0, 1])], [ALG.sha384, bits([...Array(24).keys()])]];
    const got: string[] = [];
    for (let round = 0; round < 10 && ask.some(([, s]) => s.some((b) => b !== 0)); round++) {
      const out = parseRead(t.ok(commands.read(ask)));
      assert.ok(out.values.length <= 8);
      assert.deepEqual(out.selection.map(([alg, s]) => [alg, s.length]), ask.map(([alg, s]) => [alg, s.length]));
      let i = 0;
      out.selection.forEach(([alg, s], k) => {
        for (let pcr = 0; pcr < 24; pcr++) {
          if (!(s[pcr >> 3]! & (1 << (pcr & 7)))) continue;
          assert.ok(ask[k]![1][pcr >> 3]! & (1 << (pcr & 7)), 'only asked-for PCRs come back');
          const bank = alg === ALG.sha256 ? 'sha256' : 'sha384';
          assert.deepEqual(out.values[i++], expected(bank, pcr), `${bank}:${pcr}`);
          got.push(`${bank}:${pcr}`);
        }
      });
      assert.equal(i, out.values.length);
      ask = ask.map(([alg, s], k) => [alg, s.map((b, j) => b & ~out.selection[k]![1][j]!)]);
      if (out.values.length === 0) break;
    }
    assert.equal(got.length, 48);
    assert.equal(new Set(got).size, 48);
  });

  it('PCR_Read: first round stops after the 8th digest and clears everything after it', () => {
    const t = startedTpm();
    const out = parseRead(t.ok(commands.read([[ALG.sha256, [0x0f, 0, 0x80]], [ALG.sha384, [0xff, 0, 0]]])));
    assert.deepEqual(out.selection, [[ALG.sha256, [0x0f, 0, 0x80]], [ALG.sha384, [0x07, 0, 0]]]);
    assert.equal(out.values.length, 8);
  });

  it('PCR_Read: counter, empty and unallocated selections, and unmarshal errors', () => {
    const t = startedTpm();
    const r = t.ok(commands.read([]));
    assert.equal(r.toString('hex'), '80010000001600000000' + '00000014' + '00000000' + '00000000');
    assert.deepEqual(parseRead(t.ok(commands.read([[ALG.sha512, [0xff, 0xff, 0xff]]]))).selection, [[ALG.sha512, [0, 0, 0]]]);
    assert.equal(rcOf(t.run(commands.read([[ALG.sha256, [1, 0, 0, 0]]]))), RC.VALUE_P1, 'sizeofSelect 4 > PCR_SELECT_MAX');
    assert.equal(rcOf(t.run(commands.read([[ALG.sha256, [1, 0]]]))), RC.VALUE_P1, 'sizeofSelect 2 < PCR_SELECT_MIN');
    assert.equal(rcOf(t.run(commands.read([[ALG.null, [1, 0, 0]]]))), RC.HASH_P1);
    assert.equal(rcOf(t.run(commands.read(Array.from({ length: 5 }, (): Selection => [ALG.sha256, [1, 0, 0]])))), RC.SIZE_P1);
  });

  it('numbers handle and parameter errors as the reference does', () => {
    const t = startedTpm();
    assert.equal(rcOf(t.run(commands.extend(24, [[ALG.sha256, zero('sha256')]]))), RC.VALUE_H1);
    assert.equal(rcOf(t.run(commands.reset(RH.NULL))), RC.VALUE_H1);
    assert.equal(rcOf(t.run(commands.event(0x40000001, Buffer.alloc(1)))), RC.VALUE_H1);
    assert.equal(rcOf(t.run(commands.extend(16, [[ALG.sm3, zero('sha256')]]))), RC.HASH_P1);
    assert.equal(rcOf(t.run(commands.extend(16, [[ALG.null, Buffer.alloc(0)]]))), RC.HASH_P1);
    assert.equal(rcOf(t.run(commands.extend(16, Array.from({ length: 5 }, (): [number, Buffer] => [ALG.sha1, zero('sha1')])))), RC.SIZE_P1);
    // a digest shorter than its algorithm: the parameter runs out (TPM_RC_INSUFFICIENT + P1)
    assert.equal(rcOf(t.run(cmd(CC.PCR_Extend, [16], [u32(1), u16(ALG.sha256), Buffer.alloc(31)], [pw()]))), 0x1da);
    // PCR_Extend needs its authorization
    assert.equal(rcOf(t.run(cmd(CC.PCR_Extend, [16], [u32(0)]))), 0x125);
  });

  it('enforces the extend localities of every PCR at localities 0-4', () => {
    for (let locality = 0; locality <= 4; locality++) {
      const t = startedTpm();
      for (let pcr = 0; pcr < 24; pcr++) {
        const allowed = ((EXTEND_MASK[pcr]! >> locality) & 1) === 1;
        const before = t.readOne('sha256', pcr);
        const r = t.run(commands.extend(pcr, [[ALG.sha256, fill('sha256', pcr)]]), locality);
        assert.equal(rcOf(r), allowed ? 0 : RC.LOCALITY, `extend PCR ${pcr} at locality ${locality}`);
        assert.equal(t.readOne('sha256', pcr).equals(before), !allowed);
        assert.equal(rcOf(t.run(commands.event(pcr, Buffer.from('x')), locality)), allowed ? 0 : RC.LOCALITY);
      }
      // TPM_RH_NULL is never refused
      assert.equal(rcOf(t.run(commands.extend(RH.NULL, []), locality)), 0);
    }
  });

  it('enforces the reset localities of every PCR at localities 0-4; reset is to zero', () => {
    for (let locality = 0; locality <= 4; locality++) {
      const t = startedTpm();
      for (let pcr = 0; pcr < 24; pcr++) {
        const allowed = ((RESET_MASK[pcr]! >> locality) & 1) === 1;
        const r = t.run(commands.reset(pcr), locality);
        assert.equal(rcOf(r), allowed ? 0 : RC.LOCALITY, `reset PCR ${pcr} at locality ${locality}`);
        const initial = pcr >= 17 && pcr <= 22 ? fill('sha384', 0xff) : zero('sha384');
        assert.deepEqual(t.readOne('sha384', pcr), allowed ? zero('sha384') : initial);
      }
    }
    assert.equal(rcOf(startedTpm().run(commands.reset(16), 5)), RC.LOCALITY, 'no locality above 4 resets');
    assert.equal(rcOf(startedTpm().run(commands.extend(16, []), 32)), RC.LOCALITY, 'no locality above 4 extends');
  });

  it('pcrUpdateCounter: 20 after TPM Reset, +1 per bank extended, never for the no-increment PCRs', () => {
    const t = startedTpm();
    const counter = (): number => parseRead(t.ok(commands.read([]))).counter;
    assert.equal(counter(), 20);
    t.ok(commands.extend(5, [[ALG.sha256, zero('sha256')], [ALG.sha384, zero('sha384')], [ALG.sha1, zero('sha1')]]));
    assert.equal(counter(), 22);
    t.ok(commands.extend(5, [[ALG.sha512, zero('sha512')]]));
    t.ok(commands.extend(5, []));
    assert.equal(counter(), 22);
    t.ok(commands.event(9, Buffer.from('e')));
    assert.equal(counter(), 24);
    for (const pcr of NO_INCREMENT) {
      const locality = pcr === 21 || pcr === 22 ? 2 : 0;
      t.ok(commands.event(pcr, Buffer.from('e')), locality);
      t.ok(commands.reset(pcr), locality);
    }
    assert.equal(counter(), 24);
    t.ok(commands.reset(20), 2);
    assert.equal(counter(), 25);
    t.ok(commands.extend(20, [[ALG.sha256, zero('sha256')]]), 1);
    assert.equal(counter(), 26);
  });

  it('PCR 0 records the Startup locality 3', () => {
    const t = startedTpm();
    t.tpm.init();
    t.ok(commands.startup(), 3);
    const pcr0 = zero('sha256');
    pcr0[31] = 3;
    assert.deepEqual(t.readOne('sha256', 0), pcr0);
  });

  it('TPM Restart and Resume: saved PCRs and counter as the reference computes them', () => {
    const t = startedTpm();
    t.ok(commands.event(5, Buffer.from('kept')));
    t.ok(commands.event(16, Buffer.from('lost')));
    const pcr5 = t.readOne('sha256', 5);
    const saved = parseRead(t.ok(commands.read([]))).counter;
    t.ok(commands.shutdown(1));
    t.tpm.init();
    t.ok(commands.startup(1));
    assert.deepEqual(t.readOne('sha256', 5), pcr5);
    assert.deepEqual(t.readOne('sha256', 16), zero('sha256'));
    assert.equal(parseRead(t.ok(commands.read([]))).counter, saved + 4, 'Resume: PCRs 17-20 count as changed');
    const resumed = parseRead(t.ok(commands.read([]))).counter;
    t.ok(commands.shutdown(1));
    t.tpm.init();
    t.ok(commands.startup(0));
    assert.deepEqual(t.readOne('sha256', 5), zero('sha256'));
    assert.equal(parseRead(t.ok(commands.read([]))).counter, resumed + 20, 'Restart keeps counting');
  });

  it('PCR_Allocate: pending until the next TPM Reset; unnamed banks keep their allocation', () => {
    const t = startedTpm();
    const r = new Params(t.ok(commands.allocate([[ALG.sha1, bits([...Array(24).keys()])], [ALG.sha256, [0, 0, 0]]])));
    assert.deepEqual([r.u8(), r.u32(), r.u32(), r.u32()], [1, 24, 24 * 20 + 24 * 48, 24 * (20 + 32 + 48 + 64)]);
    assert.deepEqual(t.tpm.persistent.pendingAllocation?.map((b) => b.hash), [ALG.sha1, ALG.sha384]);
    // nothing changes before the reset
    assert.equal(parseRead(t.ok(commands.read([[ALG.sha1, bits([0])]]))).values.length, 0);
    assert.equal(parseRead(t.ok(commands.read([[ALG.sha256, bits([0])]]))).values.length, 1);
    assert.equal(rcOf(t.run(commands.shutdown(1))), RC.TYPE_P1, 'Shutdown(STATE) refused while an allocation is pending');
    t.ok(commands.shutdown(0));
    t.tpm.init();
    t.ok(commands.startup(0));
    assert.deepEqual(t.readOne('sha1', 0), zero('sha1'));
    assert.equal(parseRead(t.ok(commands.read([[ALG.sha256, bits([0])]]))).values.length, 0);
    assert.deepEqual(t.tpm.persistent.pcrAllocation.map((b) => [b.hash, b.pcrs.length]), [[ALG.sha1, 24], [ALG.sha384, 24]]);
    assert.equal(t.tpm.persistent.pendingAllocation, undefined);
  });

  it('PCR_Allocate: refuses an allocation without PCR 0 or PCR 17, and needs the platform handle', () => {
    const t = startedTpm();
    assert.equal(rcOf(t.run(commands.allocate([[ALG.sha256, [0, 0, 0]], [ALG.sha384, [0, 0, 0]]]))), RC.PCR);
    assert.equal(rcOf(t.run(commands.allocate([[ALG.sha256, bits([0])], [ALG.sha384, bits([0])]]))), RC.PCR);
    assert.equal(t.tpm.persistent.pendingAllocation, undefined);
    assert.equal(rcOf(t.run(commands.allocate([[ALG.sha256, bits([0, 17])]], RH.OWNER))), RC.VALUE_H1);
    // the last entry for a bank wins
    t.ok(commands.allocate([[ALG.sha256, [0, 0, 0]], [ALG.sha256, bits([0, 17])]]));
    assert.deepEqual(t.tpm.persistent.pendingAllocation, [{ hash: ALG.sha256, pcrs: [0, 17] }, { hash: ALG.sha384, pcrs: [...Array(24).keys()] }]);
  });

  describe('observer', () => {
    it('sees extends (allocated banks only) and resets before the banks move', () => {
      const seen: string[] = [];
      let t: ReturnType<typeof startedTpm> | undefined;
      const observer = {
        beforeExtend: ({ pcr, applied, supplied, command }: PcrExtend) => {
          const algs = (ds: readonly { hashAlg: number }[]) => ds.map((d) => d.hashAlg).join(',');
          seen.push(`extend ${pcr} ${algs(applied)} of ${algs(supplied)} cc=${command} counter=${parseRead(t!.ok(commands.read([]))).counter}`);
        },
        beforeReset: (pcr: number) => { seen.push(`reset ${pcr}`); },
      };
      t = startedTpm(undefined, observer);
      t.ok(commands.extend(3, [[ALG.sha1, zero('sha1')], [ALG.sha384, zero('sha384')]]));
      t.ok(commands.extend(3, [[ALG.sha1, zero('sha1')]]));
      t.ok(commands.event(23, Buffer.from('e')));
      t.ok(commands.reset(23));
      assert.deepEqual(seen, ['extend 3 12 of 4,12 cc=386 counter=20', 'extend 23 11,12 of 4,11,12,13 cc=316 counter=21', 'reset 23']);
    });

    it('a Startup the observer refuses changes nothing: the retry counts one TPM Reset and applies PCR_Allocate', () => {
      let refuse = false;
      const t = startedTpm(undefined, { beforeStartup: () => { if (refuse) throw new TpmError(0x922); } });
      t.ok(commands.allocate([[ALG.sha256, bits([...Array(24).keys()])], [ALG.sha384, [0, 0, 0]], [ALG.sha1, bits([0, 17])]]));
      const resetCount = t.tpm.persistent.resetCount;
      t.tpm.powerOff();
      t.tpm.powerOn();
      refuse = true;
      assert.equal(rcOf(t.run(commands.startup())), 0x922);
      assert.equal(t.tpm.persistent.resetCount, resetCount);
      assert.ok(t.tpm.persistent.pendingAllocation, 'the allocation is still pending');
      refuse = false;
      t.ok(commands.startup());
      assert.equal(t.tpm.persistent.resetCount, resetCount + 1);
      assert.deepEqual(t.tpm.persistent.pcrAllocation.map((b) => [b.hash, b.pcrs.length]), [[ALG.sha1, 2], [ALG.sha256, 24]]);
    });

    it('a refusing observer fails the command with nothing moved', () => {
      let refuse = false;
      const observer = {
        beforeExtend: () => { if (refuse) throw new TpmError(0x922); },
        beforeReset: () => { if (refuse) throw new Error('MR backend down'); },
      };
      const t = startedTpm(undefined, observer);
      t.ok(commands.event(23, Buffer.from('before')));
      refuse = true;
      const value = t.readOne('sha256', 23);
      const counter = parseRead(t.ok(commands.read([]))).counter;
      assert.equal(rcOf(t.run(commands.extend(23, [[ALG.sha256, zero('sha256')]]))), 0x922);
      assert.equal(rcOf(t.run(commands.event(23, Buffer.from('x')))), 0x922);
      assert.equal(rcOf(t.run(commands.reset(23))), RC.FAILURE);
      assert.deepEqual(t.readOne('sha256', 23), value);
      assert.equal(parseRead(t.ok(commands.read([]))).counter, counter);
      refuse = false;
      t.ok(commands.reset(23));
      assert.deepEqual(t.readOne('sha256', 23), zero('sha256'));
    });
  });
});
