/** SelfTest, IncrementalSelfTest, GetTestResult, GetRandom, StirRandom and ReadClock through Tpm.execute. */
import assert from 'node:assert/strict';
import { CC, TestTpm, cmd, rcOf, tpm2b, u8, u16, u32 } from '../helpers/capability-cmd.js';
import { manufacture } from '../../../src/tpm/state/initial-state.js';

const RC = { VALUE_P1: 0x1c4, SIZE_P1: 0x1d5, SIZE: 0x095, INSUFFICIENT_P1: 0x1da };

describe('Testing commands (engine)', () => {
  it('SelfTest: YES and NO succeed and record the test; 2 is TPM_RC_VALUE + P1', () => {
    const t = new TestTpm();
    assert.equal(t.core.volatile.selfTested, false);
    assert.equal(rcOf(t.run(cmd(CC.SelfTest, u8(2)))), RC.VALUE_P1);
    assert.equal(t.core.volatile.selfTested, false);
    assert.equal(t.ok(cmd(CC.SelfTest, u8(0))).toString('hex'), '80010000000a00000000');
    assert.equal(t.core.volatile.selfTested, true);
    assert.equal(t.ok(cmd(CC.SelfTest, u8(1))).toString('hex'), '80010000000a00000000');
  });

  it('IncrementalSelfTest: implemented algorithms leave nothing to do; others are TPM_RC_VALUE + P1', () => {
    const t = new TestTpm();
    const toTest = (...algs: number[]): Buffer => cmd(CC.IncrementalSelfTest, u32(algs.length), ...algs.map(u16));
    assert.equal(t.ok(toTest()).toString('hex'), '80010000000e0000000000000000');
    assert.equal(t.ok(toTest(0x0b, 0x43, 0x01, 0x23)).toString('hex'), '80010000000e0000000000000000');
    assert.equal(rcOf(t.run(toTest(0x0b, 0x99))), RC.VALUE_P1);
    assert.equal(rcOf(t.run(toTest(0x10))), RC.VALUE_P1); // TPM_ALG_NULL
    assert.equal(rcOf(t.run(toTest(0x00))), RC.VALUE_P1); // TPM_ALG_ERROR
    assert.equal(rcOf(t.run(toTest(0x03))), RC.VALUE_P1); // TDES: not implemented here
    assert.equal(rcOf(t.run(toTest(...Array<number>(65).fill(0x0b)))), RC.SIZE_P1);
  });

  it('GetTestResult: empty outData, TPM_RC_SUCCESS', () => {
    const t = new TestTpm();
    assert.equal(t.ok(cmd(CC.GetTestResult)).toString('hex'), '80010000001000000000' + '0000' + '00000000');
  });
});

describe('Random commands (engine)', () => {
  it('GetRandom: the requested size, trimmed to 64 bytes; bytes differ between calls', () => {
    const t = new TestTpm();
    for (const [asked, got] of [[0, 0], [1, 1], [16, 16], [64, 64], [65, 64], [0xffff, 64]] as const) {
      const r = t.ok(cmd(CC.GetRandom, u16(asked)));
      assert.equal(r.length, 12 + got);
      assert.equal(r.readUInt16BE(10), got);
    }
    const a = t.params(cmd(CC.GetRandom, u16(32)));
    const b = t.params(cmd(CC.GetRandom, u16(32)));
    assert.notDeepEqual(a, b);
    assert.equal(rcOf(t.run(cmd(CC.GetRandom, u8(1)))), RC.INSUFFICIENT_P1);
  });

  it('StirRandom: up to 128 bytes accepted; 129 is TPM_RC_SIZE + P1', () => {
    const t = new TestTpm();
    assert.equal(t.ok(cmd(CC.StirRandom, tpm2b(Buffer.alloc(128, 7)))).toString('hex'), '80010000000a00000000');
    assert.equal(t.ok(cmd(CC.StirRandom, tpm2b(Buffer.alloc(0)))).toString('hex'), '80010000000a00000000');
    assert.equal(rcOf(t.run(cmd(CC.StirRandom, tpm2b(Buffer.alloc(129))))), RC.SIZE_P1);
  });
});

describe('ReadClock (engine)', () => {
  it('TPMS_TIME_INFO from the volatile time and the persistent clock and counters, safe = YES', () => {
    const p = manufacture();
    p.clock = 5000n;
    const t = new TestTpm(p);
    t.now += 250;
    const info = t.params(cmd(CC.ReadClock));
    assert.equal(info.length, 8 + 8 + 4 + 4 + 1);
    assert.equal(info.readBigUInt64BE(0), t.core.volatile.time);
    assert.equal(info.readBigUInt64BE(0), 250n);
    assert.equal(info.readBigUInt64BE(8), 5250n);
    assert.equal(info.readUInt32BE(16), p.resetCount);
    assert.equal(info.readUInt32BE(20), p.restartCount);
    assert.equal(info.readUInt8(24), 1);
    const resetCount = p.resetCount;
    t.ok(cmd(CC.Shutdown, u16(1)));
    t.tpm.init();
    t.ok(cmd(CC.Startup, u16(0)));
    const after = t.params(cmd(CC.ReadClock));
    assert.equal(after.readBigUInt64BE(0), 0n); // time restarts at _TPM_Init
    assert.equal(after.readUInt32BE(16), resetCount); // Shutdown(STATE) + Startup(CLEAR) is a TPM Restart
    assert.equal(after.readUInt32BE(20), 1);
    assert.equal(rcOf(t.run(cmd(CC.ReadClock, u8(0)))), RC.SIZE); // ReadClock has no parameters
  });
});
