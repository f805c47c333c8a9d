/**
 * PolicyNV and PolicyCounterTimer (Part 3 §23.9, §23.10): the argument hash and digest from their
 * formulas, each TPM_EO comparison against NV contents and the time, and the errors with numbers.
 */
import assert from 'node:assert/strict';
import { command, pwAuth, tpm2b, u16, u32, u64 } from '../helpers/tpm-wire.js';
import { hex, sha } from '../helpers/session-cmd.js';
import { NVA, nv, readPublicOut } from '../helpers/nv-cmd.js';
import { OWNER, SHA256, POLICY, TRIAL, ZERO, policyTpm } from '../helpers/policy-cmd.js';

const CC = { PolicyNV: 0x149, PolicyCounterTimer: 0x16d } as const;
const EO = {
  EQ: 0, NEQ: 1, SIGNED_GT: 2, UNSIGNED_GT: 3, SIGNED_LT: 4, UNSIGNED_LT: 5, SIGNED_GE: 6, UNSIGNED_GE: 7,
  SIGNED_LE: 8, UNSIGNED_LE: 9, BITSET: 10, BITCLEAR: 11,
} as const;
const RC = {
  POLICY: 0x126, VALUE_P2: 0x2c4, VALUE_P3: 0x3c4, SIZE_P1: 0x1d5, RANGE: 0x08d, NV_UNINITIALIZED: 0x14a, NV_AUTHORIZATION: 0x149,
} as const;
const INDEX = 0x01500040;
const FLUSH_CONTEXT = 0x165;
const rc = (r: { rc: number }, expected: number, what: string): void => assert.equal(hex(r.rc), hex(expected), what);
const args = (operandB: Buffer, offset: number, operation: number): Buffer => sha(SHA256, operandB, u16(offset), u16(operation));
const conditionParams = (operandB: Buffer, offset: number, operation: number): Buffer[] => [tpm2b(operandB), u16(offset), u16(operation)];

function nvTpm(value?: Buffer) {
  const t = policyTpm();
  t.must(nv.define(OWNER, { index: INDEX, attributes: NVA.AUTHWRITE | NVA.AUTHREAD | NVA.NO_DA, size: 8 }));
  if (value) t.must(nv.write(INDEX, INDEX, value));
  const { name } = readPublicOut(t.run(nv.readPublic(INDEX)).raw);
  const policyNv = (s: number, operandB: Buffer, offset: number, operation: number, authHandle = INDEX) =>
    t.run(command(CC.PolicyNV, [authHandle, INDEX, s], conditionParams(operandB, offset, operation), [pwAuth()]));
  return { ...t, name: Buffer.from(name), policyNv };
}

describe('PolicyNV and PolicyCounterTimer (Part 3 §23.9-23.10)', () => {
  it('PolicyNV digest: H(old || cc || H(operandB || offset || operation) || nvName); a trial session reads nothing', () => {
    const t = nvTpm();
    const s = t.start(TRIAL);
    const b = Buffer.from([0, 0, 0, 5]);
    rc(t.policyNv(s.handle, b, 4, EO.UNSIGNED_GE), 0, 'unwritten index, trial');
    assert.deepEqual(t.digest(s.handle), sha(SHA256, ZERO, u32(CC.PolicyNV), args(b, 4, EO.UNSIGNED_GE), t.name));
  });

  it('compares the NV octets at offset with operandB by every TPM_EO', () => {
    const t = nvTpm(Buffer.from('0000000580ff0f00', 'hex'));
    const cases: [number, number, string, boolean][] = [
      [EO.EQ, 0, '00000005', true], [EO.EQ, 0, '00000006', false],
      [EO.NEQ, 0, '00000006', true], [EO.NEQ, 0, '00000005', false],
      [EO.UNSIGNED_GT, 4, '7fff', true], [EO.SIGNED_GT, 4, '7fff', false], // 0x80ff is negative signed
      [EO.SIGNED_LT, 4, '0000', true], [EO.UNSIGNED_LT, 4, '0000', false],
      [EO.SIGNED_GE, 4, '80ff', true], [EO.SIGNED_GE, 4, '8100', false],
      [EO.UNSIGNED_GE, 3, '05', true], [EO.UNSIGNED_LE, 3, '04', false],
      [EO.SIGNED_LE, 5, 'ff', true], [EO.SIGNED_LE, 5, 'fe', false], // -1 <= -1, not -1 <= -2
      [EO.BITSET, 5, 'f0', true], [EO.BITSET, 6, '1f', false],
      [EO.BITCLEAR, 6, 'f0', true], [EO.BITCLEAR, 6, '01', false],
    ];
    for (const [op, offset, b, holds] of cases) {
      const s = t.start(POLICY);
      const operandB = Buffer.from(b, 'hex');
      rc(t.policyNv(s.handle, operandB, offset, op), holds ? 0 : RC.POLICY, `op ${op} at ${offset} with ${b}`);
      assert.deepEqual(t.digest(s.handle), holds ? sha(SHA256, ZERO, u32(CC.PolicyNV), args(operandB, offset, op), t.name) : ZERO);
      t.must(command(FLUSH_CONTEXT, [], [u32(s.handle)]));
    }
  });

  it('PolicyNV errors: offset past the end (VALUE + P2), too little data (SIZE + P1), a bad TPM_EO (VALUE + P3), read access', () => {
    const t = nvTpm(Buffer.alloc(8));
    const s = t.start(POLICY);
    rc(t.policyNv(s.handle, Buffer.alloc(1), 9, EO.EQ), RC.VALUE_P2, 'offset 9 of 8');
    rc(t.policyNv(s.handle, Buffer.alloc(8), 1, EO.EQ), RC.SIZE_P1, '8 octets from offset 1');
    rc(t.policyNv(s.handle, Buffer.alloc(1), 0, 12), RC.VALUE_P3, 'TPM_EO 12');
    rc(t.policyNv(s.handle, Buffer.alloc(1), 0, EO.EQ, OWNER), RC.NV_AUTHORIZATION, 'owner without OWNERREAD');
    const u = nvTpm();
    rc(u.policyNv(u.start(POLICY).handle, Buffer.alloc(1), 0, EO.EQ), RC.NV_UNINITIALIZED, 'unwritten index');
  });

  it('PolicyCounterTimer compares TPMS_TIME_INFO (time, clock, resetCount, restartCount, safe); bounds are checked in trial sessions too', () => {
    const t = policyTpm();
    t.clock.ms = 5000;
    const ct = (s: number, operandB: Buffer, offset: number, op: number) => t.run(command(CC.PolicyCounterTimer, [s], conditionParams(operandB, offset, op)));
    const s = t.start(POLICY);
    rc(ct(s.handle, u64(4000n), 0, EO.UNSIGNED_GT), 0, 'time > 4 s');
    assert.deepEqual(t.digest(s.handle), sha(SHA256, ZERO, u32(CC.PolicyCounterTimer), args(u64(4000n), 0, EO.UNSIGNED_GT)));
    rc(ct(s.handle, u64(4000n), 0, EO.UNSIGNED_LT), RC.POLICY, 'time < 4 s');
    rc(ct(s.handle, Buffer.from([1]), 24, EO.EQ), 0, 'safe = YES');
    rc(ct(s.handle, u32(0), 20, EO.EQ), 0, 'restartCount 0 after Startup(CLEAR)');
    const tr = t.start(TRIAL);
    rc(ct(tr.handle, Buffer.alloc(1), 26, EO.EQ), RC.VALUE_P2, 'offset past the 25 octets');
    rc(ct(tr.handle, Buffer.alloc(8), 20, EO.EQ), RC.RANGE, 'offset + size past the end: TPM_RC_RANGE, unnumbered');
    rc(ct(tr.handle, u64(0n), 0, EO.UNSIGNED_LT), 0, 'a trial session does not compare');
  });
});
