import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { TPM_ALG } from '../../src/tpm/spec/constants.js';
import { hash } from '../../src/tpm/crypto/hash.js';
import { symmetricDecrypt } from '../../src/tpm/crypto/symmetric.js';
import {
  cfbParamKeys,
  cpHash,
  extendPolicy,
  policyPcrUpdate,
  policyUpdate,
  rpHash,
  sessionHmac,
  sessionKey,
  TPM_CC_PolicyPCR,
} from '../../src/tpm/auth/session-crypto.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s/g, ''), 'hex'));
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const EMPTY = new Uint8Array(0);

/** Walks a captured TPM message, so every field the test uses is read from the real wire bytes. */
function wire(message: string) {
  const buf = Buffer.from(bytes(message));
  let at = 0;
  const take = (n: number): Uint8Array => {
    assert.ok(at + n <= buf.length, 'capture shorter than its fields');
    const out = Uint8Array.from(buf.subarray(at, at + n));
    at += n;
    return out;
  };
  const r = {
    u8: (): number => take(1)[0]!,
    u16: (): number => Buffer.from(take(2)).readUInt16BE(0),
    u32: (): number => Buffer.from(take(4)).readUInt32BE(0),
    bytes: take,
    sized: (): Uint8Array => take(r.u16()),
    /** The 10-byte header; checks the size field against the capture. */
    header: (): { tag: number; code: number } => {
      const tag = r.u16();
      assert.equal(r.u32(), buf.length);
      return { tag, code: r.u32() };
    },
    end: (): void => assert.equal(at, buf.length, 'unparsed bytes left in the capture'),
  };
  return r;
}

/*
 * Real exchanges captured from swtpm 0.7.1 driven by tpm2-tools 5.4 / libtss2 3.2.1 through the
 * tpm2-tss pcap TCTI (swtpm --flags not-need-init,startup-clear, fresh state).
 */
describe('auth/session-crypto against captured swtpm exchanges', () => {
  // tpm2_createprimary -C o -g sha256 -G ecc -c prim.ctx -p abc
  // tpm2_startauthsession --hmac-session -g sha1 -S s.ctx --bind-context prim.ctx --bind-auth abc
  // tpm2_sessionconfig s.ctx --enable-encrypt --enable-continuesession
  // tpm2_getrandom -S s.ctx 24 -o rand.bin
  describe('bound SHA-1 session with AES-128-CFB response encryption (GetRandom)', () => {
    const sas = wire('800100000033000001764000000780000001001437c34597c0562dd96f0e3aaa575f552f588eecf70000000006008000430004');
    assert.equal(sas.header().code, 0x176);
    assert.equal(sas.u32(), 0x40000007); // tpmKey TPM_RH_NULL: unsalted
    assert.equal(sas.u32(), 0x80000001); // bind: the primary whose authValue is "abc"
    const nonceCaller0 = sas.sized();
    assert.equal(sas.sized().length, 0); // encryptedSalt
    assert.deepEqual([sas.u8(), sas.u16(), sas.u16(), sas.u16(), sas.u16()], [0, TPM_ALG.AES, 128, TPM_ALG.CFB, TPM_ALG.SHA1]);
    sas.end();

    const sasRsp = wire('8001000000240000000002000000001471590744f2880c0fb547e1a2f01b09b86c593f07');
    assert.equal(sasRsp.header().code, 0);
    assert.equal(sasRsp.u32(), 0x02000000);
    const nonceTPM0 = sasRsp.sized();
    sasRsp.end();

    const cmd = wire('8002000000410000017b00000031020000000014c9c87241c82fa047ad025e0512b5307b3844a03a410014b81b1f388999e476b636bda755585a9a3b3df7930018');
    assert.equal(cmd.header().code, 0x17b);
    assert.equal(cmd.u32(), 0x31); // authorizationSize
    assert.equal(cmd.u32(), 0x02000000);
    const nonceCaller1 = cmd.sized();
    const cmdAttrs = cmd.u8();
    const cmdHmac = cmd.sized();
    const cmdParams = cmd.bytes(2); // bytesRequested = 24
    cmd.end();

    const rsp = wire('800200000055000000000000001a00186ebd6d7d94d260f51a786ea7a401ccfcbf55157b367f71180014d017c93b9d29939d5e80c518ff509eeaa780384c410014edaa7c43d5f0848cd0c7823bef397cf86b72fe51');
    assert.equal(rsp.header().code, 0);
    const rspParams = rsp.bytes(rsp.u32());
    const nonceTPM1 = rsp.sized();
    const rspAttrs = rsp.u8();
    const rspHmac = rsp.sized();
    rsp.end();

    // What tpm2_getrandom wrote to rand.bin: the decrypted randomBytes.
    const randomOut = '6aa500701bd6c555632424d5a5a3bc858dd2c0124726daef';

    const key = sessionKey(TPM_ALG.SHA1, ascii('abc'), nonceTPM0, nonceCaller0);

    it('has the attributes continueSession | encrypt', () => {
      assert.equal(cmdAttrs, 0x41);
      assert.equal(rspAttrs, 0x41);
    });

    it('reproduces the command HMAC (session not used for authorization: key = sessionKey)', () => {
      const cp = cpHash(TPM_ALG.SHA1, 0x17b, [], cmdParams);
      assert.equal(hex(sessionHmac(TPM_ALG.SHA1, key, cp, nonceCaller1, nonceTPM0, EMPTY, EMPTY, cmdAttrs)), hex(cmdHmac));
    });

    it('reproduces the response HMAC over the encrypted parameters', () => {
      const rp = rpHash(TPM_ALG.SHA1, 0, 0x17b, rspParams);
      assert.equal(hex(sessionHmac(TPM_ALG.SHA1, key, rp, nonceTPM1, nonceCaller1, EMPTY, EMPTY, rspAttrs)), hex(rspHmac));
    });

    it('decrypts the response parameter with the CFB key and IV (KDFa over two SHA-1 blocks)', () => {
      const { key: aesKey, iv } = cfbParamKeys(TPM_ALG.SHA1, key, nonceTPM1, nonceCaller1, 128);
      assert.equal(aesKey.length, 16);
      assert.equal(iv.length, 16);
      const sized = wire(hex(rspParams));
      const encrypted = sized.sized();
      sized.end();
      const def = { algorithm: TPM_ALG.AES, keyBits: 128, mode: TPM_ALG.CFB };
      assert.equal(hex(symmetricDecrypt(def, aesKey, iv, encrypted)), randomOut);
    });
  });

  // tpm2_nvdefine 0x1500016 -C o -s 8 -a "ownerread|ownerwrite|authread|authwrite" -p nvpass
  // tpm2_nvwrite 0x1500016 -C 0x1500016 -P nvpass -i data.bin   (data.bin = "mrtpm-01")
  describe('unbound, unsalted SHA-256 session authorizing with a password (NV_Write)', () => {
    const readPublicRsp = wire('80010000003e00000000000e01500016000b00060006000000080022000bd853f4979b7f303acffe4be8e350d03e48e1289188a8c935ce83ca436ab1b951');
    readPublicRsp.header();
    const nvPublic = readPublicRsp.sized();
    const nvName = readPublicRsp.sized();
    readPublicRsp.end();

    const sasRsp = wire('80010000003000000000020000000020982b72bae2e38485716a8cbb1872821a82cb2bd22c8ebc7b7ad01f1a6c326ea1');
    sasRsp.header();
    sasRsp.u32();
    const nonceTPM0 = sasRsp.sized();

    const cmd = wire('80020000006b00000137015000160150001600000049020000000020a552b9093ad92198ac607ab6d6501ee7398181d401264363f42ad3ecad6432e50100209138ab25c436e97a4d998682042adb8147c612852baf852f39f189fcb5f79f2200086d7274706d2d30310000');
    assert.equal(cmd.header().code, 0x137);
    assert.deepEqual([cmd.u32(), cmd.u32(), cmd.u32(), cmd.u32()], [0x01500016, 0x01500016, 0x49, 0x02000000]);
    const nonceCaller1 = cmd.sized();
    const cmdAttrs = cmd.u8();
    const cmdHmac = cmd.sized();
    const cmdParams = cmd.bytes(12); // TPM2B data "mrtpm-01", offset 0
    cmd.end();

    const rsp = wire('800200000053000000000000000000203f613919cb49cb48ae399c54f5ec36f78d6780777d4920f55f45c3d6ce2b17d101002093da4cc460538a9172225f9454da3888f71cfd368ab85cc9509ac8aa51dc6dbb');
    rsp.header();
    const rspParams = rsp.bytes(rsp.u32());
    const nonceTPM1 = rsp.sized();
    const rspAttrs = rsp.u8();
    const rspHmac = rsp.sized();
    rsp.end();

    // Unbound and unsalted: empty session key, so the HMAC key is the index's authValue alone.
    const hmacKey = ascii('nvpass');

    it('has an empty session key', () => {
      assert.equal(sessionKey(TPM_ALG.SHA256, EMPTY, nonceTPM0, nonceCaller1).length, 0);
    });

    it('sees the NV name as nameAlg || H(TPMS_NV_PUBLIC)', () => {
      assert.equal(hex(nvName), '000b' + hex(hash(TPM_ALG.SHA256, nvPublic)));
    });

    it('reproduces the command HMAC with both handle names in cpHash', () => {
      const cp = cpHash(TPM_ALG.SHA256, 0x137, [nvName, nvName], cmdParams);
      assert.equal(hex(sessionHmac(TPM_ALG.SHA256, hmacKey, cp, nonceCaller1, nonceTPM0, EMPTY, EMPTY, cmdAttrs)), hex(cmdHmac));
    });

    it('reproduces the response HMAC (empty response parameters)', () => {
      assert.equal(rspParams.length, 0);
      const rp = rpHash(TPM_ALG.SHA256, 0, 0x137, rspParams);
      assert.equal(hex(sessionHmac(TPM_ALG.SHA256, hmacKey, rp, nonceTPM1, nonceCaller1, EMPTY, EMPTY, rspAttrs)), hex(rspHmac));
    });

    it('rejects a wrong password', () => {
      const cp = cpHash(TPM_ALG.SHA256, 0x137, [nvName, nvName], cmdParams);
      assert.notEqual(hex(sessionHmac(TPM_ALG.SHA256, ascii('nvpasS'), cp, nonceCaller1, nonceTPM0, EMPTY, EMPTY, cmdAttrs)), hex(cmdHmac));
    });
  });

  // tpm2_createprimary -C o ... -p abc: empty owner auth through the tools' automatic session.
  it('reproduces a CreatePrimary command HMAC with an empty key and a permanent-handle name', () => {
    const nonceTPM0 = bytes('8f89ec66cbafc98363a9f6d439205e3e3b640935fdec9b8bbcb9412702edd6cd');
    const cmd = wire('8002000000860000013140000001000000490200000000206b1336718cec48e74755db01f0c4dc60b820c0ad589ce9a5396936f53eada9b0010020fbab34f4e2c0cd68f84e759545209ade9f678c163495e621479f1a48a50c8ab9000700036162630000001a0023000b00030072000000060080004300100003001000000000000000000000');
    assert.equal(cmd.header().code, 0x131);
    const owner = cmd.bytes(4); // a permanent handle's name is the handle itself
    cmd.u32();
    cmd.u32();
    const nonceCaller = cmd.sized();
    const attrs = cmd.u8();
    const cmdHmac = cmd.sized();
    const params = cmd.bytes(0x86 - 10 - 4 - 4 - 0x49);
    cmd.end();
    const cp = cpHash(TPM_ALG.SHA256, 0x131, [owner], params);
    assert.equal(hex(sessionHmac(TPM_ALG.SHA256, EMPTY, cp, nonceCaller, nonceTPM0, EMPTY, EMPTY, attrs)), hex(cmdHmac));
  });

  // tpm2_createpolicy --policy-pcr -l sha256:0,1,2 -L pol.bin on a fresh swtpm (PCRs 0-2 all zero).
  it('reproduces a PolicyPCR digest computed by swtpm in a trial session', () => {
    const cmd = wire('80010000003a0000017f0300000000202ea9ab9198d1638007400cd2c3bef1cc745b864b76011a0e1bc52180ac6452d400000001000b03070000');
    assert.equal(cmd.header().code, TPM_CC_PolicyPCR);
    cmd.u32(); // policy session
    const pcrDigest = cmd.sized();
    const pcrs = cmd.bytes(10); // TPML_PCR_SELECTION: count 1, SHA256, sizeofSelect 3, PCRs 0-2
    cmd.end();
    assert.equal(hex(pcrDigest), hex(hash(TPM_ALG.SHA256, new Uint8Array(96))));
    const policy = policyPcrUpdate(TPM_ALG.SHA256, new Uint8Array(32), pcrs, pcrDigest);
    assert.equal(hex(policy), 'e7f31f4b025ea047a62c000be9fbc43b21a06a798f9b81a9d90a8769ba595015');
  });
});

describe('auth/session-crypto composition', () => {
  const nonceA = bytes('0102030405060708090a0b0c0d0e0f10');
  const nonceB = bytes('f1f2f3f4f5f6f7f8f9fafbfcfdfeff00');

  it('cpHash = H(commandCode || names || parameters)', () => {
    const want = createHash('sha384').update(bytes('0000015d 000b1122 40000001 abcdef')).digest('hex');
    assert.equal(hex(cpHash(TPM_ALG.SHA384, 0x15d, [bytes('000b1122'), bytes('40000001')], bytes('abcdef'))), want);
  });

  it('rpHash = H(responseCode || commandCode || parameters)', () => {
    const want = createHash('sha256').update(bytes('00000101 00000144 0004deadbeef')).digest('hex');
    assert.equal(hex(rpHash(TPM_ALG.SHA256, 0x101, 0x144, bytes('0004deadbeef'))), want);
  });

  it('sessionKey = KDFa(alg, key, "ATH", nonceTPM, nonceCaller, digest bits)', () => {
    const k = ascii('bind-auth-and-salt');
    const want = createHmac('sha256', k)
      .update(bytes('00000001'))
      .update('ATH\0')
      .update(nonceA)
      .update(nonceB)
      .update(bytes('00000100'))
      .digest('hex');
    assert.equal(hex(sessionKey(TPM_ALG.SHA256, k, nonceA, nonceB)), want);
    assert.equal(sessionKey(TPM_ALG.SHA256, EMPTY, nonceA, nonceB).length, 0);
  });

  it('sessionHmac covers pHash, both nonces, decrypt/encrypt nonces and the attribute byte', () => {
    const key = ascii('sessionkey+auth');
    const pHash = bytes('aa'.repeat(32));
    const dec = bytes('dd'.repeat(16));
    const enc = bytes('ee'.repeat(16));
    const want = createHmac('sha256', key).update(Buffer.concat([pHash, nonceA, nonceB, dec, enc, Buffer.from([0x61])])).digest('hex');
    assert.equal(hex(sessionHmac(TPM_ALG.SHA256, key, pHash, nonceA, nonceB, dec, enc, 0x61)), want);
    assert.notEqual(hex(sessionHmac(TPM_ALG.SHA256, key, pHash, nonceA, nonceB, dec, enc, 0x60)), want);
  });

  it('extendPolicy and policyUpdate follow Part 3 PolicyUpdate()', () => {
    const zero = new Uint8Array(32);
    const cc = bytes('00000160'); // TPM_CC_PolicySecret
    const name = bytes('40000001');
    const once = createHash('sha256').update(zero).update(cc).update(name).digest();
    assert.equal(hex(extendPolicy(TPM_ALG.SHA256, zero, cc, name)), once.toString('hex'));
    assert.equal(hex(policyUpdate(TPM_ALG.SHA256, zero, 0x160, name)), once.toString('hex'));
    // An empty policyRef still costs a second extend.
    const twice = createHash('sha256').update(once).digest('hex');
    assert.equal(hex(policyUpdate(TPM_ALG.SHA256, zero, 0x160, name, EMPTY)), twice);
  });

  it('cfbParamKeys splits KDFa(..., "CFB", ..., keyBits + 128) into key and IV', () => {
    const k = ascii('sk');
    const block = (i: number): Buffer =>
      createHmac('sha256', k)
        .update(bytes(`0000000${i}`))
        .update('CFB\0')
        .update(nonceA)
        .update(nonceB)
        .update(bytes('00000180')) // 384 bits
        .digest();
    const stream = Buffer.concat([block(1), block(2)]);
    const { key, iv } = cfbParamKeys(TPM_ALG.SHA256, k, nonceA, nonceB, 256);
    assert.equal(hex(key), stream.subarray(0, 32).toString('hex'));
    assert.equal(hex(iv), stream.subarray(32, 48).toString('hex'));
  });
});
