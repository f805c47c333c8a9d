import assert from 'node:assert/strict';
import { ALG, RH, SE, SYM_AES128_CFB, startedTpm, startAuthSessionCommand, u16, hex, type StartArgs } from '../helpers/session-cmd.js';

describe('StartAuthSession (Part 3 §11.1)', () => {
  it('accepts HMAC, policy and trial sessions with NULL, AES-128-CFB and XOR parameter encryption', () => {
    const { run, tpm } = startedTpm();
    const ok: StartArgs[] = [
      { type: SE.HMAC }, { type: SE.HMAC, symmetric: SYM_AES128_CFB }, { type: SE.POLICY, symmetric: Buffer.concat([u16(ALG.XOR), u16(ALG.SHA256)]) },
      { type: SE.TRIAL, authHash: ALG.SHA384, nonceCaller: Buffer.alloc(48, 1) }, { type: SE.HMAC, bind: 16 }, { type: SE.HMAC, bind: RH.OWNER },
    ];
    ok.forEach((a, i) => {
      const r = run(startAuthSessionCommand(a));
      assert.equal(r.rc, 0, `case ${i}: ${hex(r.rc)}`);
      const handle = r.body.readUInt32BE(0);
      assert.equal(handle & 0xffffff, i, 'lowest free slot');
      assert.equal(handle >>> 24, a.type === SE.HMAC ? 0x02 : 0x03);
      assert.equal(r.body.readUInt16BE(4), (a.nonceCaller ?? Buffer.alloc(32)).length);
      assert.equal(r.body.length, 4 + 2 + r.body.readUInt16BE(4));
    });
    const s = tpm.tpmCore.sessions.get(0x02000001)!;
    assert.deepEqual(s.symmetric, { algorithm: ALG.AES, keyBits: 128, mode: ALG.CFB });
    assert.equal(tpm.tpmCore.sessions.get(0x03000003)!.policyDigest.length, 48);
  });

  it('rejects bad arguments with the numbers libtpms uses', () => {
    const { run, tpm } = startedTpm();
    const cases: [StartArgs, number, string][] = [
      [{ nonceCaller: Buffer.alloc(15) }, 0x1d5, 'nonce < 16: SIZE + P1'],
      [{ nonceCaller: Buffer.alloc(33) }, 0x1d5, 'nonce > digest: SIZE + P1'],
      [{ salt: Buffer.alloc(4) }, 0x2c4, 'salt without tpmKey: VALUE + P2'],
      [{ type: 2 }, 0x3c4, 'session type: VALUE + P3'],
      [{ symmetric: Buffer.concat([u16(ALG.AES), u16(128), u16(ALG.CBC)]) }, 0x4c9, 'block cipher not CFB: MODE + P4'],
      [{ authHash: ALG.NULL }, 0x5c3, 'authHash: HASH + P5'],
      [{ tpmKey: RH.OWNER }, 0x184, 'tpmKey not an object: VALUE + H1'],
      [{ tpmKey: 0x80000000 }, 0x910, 'tpmKey not loaded: REFERENCE_H0'],
      [{ bind: RH.PW }, 0x284, 'bind: VALUE + H2'],
    ];
    for (const [a, rc, what] of cases) assert.equal(hex(run(startAuthSessionCommand(a)).rc), hex(rc), what);
    assert.equal(tpm.volatile.sessions.size, 0);
  });

  it('a session bound to a disabled hierarchy is refused (HIERARCHY + H2)', () => {
    const { run, tpm } = startedTpm();
    tpm.volatile.ehEnable = false;
    assert.equal(run(startAuthSessionCommand({ bind: RH.ENDORSEMENT })).rc, 0x285);
  });
});
