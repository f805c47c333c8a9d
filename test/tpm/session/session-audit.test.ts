/**
 * Audit sessions (Part 1 §19.6.6) and GetSessionAuditDigest (Part 3 §18.5) through Tpm.execute:
 * the digest is checked against the chain H(digest || cpHash || rpHash) computed here from the
 * commands and responses, exclusivity against the rules of the reference's UpdateAuditSessionStatus.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  ALG, ATTR, CC, ClientSession, RH, SE, command, hex, pwAuth, sha, splitSessionsResponse, startedTpm, tpm2b, u16, u32,
  type Response,
} from '../helpers/session-cmd.js';
import { ATTEST_CC, ATTEST_ST, attestResponse, verifiesAttest } from '../helpers/attest-cmd.js';
import { OBJ, createPrimaryCommand, eccKey, parseCreatePrimary, scheme } from '../helpers/key-cmd.js';

const AUDIT_EXCLUSIVE = 0x02;
const AUDIT_RESET = 0x04;
const RC = { EXCLUSIVE: 0x121, ATTRIBUTES_S1: 0x982, ATTRIBUTES_S2: 0xa82, TYPE_H3: 0x38a, VALUE_H3: 0x384 };
const EVENT = tpm2b(Buffer.from('audited event'));

/** The caller's copy of an audit digest: zeros, then H(digest || cpHash || rpHash) per audited command. */
class AuditChain {
  digest: Buffer;
  constructor(readonly alg: number) { this.digest = Buffer.alloc(sha(alg).length); }
  extend(cc: number, names: Buffer[], params: Buffer, responseParams: Buffer): void {
    const cp = sha(this.alg, u32(cc), ...names, params);
    const rp = sha(this.alg, u32(0), u32(cc), responseParams);
    this.digest = sha(this.alg, this.digest, cp, rp);
  }
}

function setup() {
  const { tpm, run } = startedTpm();
  /** A command with `s` as its only session; checks success and the response HMAC, returns the response attributes. */
  const withSession = (s: ClientSession, cc: number, handles: number[], params: Buffer, attributes: number, chain?: AuditChain): number => {
    const names = handles.map(u32);
    const r = run(command(cc, handles, [params], [s.authCommand(cc, names, params, { attributes })]));
    assert.equal(r.rc, 0, hex(r.rc));
    const { params: out, auths } = splitSessionsResponse(r, false);
    assert.ok(s.acceptResponse(cc, out, auths[0]!), 'response HMAC over the reported attributes');
    chain?.extend(cc, names, params, out);
    return auths[0]!.attributes;
  };
  const getRandom = (s: ClientSession, attributes: number, chain?: AuditChain): number =>
    withSession(s, CC.GetRandom, [], u16(8), attributes, chain);
  const sessionAudit = (h: number, sign: number = RH.NULL, qualifying = Buffer.alloc(0)): Response =>
    run(command(ATTEST_CC.GetSessionAuditDigest, [RH.ENDORSEMENT, sign, h], [tpm2b(qualifying), u16(ALG.NULL)], [pwAuth(), pwAuth()]));
  /** GetSessionAuditDigest unsigned: exclusiveSession and sessionDigest. */
  const audited = (h: number): { exclusive: number; digest: Buffer } => {
    const r = sessionAudit(h);
    assert.equal(r.rc, 0, hex(r.rc));
    const { info } = attestResponse(r.raw);
    assert.equal(info.type, ATTEST_ST.SESSION_AUDIT);
    return { exclusive: info.attested.u8(), digest: info.attested.b2() };
  };
  return { tpm, run, withSession, getRandom, sessionAudit, audited };
}

const AUDIT = ATTR.continueSession | ATTR.audit;

describe('audit sessions (Part 1 §19.6.6)', () => {
  it('an HMAC session auditing an authorized and an unauthorized command: the digest is the cpHash/rpHash chain, and the session is exclusive', () => {
    const { run, withSession, getRandom, audited } = setup();
    const s = ClientSession.start(run);
    const chain = new AuditChain(ALG.SHA256);
    assert.equal(withSession(s, CC.PCR_Event, [16], EVENT, AUDIT, chain), AUDIT | AUDIT_EXCLUSIVE);
    assert.equal(getRandom(s, AUDIT, chain), AUDIT | AUDIT_EXCLUSIVE);
    assert.equal(getRandom(s, AUDIT | AUDIT_EXCLUSIVE, chain), AUDIT | AUDIT_EXCLUSIVE, 'auditExclusive asked of the exclusive session');
    // Reported as exclusive; GetSessionAuditDigest itself runs without the session and so ends exclusivity.
    assert.deepEqual(audited(s.handle), { exclusive: 1, digest: chain.digest });
    assert.deepEqual(audited(s.handle), { exclusive: 0, digest: chain.digest });
  });

  it('the digest is in the session hash (SHA-384), and a session not used for audit is not audited', () => {
    const { run, withSession, getRandom, audited, sessionAudit } = setup();
    const s = ClientSession.start(run, { authHash: ALG.SHA384 });
    const plain = ClientSession.start(run);
    withSession(plain, CC.PCR_Event, [16], EVENT, ATTR.continueSession);
    assert.equal(sessionAudit(plain.handle).rc, RC.TYPE_H3);
    const chain = new AuditChain(ALG.SHA384);
    getRandom(s, AUDIT, chain);
    withSession(plain, CC.PCR_Event, [16], EVENT, ATTR.continueSession);
    getRandom(s, AUDIT, chain);
    assert.deepEqual(audited(s.handle), { exclusive: 0, digest: chain.digest });
  });

  it('exclusivity: lost to a command without the session, then auditExclusive is TPM_RC_EXCLUSIVE until auditReset restarts the digest', () => {
    const { run, getRandom, audited } = setup();
    const s = ClientSession.start(run);
    let chain = new AuditChain(ALG.SHA256);
    getRandom(s, AUDIT, chain);
    assert.equal(run(command(CC.GetRandom, [], [u16(4)])).rc, 0, 'a command without sessions');
    assert.equal(getRandom(s, AUDIT, chain), AUDIT, 'no longer exclusive');
    const refused = run(command(CC.GetRandom, [], [u16(8)], [s.authCommand(CC.GetRandom, [], u16(8), { attributes: AUDIT | AUDIT_EXCLUSIVE })]));
    assert.equal(refused.rc, RC.EXCLUSIVE);
    chain = new AuditChain(ALG.SHA256);
    assert.equal(getRandom(s, AUDIT | AUDIT_RESET | AUDIT_EXCLUSIVE, chain), AUDIT | AUDIT_RESET | AUDIT_EXCLUSIVE);
    assert.deepEqual(audited(s.handle), { exclusive: 1, digest: chain.digest });
  });

  it('another audit session takes exclusivity; ContextSave / FlushContext (no sessions allowed) leave it', () => {
    const { run, getRandom, audited } = setup();
    const a = ClientSession.start(run);
    const b = ClientSession.start(run);
    getRandom(a, AUDIT);
    getRandom(b, AUDIT);
    assert.equal(getRandom(a, AUDIT), AUDIT, 'b took exclusivity');
    // StartAuthSession, a command that may have sessions, would end exclusivity: it comes first.
    const other = ClientSession.start(run);
    const chain = new AuditChain(ALG.SHA256);
    getRandom(b, AUDIT | AUDIT_RESET, chain);
    assert.equal(run(command(CC.FlushContext, [], [u32(other.handle)])).rc, 0);
    assert.deepEqual(audited(b.handle), { exclusive: 1, digest: chain.digest });
  });

  it('refused: audit on a policy session (ATTRIBUTES + S1), on two sessions (ATTRIBUTES + S2), on a password session; GetSessionAuditDigest of a policy handle is VALUE + H3', () => {
    const { run } = setup();
    const policy = ClientSession.start(run, { type: SE.POLICY });
    const a = ClientSession.start(run);
    const b = ClientSession.start(run);
    const rand = (...auths: Buffer[]): number => run(command(CC.GetRandom, [], [u16(8)], auths)).rc;
    assert.equal(rand(policy.authCommand(CC.GetRandom, [], u16(8), { attributes: AUDIT })), RC.ATTRIBUTES_S1);
    assert.equal(rand(a.authCommand(CC.GetRandom, [], u16(8), { attributes: AUDIT }), b.authCommand(CC.GetRandom, [], u16(8), { attributes: AUDIT })), RC.ATTRIBUTES_S2);
    assert.equal(run(command(CC.PCR_Event, [16], [EVENT], [pwAuth(Buffer.alloc(0), AUDIT)])).rc, RC.ATTRIBUTES_S1);
    const r = run(command(ATTEST_CC.GetSessionAuditDigest, [RH.ENDORSEMENT, RH.NULL, policy.handle], [tpm2b(Buffer.alloc(0)), u16(ALG.NULL)], [pwAuth(), pwAuth()]));
    assert.equal(r.rc, RC.VALUE_H3);
  });

  it('a signed session audit: TPMS_SESSION_AUDIT_INFO under an ECDSA key, verified by node:crypto', () => {
    const { run, tpm, getRandom, sessionAudit } = setup();
    const template = eccKey(OBJ.sign, scheme(0x18, ALG.SHA256));
    const key = parseCreatePrimary(template, Buffer.from(tpm.execute(createPrimaryCommand(template)).response));
    const s = ClientSession.start(run);
    const chain = new AuditChain(ALG.SHA256);
    getRandom(s, AUDIT, chain);
    const qualifying = randomBytes(20);
    const { attest, info, signature } = attestResponse(sessionAudit(s.handle, key.handle, qualifying).raw);
    assert.deepEqual(info.extraData, qualifying);
    assert.deepEqual([info.attested.u8(), info.attested.b2()], [1, chain.digest]);
    assert.ok(verifiesAttest(key, attest, signature));
  });
});
