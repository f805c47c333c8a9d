/**
 * ClockSet and ClockRateAdjust (Part 3 §29.2, §29.3) in the engine: owner or platform
 * authorization, Clock only forward and not past 0xFFFF000000000000, TPM_CLOCK_ADJUST values.
 */
import assert from 'node:assert/strict';
import { DA_RC, DA_RH, DaTpm, da, readClockOut } from '../helpers/da-cmd.js';

const MAX = 0xffff000000000000n;
const CLOCK_ADJUST = [-3, -2, -1, 0, 1, 2, 3];

describe('ClockSet and ClockRateAdjust (Part 3 §29)', () => {
  it('ClockSet with owner or platform authorization moves Clock forward; ReadClock shows it and it keeps running from there', () => {
    const t = new DaTpm();
    t.advance(5);
    t.ok(da.clockSet(DA_RH.OWNER, 1_000_000n));
    assert.equal(readClockOut(t.ok(da.readClock())).clock, 1_000_000n);
    t.advance(2);
    assert.equal(readClockOut(t.ok(da.readClock())).clock, 1_002_000n);
    t.ok(da.clockSet(DA_RH.PLATFORM, 2_000_000n));
    assert.equal(readClockOut(t.ok(da.readClock())).clock, 2_000_000n);
    assert.equal(t.written.clock, 2_000_000n, 'written to NV with the command');
  });

  it('a time before the current Clock is TPM_RC_VALUE on parameter 1; the current Clock itself is accepted', () => {
    const t = new DaTpm();
    t.ok(da.clockSet(DA_RH.OWNER, 50_000n));
    assert.equal(t.rc(da.clockSet(DA_RH.OWNER, 49_999n)), DA_RC.VALUE_P1);
    t.ok(da.clockSet(DA_RH.OWNER, 50_000n));
    t.advance(1);
    assert.equal(t.rc(da.clockSet(DA_RH.OWNER, 50_999n)), DA_RC.VALUE_P1, 'Clock moved on with the host clock');
    assert.equal(readClockOut(t.ok(da.readClock())).clock, 51_000n);
  });

  it('0xFFFF000000000000 is the largest Clock that can be set', () => {
    const t = new DaTpm();
    assert.equal(t.rc(da.clockSet(DA_RH.OWNER, MAX + 1n)), DA_RC.VALUE_P1);
    t.ok(da.clockSet(DA_RH.OWNER, MAX));
    assert.equal(readClockOut(t.ok(da.readClock())).clock, MAX);
  });

  it('endorsement and lockout cannot set the clock (TPM_RC_VALUE on handle 1); a wrong owner password is TPM_RC_BAD_AUTH', () => {
    const t = new DaTpm();
    assert.equal(t.rc(da.clockSet(DA_RH.ENDORSEMENT, 1n)), DA_RC.VALUE_H1);
    assert.equal(t.rc(da.clockSet(DA_RH.LOCKOUT, 1n)), DA_RC.VALUE_H1);
    t.ok(da.changeAuth(DA_RH.OWNER, Buffer.from('owner')));
    assert.equal(t.rc(da.clockSet(DA_RH.OWNER, 1n, Buffer.from('x'))), DA_RC.BAD_AUTH_S1);
    t.ok(da.clockSet(DA_RH.OWNER, 1n, Buffer.from('owner')));
  });

  it('ClockRateAdjust accepts TPM_CLOCK_COARSE_SLOWER..COARSE_FASTER; Time and Clock keep following the host clock', () => {
    const t = new DaTpm();
    const before = readClockOut(t.ok(da.readClock()));
    for (const v of CLOCK_ADJUST) t.ok(da.clockRateAdjust(DA_RH.OWNER, v));
    t.ok(da.clockRateAdjust(DA_RH.PLATFORM, 3));
    t.advance(10);
    const after = readClockOut(t.ok(da.readClock()));
    assert.equal(after.time - before.time, 10_000n);
    assert.equal(after.clock - before.clock, 10_000n);
  });

  it('ClockRateAdjust: values outside -3..3 are TPM_RC_VALUE on parameter 1, other hierarchies TPM_RC_VALUE on handle 1', () => {
    const t = new DaTpm();
    for (const v of [4, -4, 127, -128]) assert.equal(t.rc(da.clockRateAdjust(DA_RH.OWNER, v)), DA_RC.VALUE_P1, `rateAdjust ${v}`);
    assert.equal(t.rc(da.clockRateAdjust(DA_RH.ENDORSEMENT, 0)), DA_RC.VALUE_H1);
  });
});
