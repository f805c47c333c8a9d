import assert from 'node:assert/strict';
import {
  ALG, CC, ClientSession, SE, command, hex, pcrSelection, policyDigestOf, policyPcrCommand, pwAuth,
  sha, splitSessionsResponse, startedTpm, tpm2b, u16, u32,
} from '../helpers/session-cmd.js';

/** Policy digests swtpm 0.7.1 (libtpms) computed with tpm2_policypcr on a fresh TPM (all PCRs zero). */
const SWTPM = {
  sha256Pcr0: '093ceb41181d47808862d7946268ee6a17a10e3d1b79b32351bc56e4beaceff0',
  sha256Pcr012Sha384Pcr0: 'd1fcad2be43ca3405941b5695f8ddb7f6baa92491a335778a2a1c3f8ecffd984',
  sha384SessionSha256Pcr0: '5efc4f1b7a953599204db389db1572f5e6d56aa9af911b0f593fb91adebb83921040a3651c0677bea6f640b2615607ea',
};
const SEL0 = pcrSelection([{ alg: ALG.SHA256, pcrs: [0] }]);
const extend = (pcr: number): Buffer =>
  command(CC.PCR_Extend, [pcr], [Buffer.concat([u32(1), u16(ALG.SHA256), Buffer.alloc(32, pcr)])], [pwAuth()]);

describe('PolicyPCR, PolicyGetDigest, PolicyRestart (Part 3 §23.7, §23.19, §11.2)', () => {
  it('trial session + PolicyPCR(sha256:0) on a fresh TPM gives the digest swtpm gives', () => {
    const { run } = startedTpm();
    const t = ClientSession.start(run, { type: SE.TRIAL });
    assert.equal(t.handle, 0x03000000);
    assert.equal(policyDigestOf(run, t.handle).toString('hex'), '00'.repeat(32));
    assert.equal(run(policyPcrCommand(t.handle, Buffer.alloc(0), SEL0)).rc, 0);
    const digest = policyDigestOf(run, t.handle);
    assert.equal(digest.toString('hex'), SWTPM.sha256Pcr0);
    // The same from the definition: H(0 || TPM_CC_PolicyPCR || pcrs || H(PCR0)).
    assert.deepEqual(digest, sha(ALG.SHA256, Buffer.alloc(32), u32(CC.PolicyPCR), SEL0, sha(ALG.SHA256, Buffer.alloc(32))));
  });

  it('matches swtpm for two banks and for a SHA-384 session', () => {
    const { run } = startedTpm();
    const t = ClientSession.start(run, { type: SE.TRIAL });
    const sel = pcrSelection([{ alg: ALG.SHA256, pcrs: [0, 1, 2] }, { alg: ALG.SHA384, pcrs: [0] }]);
    assert.equal(run(policyPcrCommand(t.handle, Buffer.alloc(0), sel)).rc, 0);
    assert.equal(policyDigestOf(run, t.handle).toString('hex'), SWTPM.sha256Pcr012Sha384Pcr0);
    const p = ClientSession.start(run, { type: SE.POLICY, authHash: ALG.SHA384 });
    assert.equal(run(policyPcrCommand(p.handle, Buffer.alloc(0), SEL0)).rc, 0);
    assert.equal(policyDigestOf(run, p.handle).toString('hex'), SWTPM.sha384SessionSha256Pcr0);
  });

  it('a trial session takes the pcrDigest given; a real one checks it (VALUE + P1)', () => {
    const { run } = startedTpm();
    const given = Buffer.alloc(32, 0x5a);
    const t = ClientSession.start(run, { type: SE.TRIAL });
    assert.equal(run(policyPcrCommand(t.handle, given, SEL0)).rc, 0);
    assert.deepEqual(policyDigestOf(run, t.handle), sha(ALG.SHA256, Buffer.alloc(32), u32(CC.PolicyPCR), SEL0, given));
    const p = ClientSession.start(run, { type: SE.POLICY });
    assert.equal(run(policyPcrCommand(p.handle, given, SEL0)).rc, 0x1c4);
    assert.equal(policyDigestOf(run, p.handle).toString('hex'), '00'.repeat(32), 'unchanged after the error');
    assert.equal(run(policyPcrCommand(p.handle, sha(ALG.SHA256, Buffer.alloc(32)), SEL0)).rc, 0);
    assert.equal(policyDigestOf(run, p.handle).toString('hex'), SWTPM.sha256Pcr0);
  });

  it('a PCR change after PolicyPCR makes the next PolicyPCR TPM_RC_PCR_CHANGED; PolicyRestart clears it', () => {
    const { run } = startedTpm();
    const p = ClientSession.start(run, { type: SE.POLICY });
    assert.equal(run(policyPcrCommand(p.handle, Buffer.alloc(0), SEL0)).rc, 0);
    assert.equal(run(extend(10)).rc, 0);
    assert.equal(run(policyPcrCommand(p.handle, Buffer.alloc(0), SEL0)).rc, 0x128);
    assert.equal(run(command(CC.PolicyRestart, [p.handle], [])).rc, 0);
    assert.equal(policyDigestOf(run, p.handle).toString('hex'), '00'.repeat(32));
    assert.equal(run(policyPcrCommand(p.handle, Buffer.alloc(0), SEL0)).rc, 0);
    assert.equal(policyDigestOf(run, p.handle).toString('hex'), SWTPM.sha256Pcr0);
  });

  it('the policy commands take policy session handles only', () => {
    const { run } = startedTpm();
    const h = ClientSession.start(run);
    assert.equal(run(policyPcrCommand(h.handle, Buffer.alloc(0), SEL0)).rc, 0x184);
    assert.equal(run(command(CC.PolicyGetDigest, [h.handle], [])).rc, 0x184);
    assert.equal(run(command(CC.PolicyRestart, [0x40000001], [])).rc, 0x184);
  });

  describe('use of a policy session (authPolicy supplied for PCR 16, as PCR_SetAuthPolicy would)', () => {
    const setup = () => {
      const env = startedTpm();
      const policy = sha(ALG.SHA256, Buffer.alloc(32), u32(CC.PolicyPCR), SEL0, sha(ALG.SHA256, Buffer.alloc(32)));
      env.tpm.tpmCore.authPolicy = (h: number) => (h === 16 ? policy : new Uint8Array(0));
      return env;
    };
    const EVENT = tpm2b(Buffer.from('e'));
    const use = (s: ClientSession, run: (c: Buffer) => ReturnType<ReturnType<typeof startedTpm>['run']>) =>
      run(command(CC.PCR_Event, [16], [EVENT], [s.authCommand(CC.PCR_Event, [u32(16)], EVENT)]));

    it('authorizes when policyDigest = authPolicy; continuing resets the policy', () => {
      const { run } = setup();
      const p = ClientSession.start(run, { type: SE.POLICY });
      assert.equal(use(p, run).rc, 0x99d, 'POLICY_FAIL + S1 before the assertion');
      assert.equal(run(policyPcrCommand(p.handle, Buffer.alloc(0), SEL0)).rc, 0);
      const r = use(p, run);
      assert.equal(r.rc, 0, hex(r.rc));
      const { params, auths } = splitSessionsResponse(r, false);
      assert.ok(p.acceptResponse(CC.PCR_Event, params, auths[0]!));
      assert.equal(policyDigestOf(run, p.handle).toString('hex'), '00'.repeat(32));
    });

    it('a PCR change between PolicyPCR and use is TPM_RC_PCR_CHANGED', () => {
      const { run } = setup();
      const p = ClientSession.start(run, { type: SE.POLICY });
      assert.equal(run(policyPcrCommand(p.handle, Buffer.alloc(0), SEL0)).rc, 0);
      assert.equal(run(extend(10)).rc, 0);
      assert.equal(use(p, run).rc, 0x128);
    });

    it('a policy session that does not continue is flushed', () => {
      const { run, tpm } = setup();
      const p = ClientSession.start(run, { type: SE.POLICY });
      run(policyPcrCommand(p.handle, Buffer.alloc(0), SEL0));
      const r = run(command(CC.PCR_Event, [16], [EVENT], [p.authCommand(CC.PCR_Event, [u32(16)], EVENT, { attributes: 0 })]));
      assert.equal(r.rc, 0);
      assert.equal(tpm.volatile.sessions.size, 0);
    });
  });
});
