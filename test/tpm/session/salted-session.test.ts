import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  ATTR, CC, ClientSession, RH, SYM_AES128_CFB, command, hex, splitSessionsResponse, startAuthSessionCommand, startedTpm,
  tpm2b, u16, u32, type Response,
} from '../helpers/session-cmd.js';
import { createPrimary, encryptSalt, type KeyKind } from '../helpers/salt-cmd.js';

const EVENT = tpm2b(Buffer.from('salted'));

/**
 * PCR_Event on PCR 16 (empty authValue) authorized by the session: the HMAC key is the session key
 * alone, so the command passes only if TPM and caller derived the same salt.
 */
function eventWith(run: (cmd: Buffer) => Response, s: ClientSession): { rc: number; responseOk: boolean } {
  const auth = s.authCommand(CC.PCR_Event, [u32(16)], EVENT);
  const r = run(command(CC.PCR_Event, [16], [EVENT], [auth]));
  if (r.rc !== 0) return { rc: r.rc, responseOk: false };
  const { params, auths } = splitSessionsResponse(r, false);
  return { rc: 0, responseOk: s.acceptResponse(CC.PCR_Event, params, auths[0]!) };
}

describe('StartAuthSession salted with a decrypt key (Part 1 §19.6.10, Part 3 §11.1)', () => {
  for (const kind of ['rsa', 'ecc'] as KeyKind[]) {
    it(`${kind}: the session key includes the salt the caller encrypted to tpmKey`, () => {
      const { run } = startedTpm();
      const key = createPrimary(run, kind);
      const { salt, encryptedSalt } = encryptSalt(key);
      const s = ClientSession.start(run, { tpmKey: key.handle, salt: encryptedSalt }, Buffer.alloc(0), salt);
      assert.equal(s.sessionKey.length, 32);
      assert.deepEqual(eventWith(run, s), { rc: 0, responseOk: true });
      // The same session believed unsalted (empty key) fails: the salt is really in the key.
      const wrong = new ClientSession(s.handle, s.authHash, s.nonceTPM, Buffer.alloc(32), s.nonceCaller);
      assert.equal(hex(eventWith(run, wrong).rc), hex(0x9a2), 'BAD_AUTH + S1 (PCRs are DA-exempt)');
    });
  }

  it('salted and bound to an object: its authValue stays out of the HMAC key but is in the decrypt key', () => {
    const { run } = startedTpm();
    const key = createPrimary(run, 'ecc', { userAuth: Buffer.from('objauth') });
    const { salt, encryptedSalt } = encryptSalt(key);
    const s = ClientSession.start(run, { tpmKey: key.handle, bind: key.handle, salt: encryptedSalt, symmetric: SYM_AES128_CFB },
      Buffer.from('objauth'), salt);
    // Create under the bound primary: the parent's authorization is a USER-role HMAC on the object.
    const template = Buffer.concat([u16(0x08), u16(0x0b), u32(0x02 | 0x10 | 0x40 | 0x400), u16(0), u16(0x10), u16(0)]);
    const inSensitive = Buffer.concat([u16(0), tpm2b(Buffer.from('sealed'))]);
    const tail = Buffer.concat([tpm2b(template), u16(0), u32(0)]);
    const params = Buffer.concat([tpm2b(inSensitive), tail]);
    const bound = s.authCommand(CC.Create, [key.name], params);
    let r = run(command(CC.Create, [key.handle], [params], [bound]));
    assert.equal(hex(r.rc), '0x0');
    assert.ok(s.acceptResponse(CC.Create, splitSessionsResponse(r, false).params, splitSessionsResponse(r, false).auths[0]!));
    // inSensitive encrypted: the key is sessionKey || the object's authValue even though the session is bound to it
    // (Part 1 §21.1). Encrypted without the authValue, the TPM decrypts garbage and cannot unmarshal it.
    const attributes = ATTR.continueSession | ATTR.decrypt;
    for (const [authValue, ok] of [[Buffer.alloc(0), false], [Buffer.from('objauth'), true]] as const) {
      s.rollNonce();
      const sent = Buffer.concat([tpm2b(s.encryptCommandParameter(inSensitive, authValue)), tail]);
      r = run(command(CC.Create, [key.handle], [sent], [s.authCommand(CC.Create, [key.name], sent, { attributes, nonce: s.nonceCaller })]));
      assert.equal(r.rc === 0, ok, `authValue ${authValue.length ? 'in' : 'not in'} the key: ${hex(r.rc)}`);
    }
    const { params: out, auths } = splitSessionsResponse(r, false);
    assert.ok(s.acceptResponse(CC.Create, out, auths[0]!));
    // Authorizing another entity (PCR 16) with the same session: that entity's (empty) authValue is included, still valid.
    assert.deepEqual(eventWith(run, s), { rc: 0, responseOk: true });
    // An object bound session used with the authValue added (as for an unbound entity) is refused.
    const withAuth = s.authCommand(CC.Create, [key.name], params, { authValue: Buffer.from('objauth') });
    assert.equal(hex(run(command(CC.Create, [key.handle], [params], [withAuth])).rc), hex(0x9a2), 'BAD_AUTH + S1: no authValue was used');
  });

  it('refuses tpmKey and encryptedSalt with the codes of Part 3 §11.1', () => {
    const { run, tpm } = startedTpm();
    const rsa = createPrimary(run, 'rsa');
    const ecc = createPrimary(run, 'ecc');
    const signer = createPrimary(run, 'rsa', { use: 'sign' });
    const seq = run(command(CC.HashSequenceStart, [], [u16(0), u16(0x0b)]));
    assert.equal(seq.rc, 0);
    const sequence = seq.body.readUInt32BE(0);
    const start = (tpmKey: number, salt: Buffer): number => run(startAuthSessionCommand({ tpmKey, salt })).rc;
    const cases: [number, Buffer, number, string][] = [
      [sequence, encryptSalt(rsa).encryptedSalt, 0x19c, 'a sequence object: KEY + H1'],
      [rsa.handle, Buffer.alloc(0), 0x2c4, 'no encryptedSalt: VALUE + P2'],
      [signer.handle, encryptSalt(signer).encryptedSalt, 0x182, 'a signing key: ATTRIBUTES + H1'],
      [rsa.handle, randomBytes(256), 0x2c4, 'RSA secret that does not decrypt: VALUE + P2'],
      [rsa.handle, encryptSalt(rsa).encryptedSalt.subarray(1), 0x2c4, 'RSA secret of the wrong size: VALUE + P2'],
      [rsa.handle, encryptSalt(ecc).encryptedSalt, 0x2c4, 'an ECC secret for an RSA key: VALUE + P2'],
      [ecc.handle, Buffer.concat([tpm2b(Buffer.alloc(32, 1)), tpm2b(Buffer.alloc(32, 2))]), 0x2c4, 'not a point on the curve: VALUE + P2'],
      [ecc.handle, Buffer.alloc(7), 0x2c4, 'not a TPMS_ECC_POINT: VALUE + P2'],
      [RH.NULL, Buffer.alloc(16), 0x2c4, 'encryptedSalt with tpmKey NULL: VALUE + P2'],
    ];
    for (const [tpmKey, salt, rc, what] of cases) assert.equal(hex(start(tpmKey, salt)), hex(rc), what);
    assert.equal(tpm.volatile.sessions.size, 0);
  });

  it('a salted session serves a command as encrypt session: the response parameter decrypts with the salted key', () => {
    const { run } = startedTpm();
    const key = createPrimary(run, 'rsa');
    const { salt, encryptedSalt } = encryptSalt(key);
    const s = ClientSession.start(run, { tpmKey: key.handle, salt: encryptedSalt, symmetric: SYM_AES128_CFB }, Buffer.alloc(0), salt);
    const attributes = ATTR.continueSession | ATTR.encrypt;
    const r = run(command(CC.ReadPublic, [key.handle], [], [s.authCommand(CC.ReadPublic, [key.name], Buffer.alloc(0), { attributes })]));
    assert.equal(hex(r.rc), '0x0');
    const { params, auths } = splitSessionsResponse(r, false);
    assert.ok(s.acceptResponse(CC.ReadPublic, params, auths[0]!), 'response HMAC over the encrypted parameters');
    const n = params.readUInt16BE(0);
    assert.notDeepEqual(params.subarray(2, 2 + n), key.publicArea);
    assert.deepEqual(s.decryptResponseParameter(params.subarray(2, 2 + n)), key.publicArea);
  });
});
