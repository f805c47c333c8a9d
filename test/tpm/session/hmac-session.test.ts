import assert from 'node:assert/strict';
import {
  ALG, ATTR, CC, ClientSession, RH, SE, command, hex, pwAuth, splitSessionsResponse, startedTpm, startAuthSessionCommand,
  tpm2b, u16, u32, u8, flushCommand, kdfa, sha, hmacOf,
} from '../helpers/session-cmd.js';

const EVENT = tpm2b(Buffer.from('measured event'));
const pcrEvent = (s: ClientSession, pcr: number, opts: Parameters<ClientSession['authCommand']>[3] = {}): Buffer =>
  command(CC.PCR_Event, [pcr], [EVENT], [s.authCommand(CC.PCR_Event, [u32(pcr)], EVENT, opts)]);

describe('HMAC sessions (Part 1 §19.6)', () => {
  it('authorizes PCR_Event with an HMAC computed by the caller, and answers with a valid response HMAC', () => {
    const { run } = startedTpm();
    const s = ClientSession.start(run, { nonceCaller: Buffer.alloc(20, 1) });
    assert.equal(s.handle, 0x02000000);
    assert.equal(s.nonceTPM.length, 20, 'nonceTPM has the size of the first nonceCaller');
    for (let i = 0; i < 3; i++) {
      const before = s.nonceTPM;
      const r = run(pcrEvent(s, 16));
      assert.equal(r.rc, 0, hex(r.rc));
      const { params, auths } = splitSessionsResponse(r, false);
      assert.equal(auths.length, 1);
      assert.equal(auths[0]!.attributes, ATTR.continueSession);
      assert.ok(s.acceptResponse(CC.PCR_Event, params, auths[0]!), 'response HMAC');
      assert.notDeepEqual(s.nonceTPM, before, 'nonceTPM rolls');
    }
  });

  it('known vector: the client HMAC helper matches an independent computation', () => {
    // HMAC-SHA256(key = "", cpHash || nonceCaller || nonceTPM || 01) for fixed inputs.
    const cp = sha(ALG.SHA256, u32(CC.PCR_Event), u32(16), EVENT);
    const s = new ClientSession(0x02000000, ALG.SHA256, Buffer.alloc(16, 2), Buffer.alloc(0), Buffer.alloc(16, 3));
    const auth = s.authCommand(CC.PCR_Event, [u32(16)], EVENT, { nonce: Buffer.alloc(16, 4) });
    const mac = hmacOf(ALG.SHA256, Buffer.alloc(0), cp, Buffer.alloc(16, 4), Buffer.alloc(16, 2), u8(1));
    assert.deepEqual(auth.subarray(auth.length - 32), mac);
    // KDFa against a value computed by hand from its definition (one block).
    const k = kdfa(ALG.SHA256, Buffer.from('k'), 'ATH', Buffer.from('u'), Buffer.from('v'), 256);
    assert.deepEqual(k, hmacOf(ALG.SHA256, Buffer.from('k'), Buffer.from('00000001415448007576', 'hex'), u32(256)));
  });

  it('a wrong HMAC on a PCR (DA-exempt) is TPM_RC_BAD_AUTH + S1, as libtpms answers, and the nonce does not roll', () => {
    const { run } = startedTpm();
    const s = ClientSession.start(run);
    const auth = s.authCommand(CC.PCR_Event, [u32(16)], EVENT);
    auth[auth.length - 1]! ^= 1;
    assert.equal(run(command(CC.PCR_Event, [16], [EVENT], [auth])).rc, 0x9a2);
    assert.equal(run(pcrEvent(s, 16)).rc, 0, 'same nonceTPM still valid');
  });

  it('replaying a command after the nonce rolled fails', () => {
    const { run } = startedTpm();
    const s = ClientSession.start(run);
    const cmd = pcrEvent(s, 16);
    assert.equal(run(cmd).rc, 0);
    assert.equal(run(cmd).rc, 0x9a2);
  });

  it('continueSession = 0 flushes the session after a successful command', () => {
    const { run, tpm } = startedTpm();
    const s = ClientSession.start(run);
    const r = run(pcrEvent(s, 16, { attributes: 0 }));
    assert.equal(r.rc, 0);
    assert.equal(splitSessionsResponse(r, false).auths[0]!.attributes, 0);
    assert.equal(tpm.volatile.sessions.size, 0);
    assert.equal(run(pcrEvent(s, 16)).rc, 0x918, 'TPM_RC_REFERENCE_S0');
    assert.equal(run(flushCommand(s.handle)).rc, 0x1cb);
  });

  it('continueSession = 0 on a failing command keeps the session', () => {
    const { run } = startedTpm();
    const s = ClientSession.start(run);
    const auth = s.authCommand(CC.PCR_Event, [u32(16)], EVENT, { attributes: 0 });
    auth[auth.length - 1]! ^= 1;
    assert.equal(run(command(CC.PCR_Event, [16], [EVENT], [auth])).rc, 0x9a2);
    assert.equal(run(pcrEvent(s, 16)).rc, 0);
  });

  it('a session bound to an entity with an empty authValue still has a session key (KDFa over the empty key)', () => {
    const { run } = startedTpm();
    for (const bind of [16, RH.OWNER]) {
      const s = ClientSession.start(run, { bind });
      assert.equal(s.sessionKey.length, 32);
      const r = run(pcrEvent(s, 16));
      assert.equal(r.rc, 0, hex(r.rc));
      const { params, auths } = splitSessionsResponse(r, false);
      assert.ok(s.acceptResponse(CC.PCR_Event, params, auths[0]!));
      run(flushCommand(s.handle));
    }
  });

  it('SHA-384 and SHA-1 sessions', () => {
    const { run } = startedTpm();
    for (const authHash of [ALG.SHA384, ALG.SHA1]) {
      const s = ClientSession.start(run, { authHash, nonceCaller: Buffer.alloc(16, 9), bind: RH.ENDORSEMENT });
      const r = run(pcrEvent(s, 16));
      assert.equal(r.rc, 0, hex(r.rc));
      const { params, auths } = splitSessionsResponse(r, false);
      assert.ok(s.acceptResponse(CC.PCR_Event, params, auths[0]!));
    }
  });

  it('an empty HMAC is accepted only when the HMAC key is empty, and then the response HMAC is empty too', () => {
    const { run } = startedTpm();
    const unkeyed = ClientSession.start(run);
    const emptyAuth = (h: number): Buffer => Buffer.concat([u32(h), tpm2b(Buffer.alloc(16, 1)), u8(1), u16(0)]);
    const r = run(command(CC.PCR_Event, [16], [EVENT], [emptyAuth(unkeyed.handle)]));
    assert.equal(r.rc, 0);
    assert.equal(splitSessionsResponse(r, false).auths[0]!.hmac.length, 0);
    const keyed = ClientSession.start(run, { bind: 16 });
    assert.equal(run(command(CC.PCR_Event, [16], [EVENT], [emptyAuth(keyed.handle)])).rc, 0x9a2);
  });

  it('session-area errors carry the session number', () => {
    const { run } = startedTpm();
    const s = ClientSession.start(run);
    const ext = (auths: Buffer[]): number => run(command(CC.PCR_Extend, [16], [u32(0)], auths)).rc;
    assert.equal(ext([pwAuth(Buffer.from('wrong'))]), 0x9a2, 'wrong password');
    assert.equal(ext([pwAuth(), pwAuth(), pwAuth(), pwAuth()]), 0xc95, 'a fourth session: SIZE + S4');
    assert.equal(ext([Buffer.concat([u32(0x02000009), u16(0), u8(1), u16(0)])]), 0x918, 'unloaded session');
    assert.equal(ext([Buffer.concat([u32(0x01000009), u16(0), u8(1), u16(0)])]), 0x984, 'not a session handle');
    assert.equal(ext([Buffer.concat([u32(0x03000000), u16(0), u8(1), u16(0)])]), 0x98b, 'policy handle for an HMAC slot');
    assert.equal(ext([pwAuth(), Buffer.concat([u32(0x02000009), u16(0), u8(1), u16(0)])]), 0x919, 'REFERENCE_S1');
    const dec = s.authCommand(CC.PCR_Event, [u32(16)], EVENT, { attributes: ATTR.continueSession | ATTR.decrypt });
    assert.equal(run(command(CC.PCR_Event, [16], [EVENT], [dec])).rc, 0x996, 'decrypt with symmetric NULL');
    assert.equal(run(command(CC.PCR_Read, [], [u32(0)], [pwAuth()])).rc, 0x98b, 'password session without an authorized handle');
  });

  it('a trial session cannot authorize (ATTRIBUTES + S1); a policy session on an entity without authPolicy is AUTH_UNAVAILABLE', () => {
    const { run } = startedTpm();
    const trial = ClientSession.start(run, { type: SE.TRIAL });
    const policy = ClientSession.start(run, { type: SE.POLICY });
    const use = (h: number): number =>
      run(command(CC.PCR_Event, [16], [EVENT], [Buffer.concat([u32(h), tpm2b(Buffer.alloc(16, 1)), u8(1), u16(0)])])).rc;
    assert.equal(use(trial.handle), 0x982);
    assert.equal(use(policy.handle), 0x12f);
  });

  it('ContextSave/Load/FlushContext take no sessions (TPM_RC_AUTH_CONTEXT)', () => {
    const { run } = startedTpm();
    assert.equal(run(command(CC.FlushContext, [], [u32(0x02000000)], [pwAuth()])).rc, 0x145);
    assert.equal(run(startAuthSessionCommand()).rc, 0);
    assert.equal(run(command(CC.ContextSave, [0x02000000], [], [pwAuth()])).rc, 0x145);
  });
});
