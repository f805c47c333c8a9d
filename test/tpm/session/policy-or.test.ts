import assert from 'node:assert/strict';
import { ALG, ClientSession, SE, command, policyDigestOf, pwAuth, sha, startedTpm, tpm2b, u32 } from '../helpers/session-cmd.js';

const CC_POLICY_SECRET = 0x151;
const CC_POLICY_OR = 0x171;
const EMPTY = Buffer.alloc(0);
const secret = (auth: number, h: number, nonce = EMPTY, expiration = 0): Buffer =>
  command(CC_POLICY_SECRET, [auth, h], [tpm2b(nonce), tpm2b(EMPTY), tpm2b(EMPTY), u32(expiration)], [pwAuth()]);
const policyOr = (h: number, list: Buffer[]): Buffer => command(CC_POLICY_OR, [h], [u32(list.length), ...list.map(tpm2b)]);
const handleName = (h: number): Buffer => u32(h);

describe('PolicyOR, and the TCG EK policy digest (Part 3 §23.6, §23.4)', () => {
  it('PolicySecret(endorsement) gives the digest of the TCG EK template policy (PolicyUpdate, empty policyRef)', () => {
    const { run } = startedTpm();
    const t = ClientSession.start(run, { type: SE.TRIAL });
    assert.equal(run(secret(0x4000000b, t.handle)).rc, 0);
    const d = policyDigestOf(run, t.handle);
    assert.deepEqual(d, sha(ALG.SHA256, sha(ALG.SHA256, Buffer.alloc(32), u32(CC_POLICY_SECRET), handleName(0x4000000b))));
    // TCG EK Credential Profile, default EK authPolicy.
    assert.equal(d.toString('hex'), '837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa');
  });

  it('PolicyOR: H(0 || TPM_CC_PolicyOR || digests); a real session off every branch is VALUE + P1; one digest is SIZE + P1', () => {
    const { run } = startedTpm();
    const t = ClientSession.start(run, { type: SE.TRIAL });
    const a = Buffer.alloc(32, 1);
    const b = Buffer.alloc(32, 2);
    assert.equal(run(policyOr(t.handle, [a, b])).rc, 0);
    assert.deepEqual(policyDigestOf(run, t.handle), sha(ALG.SHA256, Buffer.alloc(32), u32(CC_POLICY_OR), a, b));
    const p = ClientSession.start(run, { type: SE.POLICY });
    assert.equal(run(policyOr(p.handle, [a, b])).rc, 0x1c4);
    assert.equal(run(policyOr(p.handle, [a])).rc, 0x1d5);
    assert.equal(run(policyOr(p.handle, [a, Buffer.alloc(32)])).rc, 0);
  });
});
