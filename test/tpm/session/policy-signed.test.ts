/**
 * PolicySigned, PolicyTicket, PolicyAuthorize and PolicyAuthorizeNV (Part 3 §23.3, §23.5, §23.16,
 * §23.22): signatures made by the TPM's own Sign over the aHash written out here, tickets replayed
 * and tampered with, approved policies unsealing an object, and the errors with their numbers.
 */
import assert from 'node:assert/strict';
import { command, pwAuth, tpm2b, u16, u32 } from '../helpers/tpm-wire.js';
import { hex, sha } from '../helpers/session-cmd.js';
import { ALG, OBJ, eccKey, parseCreatePrimary, createPrimaryCommand, responseParams, scheme, signCommand } from '../helpers/key-cmd.js';
import { NVA, nv, readPublicOut } from '../helpers/nv-cmd.js';
import {
  EMPTY, OWNER, PCC, POLICY, SHA256, TRIAL, ZERO, policySecret, policyTpm, policyUpdate, ticketOf,
} from '../helpers/policy-cmd.js';

const RC = {
  SIGNATURE_P5: 0x5db, SCHEME_P5: 0x5d2, TICKET_P5: 0x5e0, ATTRIBUTES_H1: 0x182, SIZE_P1: 0x1d5,
  VALUE_P1: 0x1c4, VALUE_P4: 0x4c4, SIZE_P3: 0x3d5, HASH_P3: 0x3c3, VALUE: 0x084, HASH: 0x083, NV_UNINITIALIZED: 0x14a,
  POLICY_FAIL_S1: 0x99d,
} as const;
const ST_VERIFIED = 0x8022;
const rc = (r: { rc: number }, expected: number, what: string): void => assert.equal(hex(r.rc), hex(expected), what);
const ext = (old: Buffer, cc: number, ...parts: Buffer[]): Buffer => sha(SHA256, old, u32(cc), ...parts);

interface SignedArgs { nonceTPM?: Buffer; cpHashA?: Buffer; policyRef?: Buffer; expiration?: number }

function signedTpm() {
  const t = policyTpm();
  const template = eccKey(OBJ.sign, scheme(ALG.ECDSA, ALG.SHA256));
  const key = parseCreatePrimary(template, t.must(createPrimaryCommand(template)).raw);
  /** TPMT_SIGNATURE by the key over `digest`, made by the TPM. */
  const signature = (digest: Buffer): Buffer => Buffer.from(responseParams(t.must(signCommand(key.handle, digest, scheme(ALG.NULL))).raw));
  const aHash = (a: SignedArgs): Buffer =>
    sha(SHA256, a.nonceTPM ?? EMPTY, u32((a.expiration ?? 0) >>> 0), a.cpHashA ?? EMPTY, a.policyRef ?? EMPTY);
  const policySigned = (s: number, a: SignedArgs, auth = signature(aHash(a))) => t.run(command(PCC.PolicySigned, [key.handle, s], [
    tpm2b(a.nonceTPM ?? EMPTY), tpm2b(a.cpHashA ?? EMPTY), tpm2b(a.policyRef ?? EMPTY), u32((a.expiration ?? 0) >>> 0), auth,
  ]));
  const policyTicket = (s: number, timeout: Buffer, authName: Buffer, ticket: Buffer, a: SignedArgs = {}) =>
    t.run(command(PCC.PolicyTicket, [s], [tpm2b(timeout), tpm2b(a.cpHashA ?? EMPTY), tpm2b(a.policyRef ?? EMPTY), tpm2b(authName), ticket]));
  return { ...t, key, signature, aHash, policySigned, policyTicket };
}

const ticketBytes = (tk: { tag: number; hierarchy: number; digest: Buffer }): Buffer =>
  Buffer.concat([u16(tk.tag), u32(tk.hierarchy), tpm2b(tk.digest)]);

describe('PolicySigned, PolicyTicket, PolicyAuthorize, PolicyAuthorizeNV', () => {
  describe('PolicySigned', () => {
    it('a signature over H(nonceTPM || expiration || cpHashA || policyRef) extends H(H(old || cc || keyName) || policyRef)', () => {
      const t = signedTpm();
      const s = t.start(POLICY);
      const a = { nonceTPM: s.nonceTPM, policyRef: Buffer.from('ref'), expiration: 10 };
      rc(t.policySigned(s.handle, a), 0, 'PolicySigned');
      assert.deepEqual(t.digest(s.handle), policyUpdate(ZERO, PCC.PolicySigned, t.key.name, Buffer.from('ref')));
      const tr = t.start(TRIAL);
      rc(t.policySigned(tr.handle, {}, Buffer.from(u16(0x10))), 0, 'a trial session checks no signature');
      assert.deepEqual(t.digest(tr.handle), policyUpdate(ZERO, PCC.PolicySigned, t.key.name, EMPTY));
    });

    it('a signature over anything else is TPM_RC_SIGNATURE + P5; a NULL signature TPM_RC_SCHEME + P5; a wrong nonce NONCE + P1', () => {
      const t = signedTpm();
      const s = t.start(POLICY);
      rc(t.policySigned(s.handle, { nonceTPM: s.nonceTPM }, t.signature(t.aHash({ nonceTPM: s.nonceTPM, expiration: 1 }))), RC.SIGNATURE_P5, 'other aHash');
      rc(t.policySigned(s.handle, {}, Buffer.from(u16(0x10))), RC.SCHEME_P5, 'TPM_ALG_NULL');
      rc(t.policySigned(s.handle, { nonceTPM: Buffer.alloc(32, 1) }), 0x1cf, 'other nonce');
      assert.deepEqual(t.digest(s.handle), ZERO);
    });

    it('a negative expiration gives an AUTH_SIGNED ticket that PolicyTicket replays to the same digest; a changed ticket is TICKET + P5', () => {
      const t = signedTpm();
      const s = t.start(POLICY);
      const a = { cpHashA: Buffer.alloc(32, 3), policyRef: Buffer.from('r'), expiration: -100 };
      const r = t.policySigned(s.handle, a);
      rc(r, 0, 'PolicySigned with a ticket');
      const tk = ticketOf(r);
      assert.deepEqual([tk.tag, tk.hierarchy, tk.timeout.length], [0x8025, OWNER, 8]);
      const s2 = t.start(POLICY);
      rc(t.policyTicket(s2.handle, tk.timeout, t.key.name, ticketBytes(tk), a), 0, 'PolicyTicket');
      assert.deepEqual(t.digest(s2.handle), t.digest(s.handle));
      const s3 = t.start(POLICY);
      const bad = { ...tk, digest: Buffer.from(tk.digest.map((b, i) => (i === 0 ? b ^ 1 : b))) };
      rc(t.policyTicket(s3.handle, tk.timeout, t.key.name, ticketBytes(bad), a), RC.TICKET_P5, 'changed digest');
      rc(t.policyTicket(s3.handle, tk.timeout, t.key.name, ticketBytes(tk), { ...a, policyRef: Buffer.from('x') }), RC.TICKET_P5, 'other policyRef');
      rc(t.policyTicket(s3.handle, tk.timeout.subarray(0, 4), t.key.name, ticketBytes(tk), a), RC.SIZE_P1, '4-octet timeout');
      rc(t.policyTicket(t.start(TRIAL).handle, tk.timeout, t.key.name, ticketBytes(tk), a), RC.ATTRIBUTES_H1, 'trial session');
      t.clock.ms = 200_000;
      rc(t.policyTicket(s3.handle, tk.timeout, t.key.name, ticketBytes(tk), a), 0x1e3, 'expired ticket: EXPIRED + P1');
    });

    it('PolicyTicket replays a PolicySecret ticket as PolicySecret', () => {
      const t = signedTpm();
      const s = t.start(POLICY);
      const tk = ticketOf(t.must(policySecret(OWNER, s.handle, { nonceTPM: s.nonceTPM, expiration: -30 })));
      const s2 = t.start(POLICY);
      rc(t.policyTicket(s2.handle, tk.timeout, u32(OWNER), ticketBytes(tk)), 0, 'PolicyTicket');
      assert.deepEqual(t.digest(s2.handle), policyUpdate(ZERO, PCC.PolicySecret, u32(OWNER), EMPTY));
    });
  });

  describe('PolicyAuthorize', () => {
    const approved = ext(ZERO, PCC.PolicyCommandCode, u32(PCC.Unseal));
    const ref = Buffer.from('approved by the key');

    function authorized() {
      const t = signedTpm();
      const aHash = sha(SHA256, approved, ref);
      const v = t.must(command(PCC.VerifySignature, [t.key.handle], [tpm2b(aHash), t.signature(aHash)]));
      const ticket = Buffer.from(v.body);
      assert.equal(ticket.readUInt16BE(0), ST_VERIFIED);
      const authorize = (s: number, a: { approvedPolicy?: Buffer; keySign?: Buffer; ticket?: Buffer } = {}) => t.run(command(PCC.PolicyAuthorize, [s], [
        tpm2b(a.approvedPolicy ?? approved), tpm2b(ref), tpm2b(a.keySign ?? t.key.name), a.ticket ?? ticket,
      ]));
      return { ...t, ticket, authorize };
    }

    it('replaces an approved policy by H(H(0...0 || cc || keySign) || policyRef), which unseals', () => {
      const t = authorized();
      const policy = policyUpdate(ZERO, PCC.PolicyAuthorize, t.key.name, ref);
      const o = t.sealed(policy);
      const s = t.start(POLICY);
      t.must(command(PCC.PolicyCommandCode, [s.handle], [u32(PCC.Unseal)]));
      rc(t.authorize(s.handle), 0, 'PolicyAuthorize');
      assert.deepEqual(t.digest(s.handle), policy);
      rc(t.unseal(o.handle, s.handle), 0, 'unseal');
      const tr = t.start(TRIAL);
      rc(t.authorize(tr.handle, { ticket: Buffer.concat([u16(ST_VERIFIED), u32(0x40000007), u16(0)]) }), 0, 'trial: no ticket needed');
      assert.deepEqual(t.digest(tr.handle), policy);
    });

    it('errors: another policy (VALUE + P1), another ticket (VALUE + P4), keySign too short (SIZE + P3) or of no hash (HASH + P3)', () => {
      const t = authorized();
      const s = t.start(POLICY);
      rc(t.authorize(s.handle), RC.VALUE_P1, 'the session digest is not the approved policy');
      t.must(command(PCC.PolicyCommandCode, [s.handle], [u32(PCC.Unseal)]));
      const nullTicket = Buffer.concat([u16(ST_VERIFIED), u32(0x40000007), u16(0)]);
      rc(t.authorize(s.handle, { ticket: nullTicket }), RC.VALUE_P4, 'NULL ticket');
      rc(t.authorize(s.handle, { keySign: Buffer.from([0]) }), RC.SIZE_P3, '1-octet keySign');
      rc(t.authorize(s.handle, { keySign: Buffer.concat([u16(0x0099), Buffer.alloc(32)]) }), RC.HASH_P3, 'no such hash');
      rc(t.authorize(s.handle, { keySign: Buffer.concat([u16(SHA256), Buffer.alloc(20)]) }), RC.SIZE_P3, 'SHA-256 with 20 octets');
      rc(t.authorize(s.handle), 0, 'and the right one still works');
    });
  });

  describe('PolicyAuthorizeNV', () => {
    const INDEX = 0x01500050;
    const approved = ext(ZERO, PCC.PolicyCommandCode, u32(PCC.Unseal));
    function nvAuthorized(content?: Buffer) {
      const t = policyTpm();
      t.must(nv.define(OWNER, { index: INDEX, attributes: NVA.AUTHWRITE | NVA.AUTHREAD | NVA.NO_DA, size: 34 }));
      if (content) t.must(nv.write(INDEX, INDEX, content));
      const { name } = readPublicOut(t.run(nv.readPublic(INDEX)).raw);
      const authorizeNv = (s: number) => t.run(command(PCC.PolicyAuthorizeNV, [INDEX, INDEX, s], [], [pwAuth()]));
      return { ...t, name: Buffer.from(name), authorizeNv };
    }

    it('the TPMT_HA in the index approves the policy: H(0...0 || cc || nvName), no policyRef; it unseals', () => {
      const t = nvAuthorized(Buffer.concat([u16(SHA256), approved]));
      const policy = ext(ZERO, PCC.PolicyAuthorizeNV, t.name);
      const o = t.sealed(policy);
      const s = t.start(POLICY);
      rc(t.authorizeNv(s.handle), RC.VALUE, 'not yet the approved policy: TPM_RC_VALUE');
      t.must(command(PCC.PolicyCommandCode, [s.handle], [u32(PCC.Unseal)]));
      rc(t.authorizeNv(s.handle), 0, 'PolicyAuthorizeNV');
      assert.deepEqual(t.digest(s.handle), policy);
      rc(t.unseal(o.handle, s.handle), 0, 'unseal');
    });

    it('an index with another hash is TPM_RC_HASH, an unwritten one NV_UNINITIALIZED; a trial session reads nothing', () => {
      const sha1 = nvAuthorized(Buffer.concat([u16(0x0004), Buffer.alloc(20), Buffer.alloc(12)]));
      rc(sha1.authorizeNv(sha1.start(POLICY).handle), RC.HASH, 'SHA-1 policy for a SHA-256 session');
      const empty = nvAuthorized();
      rc(empty.authorizeNv(empty.start(POLICY).handle), RC.NV_UNINITIALIZED, 'unwritten');
      const tr = empty.start(TRIAL);
      rc(empty.authorizeNv(tr.handle), 0, 'trial');
      assert.deepEqual(empty.digest(tr.handle), ext(ZERO, PCC.PolicyAuthorizeNV, empty.name));
    });
  });
});
