/**
 * Dictionary-attack protection (Part 1 §19.8, Part 3 §25) in the engine: failures counted on
 * DA-protected entities and persisted before the response, TPM_RC_LOCKOUT before the authValue
 * is compared, the lockout hierarchy's own rule, exemptions (noDA, TPMA_NV_NO_DA, hierarchies),
 * self-healing with TPM time, Startup after orderly and non-orderly shutdowns, bound sessions,
 * DictionaryAttackLockReset / DictionaryAttackParameters and what GetCapability reports.
 */
import assert from 'node:assert/strict';
import { manufacture, upgradePersistent } from '../../../src/tpm/state/initial-state.js';
import type { PersistentState } from '../../../src/tpm/state/tpm-state.js';
import { DA_CC, DA_RC, DA_RH, DaTpm, PT, TPMA_PERMANENT_IN_LOCKOUT, da, propertiesOut } from '../helpers/da-cmd.js';
import { OBJ, TEMPLATES, createPrimary, parseCreatePrimary, policyAuth, sensitiveCreate } from '../helpers/object-cmd.js';
import { NVA, nv } from '../helpers/nv-cmd.js';
import { ALG, ClientSession, SE, parseResponse, sha } from '../helpers/session-cmd.js';
import { command, pwAuth, tpm2b, u16, u32 } from '../helpers/tpm-wire.js';

const PW = Buffer.from('right');
const WRONG = Buffer.from('wrong');
const LOCKOUT_PW = Buffer.from('lockout-pass');
const FIXED = OBJ.fixedTPM | OBJ.fixedParent | OBJ.userWithAuth;
const NV_AUTH_RW = NVA.AUTHREAD | NVA.AUTHWRITE;
const IDX = 0x01000020;
const SU_STATE = 1;
const POLICY_COMMAND_CODE = 0x16c;
const SET_PRIMARY_POLICY = 0x12e;
const CAP_COMMANDS = 2;

/** A sealed-data primary under the owner hierarchy with authValue PW; noDA when asked. */
function sealed(t: DaTpm, noDA = false): { handle: number; name: Buffer } {
  const r = t.ok(createPrimary(DA_RH.OWNER, TEMPLATES.sealed(FIXED | (noDA ? OBJ.noDA : 0)), sensitiveCreate(PW, Buffer.from('data'))));
  return parseCreatePrimary(r);
}

/** `n` wrong passwords on a DA-protected object, each TPM_RC_AUTH_FAIL on session 1. */
function fail(t: DaTpm, handle: number, n: number): void {
  for (let i = 0; i < n; i++) assert.equal(t.rc(da.unseal(handle, WRONG)), DA_RC.AUTH_FAIL_S1, `failure ${i + 1}`);
}

describe('Dictionary-attack protection (Part 1 §19.8)', () => {
  describe('manufacture and capabilities', () => {
    it('starts with the reference defaults: 0 failures, 3 tries, 1000 s interval, 1000 s lockout recovery, not in lockout', () => {
      const t = new DaTpm();
      const props = propertiesOut(t.ok(da.properties(PT.LOCKOUT_COUNTER, 4)));
      assert.deepEqual([...props], [[PT.LOCKOUT_COUNTER, 0], [PT.MAX_AUTH_FAIL, 3], [PT.LOCKOUT_INTERVAL, 1000], [PT.LOCKOUT_RECOVERY, 1000]]);
      assert.equal(t.property(PT.PERMANENT) & TPMA_PERMANENT_IN_LOCKOUT, 0);
    });

    it('TPM_CAP_COMMANDS lists the DA and clock commands with the reference\'s TPMA_CC (nv except ClockRateAdjust, one handle)', () => {
      const t = new DaTpm();
      const attributesOf = (cc: number): number => {
        const r = t.ok(command(DA_CC.GetCapability, [], [u32(CAP_COMMANDS), u32(cc), u32(1)]));
        assert.equal(r.readUInt32BE(15), 1);
        return r.readUInt32BE(19);
      };
      const NV = 1 << 22;
      const ONE_HANDLE = 1 << 25;
      const expected: [cc: number, nv: number][] = [
        [DA_CC.ClockSet, NV], [DA_CC.ClockRateAdjust, 0], [DA_CC.DictionaryAttackLockReset, NV], [DA_CC.DictionaryAttackParameters, NV],
      ];
      for (const [cc, nv] of expected) assert.equal(attributesOf(cc), cc | nv | ONE_HANDLE, `TPMA_CC of 0x${cc.toString(16)}`);
    });

    it('a state saved before DA gets the defaults on upgrade', () => {
      const old: Partial<PersistentState> = manufacture();
      delete old.dictionaryAttack;
      const p = old as PersistentState;
      assert.equal(upgradePersistent(p), true);
      assert.deepEqual(p.dictionaryAttack,
        { failedTries: 0, maxTries: 3, recoveryTime: 1000, lockoutRecovery: 1000, lockOutAuthEnabled: true, daUsed: false });
      assert.equal(upgradePersistent(p), false);
    });
  });

  describe('counting and lockout', () => {
    it('counts each wrong password on a DA-protected object, written before the response; at maxTries TPMA_PERMANENT.inLockout', () => {
      const t = new DaTpm();
      const { handle } = sealed(t);
      fail(t, handle, 1);
      assert.equal(t.written.dictionaryAttack.failedTries, 1, 'persisted with the failing command');
      assert.equal(t.failedTries, 1);
      fail(t, handle, 2);
      assert.equal(t.written.dictionaryAttack.failedTries, 3);
      assert.equal(t.failedTries, 3);
      assert.equal(t.property(PT.PERMANENT) & TPMA_PERMANENT_IN_LOCKOUT, TPMA_PERMANENT_IN_LOCKOUT);
    });

    it('in lockout a DA-protected entity is TPM_RC_LOCKOUT before its authValue is compared, and nothing more is counted', () => {
      const t = new DaTpm();
      const { handle } = sealed(t);
      fail(t, handle, 3);
      assert.equal(t.rc(da.unseal(handle, PW)), DA_RC.LOCKOUT, 'the right password too');
      assert.equal(t.rc(da.unseal(handle, WRONG)), DA_RC.LOCKOUT);
      assert.equal(t.failedTries, 3);
      t.ok(nv.define(DA_RH.OWNER, { index: IDX, attributes: NV_AUTH_RW, size: 4 }, PW));
      assert.equal(t.rc(nv.write(IDX, IDX, Buffer.from('abcd'), 0, PW)), DA_RC.LOCKOUT, 'a DA-protected NV index');
    });

    it('noDA objects, NO_DA NV indices and the owner hierarchy are exempt: usable in lockout, failures TPM_RC_BAD_AUTH and not counted', () => {
      const t = new DaTpm();
      const exempt = sealed(t, true).handle;
      const protectedObject = sealed(t).handle;
      t.ok(nv.define(DA_RH.OWNER, { index: IDX, attributes: NV_AUTH_RW | NVA.NO_DA, size: 4 }, PW));
      t.ok(da.changeAuth(DA_RH.OWNER, PW));
      assert.equal(t.rc(da.unseal(exempt, WRONG)), DA_RC.BAD_AUTH_S1);
      assert.equal(t.rc(nv.write(IDX, IDX, Buffer.from('abcd'), 0, WRONG)), DA_RC.BAD_AUTH_S1);
      assert.equal(t.rc(nv.undefine(DA_RH.OWNER, IDX)), DA_RC.BAD_AUTH_S1, 'owner with the empty password');
      assert.equal(t.failedTries, 0);
      fail(t, protectedObject, 3);
      t.ok(da.unseal(exempt, PW));
      t.ok(nv.write(IDX, IDX, Buffer.from('abcd'), 0, PW));
      assert.equal(t.rc(da.unseal(exempt, WRONG)), DA_RC.BAD_AUTH_S1);
      assert.equal(t.failedTries, 3);
    });

    it('maxTries 0 means always in lockout for DA-protected entities', () => {
      const t = new DaTpm();
      const { handle } = sealed(t);
      t.ok(da.parameters(0, 1000, 1000));
      assert.equal(t.rc(da.unseal(handle, PW)), DA_RC.LOCKOUT);
      assert.equal(t.property(PT.PERMANENT) & TPMA_PERMANENT_IN_LOCKOUT, TPMA_PERMANENT_IN_LOCKOUT);
      t.ok(da.unseal(sealed(t, true).handle, PW));
    });

    it('recoveryTime 0 disables DA: failures are TPM_RC_AUTH_FAIL but not counted, and earlier ones are forgiven', () => {
      const t = new DaTpm();
      const { handle } = sealed(t);
      fail(t, handle, 2);
      t.ok(da.parameters(3, 0, 1000));
      assert.equal(t.failedTries, 0, 'cleared by the next command');
      fail(t, handle, 5);
      assert.equal(t.failedTries, 0);
      t.ok(da.unseal(handle, PW));
    });
  });

  describe('the lockout hierarchy', () => {
    it('a wrong lockoutAuth disables lockoutAuth (TPM_RC_LOCKOUT even with the right one) without counting failedTries', () => {
      const t = new DaTpm();
      t.ok(da.changeAuth(DA_RH.LOCKOUT, LOCKOUT_PW));
      assert.equal(t.rc(da.lockReset(WRONG)), DA_RC.AUTH_FAIL_S1);
      assert.equal(t.written.dictionaryAttack.lockOutAuthEnabled, false, 'persisted with the failing command');
      assert.equal(t.rc(da.lockReset(LOCKOUT_PW)), DA_RC.LOCKOUT);
      assert.equal(t.rc(da.clear(LOCKOUT_PW)), DA_RC.LOCKOUT);
      assert.equal(t.failedTries, 0);
      t.ok(da.unseal(sealed(t).handle, PW));
    });

    it('lockoutAuth comes back lockoutRecovery seconds of TPM time after the failure, not at a restart', () => {
      const t = new DaTpm();
      t.ok(da.changeAuth(DA_RH.LOCKOUT, LOCKOUT_PW));
      assert.equal(t.rc(da.lockReset(WRONG)), DA_RC.AUTH_FAIL_S1);
      t.advance(999);
      assert.equal(t.rc(da.lockReset(LOCKOUT_PW)), DA_RC.LOCKOUT);
      t.powerCycle(false);
      assert.equal(t.rc(da.lockReset(LOCKOUT_PW)), DA_RC.LOCKOUT, 'a non-orderly restart counts from _TPM_Init again');
      t.advance(1000);
      t.ok(da.lockReset(LOCKOUT_PW));
    });

    it('lockout\'s policy still authorizes while lockoutAuth is disabled (no authValue used, so no lockout check)', () => {
      const t = new DaTpm();
      t.ok(da.changeAuth(DA_RH.LOCKOUT, LOCKOUT_PW));
      const lockResetOnly = sha(ALG.SHA256, Buffer.alloc(32), u32(POLICY_COMMAND_CODE), u32(DA_CC.DictionaryAttackLockReset));
      t.ok(command(SET_PRIMARY_POLICY, [DA_RH.LOCKOUT], [tpm2b(lockResetOnly), u16(ALG.SHA256)], [pwAuth(LOCKOUT_PW)]));
      fail(t, sealed(t).handle, 3);
      assert.equal(t.rc(da.lockReset(WRONG)), DA_RC.AUTH_FAIL_S1);
      assert.equal(t.rc(da.lockReset(LOCKOUT_PW)), DA_RC.LOCKOUT);
      const session = ClientSession.start((c) => parseResponse(t.tpm.execute(c).response), { type: SE.POLICY }).handle;
      t.ok(command(POLICY_COMMAND_CODE, [session], [u32(DA_CC.DictionaryAttackLockReset)]));
      t.ok(command(DA_CC.DictionaryAttackLockReset, [DA_RH.LOCKOUT], [], [policyAuth(session)]));
      assert.equal(t.failedTries, 0);
      assert.equal(t.rc(da.lockReset(LOCKOUT_PW)), DA_RC.LOCKOUT, 'lockoutAuth itself stays disabled');
    });

    it('with lockoutRecovery 0 lockoutAuth comes back only at the next Startup', () => {
      const t = new DaTpm();
      t.ok(da.parameters(3, 1000, 0));
      assert.equal(t.rc(da.lockReset(WRONG)), DA_RC.AUTH_FAIL_S1);
      t.advance(100000);
      assert.equal(t.rc(da.lockReset()), DA_RC.LOCKOUT);
      t.powerCycle(true);
      t.ok(da.lockReset());
    });
  });

  describe('self-healing', () => {
    it('failedTries drops by one per recoveryTime seconds of TPM time since the last failure', () => {
      const t = new DaTpm();
      const { handle } = sealed(t);
      fail(t, handle, 2);
      t.advance(600);
      fail(t, handle, 1);
      t.advance(999);
      assert.equal(t.rc(da.unseal(handle, PW)), DA_RC.LOCKOUT, 'the last failure restarted the interval');
      t.advance(1);
      t.ok(da.unseal(handle, PW));
      assert.equal(t.failedTries, 2);
      assert.equal(t.written.dictionaryAttack.failedTries, 2, 'the decrement is persisted');
      t.advance(2500);
      assert.equal(t.failedTries, 0);
    });

    it('a shorter interval from DictionaryAttackParameters applies to the time already served', () => {
      const t = new DaTpm();
      fail(t, sealed(t).handle, 3);
      t.advance(30);
      t.ok(da.parameters(3, 10, 1000));
      assert.equal(t.failedTries, 0);
    });

    it('time served before an orderly shutdown counts after the restart; after a crash it starts again', () => {
      const orderly = new DaTpm();
      fail(orderly, sealed(orderly).handle, 1);
      orderly.advance(600);
      orderly.powerCycle(true);
      orderly.advance(400);
      assert.equal(orderly.failedTries, 0);

      const crash = new DaTpm();
      fail(crash, sealed(crash).handle, 1);
      crash.advance(600);
      crash.powerCycle(false);
      assert.equal(crash.failedTries, 2, 'the crashed cycle checked DA: one more');
      crash.advance(999);
      assert.equal(crash.failedTries, 2, 'the interval counts from _TPM_Init');
      crash.advance(1);
      assert.equal(crash.failedTries, 1);
    });

    it('no time passes while no process runs the TPM (tcti-cmd): the host clock gap is not TPM time', () => {
      const t = new DaTpm();
      t.ok(nv.define(DA_RH.OWNER, { index: IDX, attributes: NV_AUTH_RW, size: 4 }, PW));
      for (let i = 0; i < 3; i++) assert.equal(t.rc(nv.write(IDX, IDX, Buffer.from('abcd'), 0, WRONG)), DA_RC.AUTH_FAIL_S1);
      t.advance(5000);
      t.newProcess();
      assert.equal(t.rc(nv.write(IDX, IDX, Buffer.from('abcd'), 0, PW)), DA_RC.LOCKOUT);
      t.advance(1000);
      t.ok(nv.write(IDX, IDX, Buffer.from('abcd'), 0, PW));
      assert.equal(t.failedTries, 2);
    });
  });

  describe('Startup', () => {
    it('failedTries survives a restart, and an orderly one costs nothing', () => {
      const t = new DaTpm();
      fail(t, sealed(t).handle, 2);
      t.powerCycle(true);
      assert.equal(t.failedTries, 2);
    });

    it('a crash after a DA-protected authorization was checked costs one failure (USE_DA_USED), one without costs none', () => {
      const t = new DaTpm();
      t.ok(da.unseal(sealed(t).handle, PW));
      assert.equal(t.written.dictionaryAttack.daUsed, true);
      t.powerCycle(false);
      assert.equal(t.failedTries, 1, 'charged');
      t.powerCycle(false);
      assert.equal(t.failedTries, 1, 'no DA check in that cycle: not charged');
      t.ok(da.unseal(sealed(t, true).handle, PW));
      t.powerCycle(false);
      assert.equal(t.failedTries, 1, 'a noDA object is no DA check');
    });

    it('no charge once in lockout or with DA disabled', () => {
      const t = new DaTpm();
      const { handle } = sealed(t);
      fail(t, handle, 3);
      assert.equal(t.rc(da.unseal(handle, PW)), DA_RC.LOCKOUT);
      t.powerCycle(false);
      assert.equal(t.failedTries, 3);
      t.ok(da.parameters(3, 0, 1000));
      t.ok(da.unseal(sealed(t).handle, PW));
      t.powerCycle(false);
      assert.equal(t.failedTries, 0);
    });

    it('a DA check after Shutdown(STATE) makes it non-orderly: Startup(STATE) is refused and the cycle is charged', () => {
      const t = new DaTpm();
      const { handle } = sealed(t);
      t.ok(da.shutdown(SU_STATE));
      t.ok(da.unseal(handle, PW));
      t.powerLoss();
      assert.equal(t.rc(da.startup(SU_STATE)), DA_RC.VALUE_P1);
      t.ok(da.startup());
      assert.equal(t.failedTries, 1);
    });
  });

  describe('DictionaryAttackLockReset and DictionaryAttackParameters (Part 3 §25)', () => {
    it('LockReset clears failedTries with lockout authorization; other handles are TPM_RC_VALUE on handle 1', () => {
      const t = new DaTpm();
      const { handle } = sealed(t);
      fail(t, handle, 3);
      assert.equal(t.rc(da.lockReset(undefined, DA_RH.OWNER)), DA_RC.VALUE_H1);
      t.ok(da.lockReset());
      assert.equal(t.written.dictionaryAttack.failedTries, 0);
      assert.equal(t.failedTries, 0);
      t.ok(da.unseal(handle, PW));
    });

    it('Parameters sets maxTries, recoveryTime and lockoutRecovery as GetCapability reports them, persistently; failedTries stays', () => {
      const t = new DaTpm();
      fail(t, sealed(t).handle, 2);
      t.ok(da.parameters(2, 77, 55));
      const props = propertiesOut(t.ok(da.properties(PT.LOCKOUT_COUNTER, 4)));
      assert.deepEqual([...props.values()], [2, 2, 77, 55]);
      assert.equal(t.property(PT.PERMANENT) & TPMA_PERMANENT_IN_LOCKOUT, TPMA_PERMANENT_IN_LOCKOUT, 'a lower maxTries locks out at once');
      t.powerCycle(true);
      assert.deepEqual([...propertiesOut(t.ok(da.properties(PT.LOCKOUT_COUNTER, 4))).values()], [2, 2, 77, 55]);
    });

    it('both need lockoutAuth: a wrong one is TPM_RC_AUTH_FAIL and then TPM_RC_LOCKOUT', () => {
      const t = new DaTpm();
      t.ok(da.changeAuth(DA_RH.LOCKOUT, LOCKOUT_PW));
      assert.equal(t.rc(da.parameters(1, 1, 1, WRONG)), DA_RC.AUTH_FAIL_S1);
      assert.equal(t.rc(da.parameters(1, 1, 1, LOCKOUT_PW)), DA_RC.LOCKOUT);
      assert.equal(t.property(PT.MAX_AUTH_FAIL), 3);
    });

    it('TPM2_Clear restores the manufacture defaults', () => {
      const t = new DaTpm();
      fail(t, sealed(t).handle, 1);
      t.ok(da.parameters(9, 99, 999));
      t.ok(da.clear());
      assert.deepEqual([...propertiesOut(t.ok(da.properties(PT.LOCKOUT_COUNTER, 4))).values()], [0, 3, 1000, 1000]);
    });
  });

  describe('bound sessions', () => {
    /** An HMAC session bound to `bind` (authValue bindAuth), run through t. */
    const boundSession = (t: DaTpm, bind: number, bindAuth: Buffer): ClientSession =>
      ClientSession.start((c) => parseResponse(t.tpm.execute(c).response), { bind }, bindAuth);
    const unsealWith = (t: DaTpm, s: ClientSession, h: { handle: number; name: Buffer }, authValue: Buffer): number =>
      t.rc(command(DA_CC.Unseal, [h.handle], [], [s.authCommand(0x15e, [h.name], Buffer.alloc(0), { authValue })]));

    it('a session bound to a DA-protected object counts HMAC failures even on a noDA object, and is refused in lockout', () => {
      const t = new DaTpm();
      const protectedObject = sealed(t);
      const exempt = sealed(t, true);
      const unbound = ClientSession.start((c) => parseResponse(t.tpm.execute(c).response));
      assert.equal(unsealWith(t, unbound, exempt, WRONG), DA_RC.BAD_AUTH_S1);
      assert.equal(t.failedTries, 0);
      const bound = boundSession(t, protectedObject.handle, PW);
      assert.equal(unsealWith(t, bound, exempt, WRONG), DA_RC.AUTH_FAIL_S1);
      assert.equal(t.failedTries, 1);
      fail(t, protectedObject.handle, 2);
      assert.equal(unsealWith(t, bound, exempt, PW), DA_RC.LOCKOUT);
      assert.equal(unsealWith(t, unbound, exempt, PW), 0);
    });

    it('a session bound to lockout: its HMAC failures disable lockoutAuth', () => {
      const t = new DaTpm();
      t.ok(da.changeAuth(DA_RH.LOCKOUT, LOCKOUT_PW));
      const exempt = sealed(t, true);
      const bound = boundSession(t, DA_RH.LOCKOUT, LOCKOUT_PW);
      assert.equal(unsealWith(t, bound, exempt, WRONG), DA_RC.AUTH_FAIL_S1);
      assert.equal(t.failedTries, 0);
      assert.equal(t.rc(da.lockReset(LOCKOUT_PW)), DA_RC.LOCKOUT);
      assert.equal(unsealWith(t, bound, exempt, PW), DA_RC.LOCKOUT);
    });
  });
});
