/**
 * PIN Pass and PIN Fail indexes through PolicySecret with the index's password: the authValue
 * serves while pinCount < pinLimit; PIN_PASS counts uses, PIN_FAIL failures in a row (a success
 * resets it); the owner reads and resets the counter.
 */
import assert from 'node:assert/strict';
import { pwAuth, u32 } from '../helpers/tpm-wire.js';
import { hex } from '../helpers/session-cmd.js';
import { NVA, nv, readOut } from '../helpers/nv-cmd.js';
import { OWNER, POLICY, policySecret, policyTpm } from '../helpers/policy-cmd.js';

const NT_PIN_FAIL = 8 << 4;
const NT_PIN_PASS = 9 << 4;
const RC = { AUTH_UNAVAILABLE: 0x12f, BAD_AUTH_S1: 0x9a2 } as const;
const PIN = Buffer.from('1234');
const INDEX = 0x01500060;

function pinTpm(type: number) {
  const t = policyTpm();
  t.must(nv.define(OWNER, { index: INDEX, attributes: type | NVA.OWNERWRITE | NVA.OWNERREAD | NVA.NO_DA, size: 8 }, PIN), 'define');
  const setCounter = (count: number, limit: number) => t.must(nv.write(OWNER, INDEX, Buffer.concat([u32(count), u32(limit)])), 'owner write');
  const count = (): number => readOut(t.must(nv.read(OWNER, INDEX, 8)).raw).readUInt32BE(0);
  const tryPin = (pin: Buffer): number => t.run(policySecret(INDEX, t.start(POLICY).handle, { auth: pwAuth(pin) })).rc;
  return { ...t, setCounter, count, tryPin };
}

describe('NV PIN indexes (TPM_NT_PIN_PASS, TPM_NT_PIN_FAIL)', () => {
  it('PIN_PASS: each use of the PIN counts; at pinLimit the authValue is unavailable; a wrong PIN does not count', () => {
    const t = pinTpm(NT_PIN_PASS);
    assert.equal(hex(t.tryPin(PIN)), hex(RC.AUTH_UNAVAILABLE), 'not written yet');
    t.setCounter(0, 2);
    assert.equal(hex(t.tryPin(Buffer.from('0000'))), hex(RC.BAD_AUTH_S1), 'wrong PIN (NO_DA: BAD_AUTH)');
    assert.equal(t.count(), 0);
    assert.equal(t.tryPin(PIN), 0);
    assert.equal(t.count(), 1);
    assert.equal(t.tryPin(PIN), 0);
    assert.equal(t.count(), 2);
    assert.equal(hex(t.tryPin(PIN)), hex(RC.AUTH_UNAVAILABLE), 'pinCount reached pinLimit');
    t.setCounter(1, 2);
    assert.equal(t.tryPin(PIN), 0, 'the owner gave one use back');
  });

  it('PIN_FAIL: failures in a row count, a success resets them; at pinLimit even the right PIN is refused', () => {
    const t = pinTpm(NT_PIN_FAIL);
    t.setCounter(0, 2);
    assert.equal(hex(t.tryPin(Buffer.from('x'))), hex(RC.BAD_AUTH_S1));
    assert.equal(t.count(), 1);
    assert.equal(t.tryPin(PIN), 0);
    assert.equal(t.count(), 0, 'a success resets the count');
    t.tryPin(Buffer.from('x'));
    t.tryPin(Buffer.from('y'));
    assert.equal(t.count(), 2);
    assert.equal(hex(t.tryPin(PIN)), hex(RC.AUTH_UNAVAILABLE), 'locked at pinLimit');
    assert.equal(t.count(), 2, 'an unavailable authValue is not a try');
    t.setCounter(0, 2);
    assert.equal(t.tryPin(PIN), 0, 'the owner reset it');
  });
});
