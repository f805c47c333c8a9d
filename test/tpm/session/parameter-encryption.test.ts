import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  ALG, ATTR, CC, ClientSession, RH, SYM_AES128_CFB, command, hex, pwAuth, splitSessionsResponse, startedTpm,
  tpm2b, u16, u32, type Response,
} from '../helpers/session-cmd.js';

const SYM_AES256_CFB = Buffer.concat([u16(ALG.AES), u16(256), u16(ALG.CFB)]);
const SYM_XOR_SHA256 = Buffer.concat([u16(ALG.XOR), u16(ALG.SHA256)]);
const CIPHERS: [string, Buffer][] = [['AES-128-CFB', SYM_AES128_CFB], ['AES-256-CFB', SYM_AES256_CFB], ['XOR', SYM_XOR_SHA256]];
const DATA = Buffer.from('the plaintext the TPM must hash, not its ciphertext');
const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();
const HASH_TAIL = Buffer.concat([u16(ALG.SHA256), u32(RH.NULL)]);
const DIGEST_SIZES: Record<number, number> = { 0x04: 20, 0x0b: 32, 0x0c: 48, 0x0d: 64 };

/** The SHA-256 digest in PCR_Event's TPML_DIGEST_VALUES. */
function sha256Entry(digests: Buffer): Buffer {
  for (let i = 0, at = 4; i < digests.readUInt32BE(0); i++) {
    const alg = digests.readUInt16BE(at);
    const size = DIGEST_SIZES[alg]!;
    if (alg === ALG.SHA256) return digests.subarray(at + 2, at + 2 + size);
    at += 2 + size;
  }
  throw new Error('no SHA-256 digest');
}

/** Hash (no authorization) with one session used for parameter encryption only. */
function hashWith(run: (cmd: Buffer) => Response, s: ClientSession, attributes: number, data = DATA): Response {
  s.rollNonce();
  const first = attributes & ATTR.decrypt ? s.encryptCommandParameter(data) : data;
  const params = Buffer.concat([tpm2b(first), HASH_TAIL]);
  return run(command(CC.Hash, [], [params], [s.authCommand(CC.Hash, [], params, { attributes, nonce: s.nonceCaller })]));
}

/** outHash of a Hash response after checking its HMAC, decrypted if the session encrypted it. */
function outHashOf(r: Response, s: ClientSession, encrypted: boolean): Buffer {
  assert.equal(hex(r.rc), '0x0');
  const { params, auths } = splitSessionsResponse(r, false);
  assert.ok(s.acceptResponse(CC.Hash, params, auths[0]!), 'response HMAC over the parameters as sent');
  const digest = params.subarray(2, 2 + params.readUInt16BE(0));
  return encrypted ? s.decryptResponseParameter(digest) : digest;
}

describe('parameter encryption (Part 1 §21)', () => {
  for (const [name, symmetric] of CIPHERS) {
    describe(name, () => {
      it('decrypts the first command parameter before unmarshaling it', () => {
        const { run } = startedTpm();
        const s = ClientSession.start(run, { bind: RH.OWNER, symmetric });
        assert.deepEqual(outHashOf(hashWith(run, s, ATTR.continueSession | ATTR.decrypt), s, false), sha256(DATA));
      });

      it('encrypts the first response parameter after the nonce rolled', () => {
        const { run } = startedTpm();
        const s = ClientSession.start(run, { bind: RH.OWNER, symmetric });
        const r = hashWith(run, s, ATTR.continueSession | ATTR.encrypt);
        const raw = Buffer.from(splitSessionsResponse(r, false).params.subarray(2, 34));
        assert.notDeepEqual(raw, sha256(DATA), 'sent encrypted');
        assert.deepEqual(outHashOf(r, s, true), sha256(DATA));
      });

      it('does both in one session, and the session goes on with the new nonces', () => {
        const { run } = startedTpm();
        const s = ClientSession.start(run, { symmetric });
        for (let i = 0; i < 3; i++) {
          const data = Buffer.from(`round ${i}`);
          assert.deepEqual(outHashOf(hashWith(run, s, ATTR.continueSession | ATTR.decrypt | ATTR.encrypt, data), s, true), sha256(data));
        }
      });
    });
  }

  it('an authorizing session decrypts PCR_Event\'s eventData: the event digest is of the plaintext', () => {
    const { run } = startedTpm();
    const s = ClientSession.start(run, { bind: RH.OWNER, symmetric: SYM_AES128_CFB });
    s.rollNonce();
    const event = Buffer.from('measured');
    const params = tpm2b(s.encryptCommandParameter(event));
    const auth = s.authCommand(CC.PCR_Event, [u32(16)], params, { attributes: ATTR.continueSession | ATTR.decrypt, nonce: s.nonceCaller });
    const r = run(command(CC.PCR_Event, [16], [params], [auth]));
    assert.equal(hex(r.rc), '0x0');
    // TPML_DIGEST_VALUES: the SHA-256 entry must be the digest of the plaintext event.
    assert.deepEqual(sha256Entry(splitSessionsResponse(r, false).params), sha256(event));
  });

  it('a decrypt session that is not the first: its nonceTPM enters the first session\'s HMAC', () => {
    const { run } = startedTpm();
    const authorizer = ClientSession.start(run, { bind: 16 });
    const decrypter = ClientSession.start(run, { symmetric: SYM_XOR_SHA256, nonceCaller: Buffer.alloc(32, 7) });
    const event = Buffer.from('second session decrypts');
    decrypter.rollNonce();
    const params = tpm2b(decrypter.encryptCommandParameter(event));
    const send = (nonceDecrypt?: Buffer): Response => {
      const a = authorizer.authCommand(CC.PCR_Event, [u32(16)], params, { ...(nonceDecrypt ? { nonceDecrypt } : {}) });
      const d = decrypter.authCommand(CC.PCR_Event, [u32(16)], params, { attributes: ATTR.continueSession | ATTR.decrypt, nonce: decrypter.nonceCaller });
      return run(command(CC.PCR_Event, [16], [params], [a, d]));
    };
    assert.equal(hex(send().rc), hex(0x9a2), 'without nonceDecrypt: BAD_AUTH + S1');
    const r = send(decrypter.nonceTPM);
    assert.equal(hex(r.rc), '0x0');
    const { params: out, auths } = splitSessionsResponse(r, false);
    assert.ok(authorizer.acceptResponse(CC.PCR_Event, out, auths[0]!));
    assert.ok(decrypter.acceptResponse(CC.PCR_Event, out, auths[1]!), 'the encryption-only session has its response HMAC too');
    assert.deepEqual(sha256Entry(out), sha256(event));
  });

  it('an encryption-only session\'s own HMAC is checked (BAD_AUTH, numbered)', () => {
    const { run } = startedTpm();
    const s = ClientSession.start(run, { bind: RH.OWNER, symmetric: SYM_AES128_CFB });
    const wrong = new ClientSession(s.handle, s.authHash, s.nonceTPM, Buffer.alloc(32, 9), s.nonceCaller, s.symmetric);
    assert.equal(hex(hashWith(run, wrong, ATTR.continueSession | ATTR.encrypt).rc), hex(0x9a2));
  });

  it('refuses misuse of decrypt/encrypt with ATTRIBUTES numbered with the offending session', () => {
    const { run } = startedTpm();
    const a = ClientSession.start(run, { symmetric: SYM_AES128_CFB });
    const b = ClientSession.start(run, { symmetric: SYM_AES128_CFB });
    const plain = ClientSession.start(run);
    const ev = tpm2b(Buffer.from('x'));
    const rcOf = (cc: number, handles: number[], params: Buffer, auths: Buffer[]): string => hex(run(command(cc, handles, [params], auths)).rc);
    const auth = (s: ClientSession, attributes: number): Buffer =>
      s.authCommand(0, [], Buffer.alloc(0), { attributes: ATTR.continueSession | attributes });
    const digests = Buffer.concat([u32(1), u16(ALG.SHA256), Buffer.alloc(32)]);
    assert.equal(rcOf(CC.PCR_Extend, [16], digests, [pwAuth(), auth(a, ATTR.decrypt)]), hex(0xa82), 'PCR_Extend has no TPM2B parameter: ATTRIBUTES + S2');
    assert.equal(rcOf(CC.PCR_Event, [16], ev, [pwAuth(), auth(a, ATTR.encrypt)]), hex(0xa82), 'PCR_Event returns no TPM2B: ATTRIBUTES + S2');
    assert.equal(rcOf(CC.PCR_Event, [16], ev, [pwAuth(), auth(a, ATTR.decrypt), auth(b, ATTR.decrypt)]), hex(0xb82), 'second decrypt session: S3');
    assert.equal(rcOf(CC.Hash, [], Buffer.concat([ev, HASH_TAIL]), [auth(a, ATTR.encrypt), auth(b, ATTR.encrypt)]), hex(0xa82), 'second encrypt session: S2');
    assert.equal(rcOf(CC.Hash, [], Buffer.concat([ev, HASH_TAIL]), [auth(plain, ATTR.encrypt)]), hex(0x996), 'no cipher: SYMMETRIC + S1');
    assert.equal(rcOf(CC.Hash, [], Buffer.concat([ev, HASH_TAIL]), [auth(a, 0)]), hex(0x982), 'authorizes nothing and encrypts nothing: ATTRIBUTES + S1');
    // A decrypt size field that claims more octets than the parameters hold.
    const long = Buffer.concat([u16(200), Buffer.from('x')]);
    const hmac = a.authCommand(CC.PCR_Event, [u32(16)], long, { attributes: ATTR.continueSession | ATTR.decrypt });
    assert.equal(rcOf(CC.PCR_Event, [16], long, [hmac]), hex(0x995), 'SIZE + S1');
    assert.equal(rcOf(CC.PCR_Event, [16], Buffer.alloc(0),
      [a.authCommand(CC.PCR_Event, [u32(16)], Buffer.alloc(0), { attributes: ATTR.continueSession | ATTR.decrypt })]), hex(0x99a), 'no size field: INSUFFICIENT + S1');
  });

  it('a password session cannot carry decrypt (ATTRIBUTES + S1)', () => {
    const { run } = startedTpm();
    assert.equal(hex(run(command(CC.PCR_Event, [16], [tpm2b(Buffer.from('x'))], [pwAuth(Buffer.alloc(0), ATTR.continueSession | ATTR.decrypt)])).rc), hex(0x982));
  });

  it('GetRandom with an encrypt session: the response HMAC covers the encrypted randomBytes', () => {
    const { run } = startedTpm();
    const s = ClientSession.start(run, { bind: RH.OWNER, symmetric: SYM_AES128_CFB });
    const params = u16(16);
    const r = run(command(CC.GetRandom, [], [params], [s.authCommand(CC.GetRandom, [], params, { attributes: ATTR.continueSession | ATTR.encrypt })]));
    assert.equal(hex(r.rc), '0x0');
    const { params: out, auths } = splitSessionsResponse(r, false);
    assert.equal(out.readUInt16BE(0), 16);
    assert.ok(s.acceptResponse(CC.GetRandom, out, auths[0]!));
    assert.equal(auths[0]!.attributes, ATTR.continueSession | ATTR.encrypt);
    assert.equal(s.decryptResponseParameter(out.subarray(2)).length, 16);
  });
});
