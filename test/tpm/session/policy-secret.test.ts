/**
 * PolicySecret (Part 3 §23.4) through raw command bytes: the digest from its formula, the
 * parameter checks with their numbers, the ticket, and the timeout and cpHash checked at use.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { command, pwAuth, tpm2b, u16, u32 } from '../helpers/tpm-wire.js';
import { hex } from '../helpers/session-cmd.js';
import { readPublicOut } from '../helpers/hierarchy-cmd.js';
import {
  EMPTY, ENDORSEMENT, NULL_RH, OWNER, PCC, POLICY, SHA256, TRIAL, ZERO, policyAuthArea, policySecret, policyTpm, policyUpdate, ticketOf,
} from '../helpers/policy-cmd.js';

const u32name = (h: number): Buffer => u32(h);
/** The policy sealed objects use here: PolicySecret(owner) with an empty policyRef. */
const SECRET_OWNER = policyUpdate(ZERO, PCC.PolicySecret, u32name(OWNER), EMPTY);
const rc = (r: { rc: number }, expected: number, what: string): void => assert.equal(hex(r.rc), hex(expected), what);

describe('PolicySecret (Part 3 §23.4)', () => {
  it('extends H(H(digest || TPM_CC_PolicySecret || authName) || policyRef) in trial sessions, with no ticket', () => {
    const t = policyTpm();
    const s = t.start(TRIAL);
    const ref = Buffer.from('ref');
    const r = t.must(policySecret(ENDORSEMENT, s.handle, { policyRef: ref, expiration: -10 }));
    assert.deepEqual(t.digest(s.handle), policyUpdate(ZERO, PCC.PolicySecret, u32name(ENDORSEMENT), ref));
    const tk = ticketOf(r);
    assert.deepEqual([tk.timeout.length, tk.tag, tk.hierarchy, tk.digest.length], [0, 0x8023, NULL_RH, 0]);
    // An object's Name: the digest follows it.
    const o = t.sealed(EMPTY);
    const s2 = t.start(TRIAL);
    t.must(policySecret(o.parent, s2.handle));
    const { name } = readPublicOut(t.run(command(0x173, [o.parent], [])).raw);
    assert.deepEqual(t.digest(s2.handle), policyUpdate(ZERO, PCC.PolicySecret, name, EMPTY));
  });

  it('authHandle needs its authorization: a wrong password is TPM_RC_BAD_AUTH + S1 for the owner', () => {
    const t = policyTpm();
    const s = t.start(POLICY);
    rc(t.run(policySecret(OWNER, s.handle, { auth: pwAuth(Buffer.from('x')) })), 0x9a2, 'BAD_AUTH (owner is DA-exempt)');
    rc(t.run(command(PCC.PolicySecret, [OWNER, s.handle], [u32(0), u32(0), u32(0)])), 0x125, 'no sessions: AUTH_MISSING');
  });

  it('checks nonceTPM (NONCE + P1), cpHashA size (SIZE + P2) and expiration (EXPIRED + P4) in a policy session', () => {
    const t = policyTpm();
    const s = t.start(POLICY);
    rc(t.run(policySecret(OWNER, s.handle, { nonceTPM: Buffer.alloc(32, 1) })), 0x1cf, 'wrong nonceTPM');
    rc(t.run(policySecret(OWNER, s.handle, { cpHashA: Buffer.alloc(20) })), 0x2d5, 'cpHashA not 32 octets');
    t.clock.ms = 2500;
    rc(t.run(policySecret(OWNER, s.handle, { nonceTPM: s.nonceTPM, expiration: 2 })), 0x4e3, 'expired 2 s after the session start');
    assert.deepEqual(t.digest(s.handle), ZERO, 'failed assertions leave the digest');
    t.must(policySecret(OWNER, s.handle, { nonceTPM: s.nonceTPM, expiration: 3 }));
    assert.deepEqual(t.digest(s.handle), SECRET_OWNER);
    // Trial sessions check nothing.
    const tr = t.start(TRIAL);
    t.must(policySecret(OWNER, tr.handle, { nonceTPM: Buffer.alloc(32, 1), cpHashA: Buffer.alloc(20) }));
  });

  it('a second, different cpHashA is TPM_RC_CPHASH', () => {
    const t = policyTpm();
    const s = t.start(POLICY);
    t.must(policySecret(OWNER, s.handle, { cpHashA: Buffer.alloc(32, 1) }));
    t.must(policySecret(OWNER, s.handle, { cpHashA: Buffer.alloc(32, 1) }));
    rc(t.run(policySecret(OWNER, s.handle, { cpHashA: Buffer.alloc(32, 2) })), 0x151, 'CPHASH');
  });

  it('negative expiration gives a TPMT_TK_AUTH (AUTH_SECRET, owner) and an 8-octet timeout; with no nonceTPM its MSB is set', () => {
    const t = policyTpm();
    t.clock.ms = 1234;
    const s = t.start(POLICY);
    const withNonce = ticketOf(t.must(policySecret(OWNER, s.handle, { nonceTPM: s.nonceTPM, expiration: -60 })));
    assert.equal(withNonce.tag, 0x8023);
    assert.equal(withNonce.hierarchy, OWNER);
    assert.equal(withNonce.digest.length, 64, 'SHA-512 HMAC (TPM_PT_CONTEXT_HASH)');
    assert.equal(withNonce.timeout.readBigUInt64BE(0), 1234n + 60_000n, 'session start + 60 s');
    const s2 = t.start(POLICY);
    const absolute = ticketOf(t.must(policySecret(ENDORSEMENT, s2.handle, { expiration: -5 })));
    assert.equal(absolute.hierarchy, ENDORSEMENT);
    assert.equal(absolute.timeout.readBigUInt64BE(0), (1n << 63n) | (5000n + 234n), 'absolute 5 s + the ms fraction, expires on reset');
    const s3 = t.start(POLICY);
    const none = ticketOf(t.must(policySecret(OWNER, s3.handle, { expiration: 10 })));
    assert.deepEqual([none.timeout.length, none.hierarchy, none.digest.length], [0, NULL_RH, 0], 'positive expiration: no ticket');
  });

  describe('at use', () => {
    it('PolicySecret(owner) unseals; the policy is reset after use', () => {
      const t = policyTpm();
      const o = t.sealed(SECRET_OWNER);
      const s = t.start(POLICY);
      rc(t.unseal(o.handle, s.handle), 0x99d, 'POLICY_FAIL + S1 without the assertion');
      t.must(policySecret(OWNER, s.handle));
      const r = t.unseal(o.handle, s.handle);
      rc(r, 0, 'unseal');
      assert.ok(r.body.includes(Buffer.from('secret')));
      assert.deepEqual(t.digest(s.handle), ZERO);
    });

    it('a timeout that passed before use is TPM_RC_EXPIRED + S1', () => {
      const t = policyTpm();
      const o = t.sealed(SECRET_OWNER);
      const s = t.start(POLICY);
      t.must(policySecret(OWNER, s.handle, { nonceTPM: s.nonceTPM, expiration: 2 }));
      t.clock.ms = 1999;
      rc(t.unseal(o.handle, s.handle), 0, 'within 2 s of the session start');
      // Without nonceTPM, expiration is absolute time: 2 s plus the current millisecond fraction (2999).
      t.must(policySecret(OWNER, s.handle, { expiration: 2 }));
      t.clock.ms = 3000;
      rc(t.unseal(o.handle, s.handle), 0x9a3, 'EXPIRED + S1');
    });

    it('cpHashA binds the command: H(TPM_CC_Unseal || name) unseals that object only (else POLICY_FAIL + S1)', () => {
      const t = policyTpm();
      const o = t.sealed(SECRET_OWNER);
      const cp = createHash('sha256').update(u32(PCC.Unseal)).update(o.name).digest();
      const s = t.start(POLICY);
      t.must(policySecret(OWNER, s.handle, { cpHashA: cp }));
      rc(t.unseal(o.handle, s.handle), 0, 'matching cpHash');
      t.must(policySecret(OWNER, s.handle, { cpHashA: Buffer.alloc(32, 9) }));
      rc(t.unseal(o.handle, s.handle), 0x99d, 'other cpHash');
      // The session did not continue past the failure's assertions: PolicyRestart clears the cpHash.
      t.must(command(PCC.PolicyRestart, [s.handle], []));
      t.must(policySecret(OWNER, s.handle));
      rc(t.unseal(o.handle, s.handle), 0, 'after PolicyRestart');
    });

    it('a policy session authorizing PolicySecret\'s authHandle must need the authValue (TPM_RC_MODE + S1)', () => {
      const t = policyTpm();
      const ownerPolicy = policyUpdate(ZERO, PCC.PolicySecret, u32name(OWNER), EMPTY);
      t.must(command(0x12e, [OWNER], [tpm2b(ownerPolicy), u16(SHA256)], [pwAuth()]), 'SetPrimaryPolicy');
      const inner = t.start(POLICY);
      const outer = t.start(POLICY);
      rc(t.run(policySecret(OWNER, outer.handle, { auth: policyAuthArea(inner.handle) })), 0x989, 'MODE');
    });
  });
});
