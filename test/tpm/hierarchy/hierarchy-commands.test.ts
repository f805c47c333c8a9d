import assert from 'node:assert/strict';
import { RH, RC, commands as c, eccStorageTemplate, hierarchyTpm, primaryOut, rcOf } from '../helpers/hierarchy-cmd.js';

const PASS = Buffer.from('newpass');
const SHA256 = 0x000b;
const NULL_ALG = 0x0010;

describe('Hierarchy commands (Part 3 §24)', () => {
  describe('Clear', () => {
    it('gives the storage hierarchy a new seed: the same template makes a different SRK', () => {
      const t = hierarchyTpm();
      const before = t.primaryPublic(RH.OWNER);
      assert.deepEqual(t.primaryPublic(RH.OWNER), before, 'deterministic before Clear');
      const endorsement = t.primaryPublic(RH.ENDORSEMENT);
      const platform = t.primaryPublic(RH.PLATFORM);
      t.ok(c.clear());
      assert.notDeepEqual(t.primaryPublic(RH.OWNER), before);
      assert.deepEqual(t.primaryPublic(RH.ENDORSEMENT), endorsement, 'the EPS is kept');
      assert.deepEqual(t.primaryPublic(RH.PLATFORM), platform, 'the PPS is kept');
    });

    it('empties owner, endorsement and lockout auth and policies, flushes their objects, resets the clock counters', () => {
      const t = hierarchyTpm();
      t.ok(c.setPrimaryPolicy(RH.OWNER, Buffer.alloc(32, 1), SHA256));
      for (const h of [RH.OWNER, RH.ENDORSEMENT, RH.LOCKOUT]) t.ok(c.changeAuth(h, PASS));
      const owned = primaryOut(t.ok(c.createPrimary(RH.OWNER, eccStorageTemplate(), PASS))).handle;
      const platformObject = primaryOut(t.ok(c.createPrimary(RH.PLATFORM))).handle;
      const counter = t.tpm.volatile.pcrUpdateCounter;
      t.ok(c.clear(RH.LOCKOUT, PASS));
      const p = t.tpm.persistent;
      assert.deepEqual([p.ownerAuth.length, p.endorsementAuth.length, p.lockoutAuth.length], [0, 0, 0]);
      assert.equal(p.hierarchyPolicies.size, 0);
      assert.equal(rcOf(t.run(c.readPublic(owned))), RC.REFERENCE_H0, 'owner object flushed');
      assert.equal(rcOf(t.run(c.readPublic(platformObject))), 0, 'platform object kept');
      assert.deepEqual([p.clock, p.resetCount, p.restartCount], [0n, 0, 0]);
      assert.equal(t.tpm.volatile.pcrUpdateCounter, counter + 1);
      t.ok(c.createPrimary(RH.OWNER));
    });

    it('accepts platform authorization, refuses owner (TPM_RC_VALUE H1) and a wrong lockout password', () => {
      const t = hierarchyTpm();
      t.ok(c.clear(RH.PLATFORM));
      assert.equal(rcOf(t.run(c.clear(RH.OWNER))), RC.VALUE + RC.H1);
      t.ok(c.changeAuth(RH.LOCKOUT, PASS));
      assert.equal(rcOf(t.run(c.clear(RH.LOCKOUT, Buffer.from('wrong')))), RC.AUTH_FAIL + RC.S1);
    });

    it('ClearControl: lockout sets disableClear (Clear is TPM_RC_DISABLED), only the platform clears it', () => {
      const t = hierarchyTpm();
      t.ok(c.clearControl(RH.LOCKOUT, true));
      assert.equal(t.tpm.persistent.disableClear, true);
      assert.equal(rcOf(t.run(c.clear())), RC.DISABLED);
      assert.equal(rcOf(t.run(c.clear(RH.PLATFORM))), RC.DISABLED);
      assert.equal(rcOf(t.run(c.clearControl(RH.LOCKOUT, false))), RC.AUTH_FAIL);
      assert.equal(rcOf(t.run(c.clearControl(RH.OWNER, false))), RC.VALUE + RC.H1);
      t.ok(c.clearControl(RH.PLATFORM, false));
      t.ok(c.clear());
    });
  });

  describe('HierarchyControl', () => {
    it('a disabled hierarchy refuses CreatePrimary (TPM_RC_HIERARCHY H1) and loses its loaded objects', () => {
      const t = hierarchyTpm();
      const { handle } = primaryOut(t.ok(c.createPrimary(RH.ENDORSEMENT)));
      t.ok(c.hierarchyControl(RH.ENDORSEMENT, RH.ENDORSEMENT, false));
      assert.equal(rcOf(t.run(c.createPrimary(RH.ENDORSEMENT))), RC.HIERARCHY + RC.H1);
      assert.equal(rcOf(t.run(c.readPublic(handle))), RC.REFERENCE_H0);
      t.ok(c.createPrimary(RH.OWNER));
      t.ok(c.hierarchyControl(RH.PLATFORM, RH.ENDORSEMENT, true));
      t.ok(c.createPrimary(RH.ENDORSEMENT));
    });

    it('who may change which flag (TPM_RC_AUTH_TYPE), and TPM_RC_VALUE P1 for no enable', () => {
      const t = hierarchyTpm();
      assert.equal(rcOf(t.run(c.hierarchyControl(RH.OWNER, RH.ENDORSEMENT, false))), RC.AUTH_TYPE);
      assert.equal(rcOf(t.run(c.hierarchyControl(RH.OWNER, RH.PLATFORM, false))), RC.AUTH_TYPE);
      assert.equal(rcOf(t.run(c.hierarchyControl(RH.ENDORSEMENT, RH.PLATFORM_NV, false))), RC.AUTH_TYPE);
      assert.equal(rcOf(t.run(c.hierarchyControl(RH.OWNER, RH.LOCKOUT, false))), RC.VALUE + RC.P1);
      assert.equal(rcOf(t.run(c.hierarchyControl(RH.LOCKOUT, RH.OWNER, false))), RC.VALUE + RC.H1);
      t.ok(c.hierarchyControl(RH.OWNER, RH.OWNER, false));
      assert.equal(rcOf(t.run(c.createPrimary(RH.OWNER))), RC.HIERARCHY + RC.H1);
      assert.equal(t.tpm.volatile.shEnable, false);
      t.ok(c.hierarchyControl(RH.PLATFORM, RH.OWNER, true));
      t.ok(c.hierarchyControl(RH.PLATFORM, RH.PLATFORM_NV, false));
      assert.equal(t.tpm.volatile.phEnableNV, false);
      t.ok(c.hierarchyControl(RH.PLATFORM, RH.PLATFORM, false));
      assert.equal(rcOf(t.run(c.createPrimary(RH.PLATFORM))), RC.HIERARCHY + RC.H1);
      assert.equal(rcOf(t.run(c.hierarchyControl(RH.PLATFORM, RH.PLATFORM, true))), RC.HIERARCHY + RC.H1, 'only a reboot brings it back');
    });

    it('a Resume keeps shEnable/ehEnable, a TPM Restart sets them again (TPMA_STARTUP_CLEAR)', () => {
      const t = hierarchyTpm();
      t.ok(c.hierarchyControl(RH.OWNER, RH.OWNER, false));
      t.ok(c.hierarchyControl(RH.ENDORSEMENT, RH.ENDORSEMENT, false));
      const cycle = (su: number): void => {
        t.ok(c.shutdown(1));
        t.tpm.init();
        t.ok(c.startup(su));
      };
      cycle(1);
      assert.deepEqual([t.tpm.volatile.shEnable, t.tpm.volatile.ehEnable], [false, false], 'Startup(STATE)');
      assert.equal(rcOf(t.run(c.createPrimary(RH.OWNER))), RC.HIERARCHY + RC.H1);
      cycle(0);
      assert.deepEqual([t.tpm.volatile.shEnable, t.tpm.volatile.ehEnable], [true, true], 'Startup(CLEAR)');
      t.ok(c.createPrimary(RH.OWNER));
    });
  });

  describe('HierarchyChangeAuth', () => {
    it('the new owner password is needed afterwards; the old one fails', () => {
      const t = hierarchyTpm();
      t.ok(c.changeAuth(RH.OWNER, PASS));
      // Hierarchies other than lockout are exempt from dictionary-attack protection: TPM_RC_BAD_AUTH.
      assert.equal(rcOf(t.run(c.createPrimary(RH.OWNER))), RC.BAD_AUTH + RC.S1);
      t.ok(c.createPrimary(RH.OWNER, eccStorageTemplate(), PASS));
      assert.equal(t.tpm.persistent.ownerAuth.toString(), new Uint8Array(PASS).toString());
      t.ok(c.changeAuth(RH.PLATFORM, PASS));
      assert.equal(rcOf(t.run(c.createPrimary(RH.PLATFORM))), RC.BAD_AUTH + RC.S1);
    });

    it('longer than the context integrity digest (32 octets after trailing zeros) is TPM_RC_SIZE P1', () => {
      const t = hierarchyTpm();
      assert.equal(rcOf(t.run(c.changeAuth(RH.OWNER, Buffer.alloc(33, 1)))), RC.SIZE + RC.P1);
      t.ok(c.changeAuth(RH.OWNER, Buffer.concat([Buffer.alloc(32, 1), Buffer.alloc(8)])));
      assert.equal(t.tpm.persistent.ownerAuth.length, 32, 'stored without trailing zeros');
    });
  });

  describe('SetPrimaryPolicy', () => {
    it('stores the policy (the platform one in volatile state) and clears it with an empty digest and TPM_ALG_NULL', () => {
      const t = hierarchyTpm();
      const policy = Buffer.alloc(32, 7);
      t.ok(c.setPrimaryPolicy(RH.ENDORSEMENT, policy, SHA256));
      assert.deepEqual(Buffer.from(t.tpm.persistent.hierarchyPolicies.get(RH.ENDORSEMENT)!.digest), policy);
      t.ok(c.setPrimaryPolicy(RH.PLATFORM, policy, SHA256));
      assert.deepEqual(Buffer.from(t.tpm.volatile.platformPolicy!.digest), policy);
      t.ok(c.setPrimaryPolicy(RH.ENDORSEMENT, Buffer.alloc(0), NULL_ALG));
      assert.equal(t.tpm.persistent.hierarchyPolicies.has(RH.ENDORSEMENT), false);
    });

    it('a digest not of the hash algorithm size is TPM_RC_SIZE P1; a bad algorithm TPM_RC_HASH P2', () => {
      const t = hierarchyTpm();
      assert.equal(rcOf(t.run(c.setPrimaryPolicy(RH.OWNER, Buffer.alloc(20), SHA256))), RC.SIZE + RC.P1);
      assert.equal(rcOf(t.run(c.setPrimaryPolicy(RH.OWNER, Buffer.alloc(32), NULL_ALG))), RC.SIZE + RC.P1);
      assert.equal(rcOf(t.run(c.setPrimaryPolicy(RH.OWNER, Buffer.alloc(32), 0x0006))), 0x083 + RC.P2);
    });
  });

  describe('ChangePPS / ChangeEPS', () => {
    it('ChangeEPS gives a new EK, empties the endorsement auth and flushes its objects; other hierarchies keep theirs', () => {
      const t = hierarchyTpm();
      const ek = t.primaryPublic(RH.ENDORSEMENT);
      const srk = t.primaryPublic(RH.OWNER);
      t.ok(c.changeAuth(RH.ENDORSEMENT, PASS));
      const { handle } = primaryOut(t.ok(c.createPrimary(RH.ENDORSEMENT, eccStorageTemplate(), PASS)));
      t.ok(c.changeEps());
      assert.equal(rcOf(t.run(c.readPublic(handle))), RC.REFERENCE_H0);
      assert.equal(t.tpm.persistent.endorsementAuth.length, 0);
      assert.notDeepEqual(t.primaryPublic(RH.ENDORSEMENT), ek);
      assert.deepEqual(t.primaryPublic(RH.OWNER), srk);
    });

    it('ChangePPS gives new platform primaries; both need platform authorization (TPM_RC_VALUE H1 otherwise)', () => {
      const t = hierarchyTpm();
      const pk = t.primaryPublic(RH.PLATFORM);
      const ek = t.primaryPublic(RH.ENDORSEMENT);
      t.ok(c.changePps());
      assert.notDeepEqual(t.primaryPublic(RH.PLATFORM), pk);
      assert.deepEqual(t.primaryPublic(RH.ENDORSEMENT), ek);
      const asOwner = (cc: Buffer): Buffer => { cc.writeUInt32BE(RH.OWNER, 10); return cc; };
      assert.equal(rcOf(t.run(asOwner(c.changePps()))), RC.VALUE + RC.H1);
      assert.equal(rcOf(t.run(asOwner(c.changeEps()))), RC.VALUE + RC.H1);
    });
  });
});
