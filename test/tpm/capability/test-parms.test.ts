/**
 * TPM2_TestParms through Tpm.execute. The response codes are those swtpm 0.7.1 (libtpms) returns
 * for the same bytes, except where this TPM implements more (RSA 4096) or less (NIST P-192).
 */
import assert from 'node:assert/strict';
import { CC, TestTpm, cmd, hex, rcOf } from '../helpers/capability-cmd.js';

const testParms = (params: string): Buffer => cmd(CC.TestParms, hex(params));

const RC = {
  SUCCESS: 0, VALUE: 0x1c4, HASH: 0x1c3, MODE: 0x1c9, SYMMETRIC: 0x1d6, SCHEME: 0x1d2, KDF: 0x1cc, CURVE: 0x1e6,
  TYPE: 0x1ca, SIZE: 0x095, INSUFFICIENT: 0x1da,
};

const CASES: [string, string, number][] = [
  // RSA: symmetric, scheme, keyBits, exponent
  ['rsa2048', '0001 0010 0010 0800 00000000', RC.SUCCESS],
  ['rsa1024', '0001 0010 0010 0400 00000000', RC.SUCCESS],
  ['rsa3072', '0001 0010 0010 0c00 00000000', RC.SUCCESS],
  ['rsa4096 (node can; libtpms 0.9 cannot)', '0001 0010 0010 1000 00000000', RC.SUCCESS],
  ['rsa 1000 bits', '0001 0010 0010 03e8 00000000', RC.VALUE],
  ['rsa 0 bits', '0001 0010 0010 0000 00000000', RC.VALUE],
  ['rsa aes128cfb storage parent, exponent 65537', '0001 0006 0080 0043 0010 0400 00010001', RC.SUCCESS],
  ['rsa aes128 mode NULL', '0001 0006 0080 0010 0010 0800 00000000', RC.SUCCESS],
  ['rsa aes 127 bits', '0001 0006 007f 0043 0010 0800 00000000', RC.VALUE],
  ['rsa aes bad mode', '0001 0006 0080 0045 0010 0800 00000000', RC.MODE],
  ['rsa bad symmetric algorithm', '0001 0099 0010 0800 00000000', RC.SYMMETRIC],
  ['rsa XOR as object symmetric', '0001 000a 000b 0010 0800 00000000', RC.SYMMETRIC],
  ['rsa bad scheme', '0001 0010 0099 0800 00000000', RC.VALUE],
  ['rsa scheme ECDSA', '0001 0010 0018 000b 0800 00000000', RC.VALUE],
  ['rsa RSASSA with NULL hash', '0001 0010 0014 0010 0800 00000000', RC.HASH],
  ['rsa RSASSA with unknown hash', '0001 0010 0014 0099 0800 00000000', RC.HASH],
  ['rsa RSASSA sha256', '0001 0010 0014 000b 0800 00000000', RC.SUCCESS],
  ['rsa RSAPSS sha384', '0001 0010 0016 000c 0800 00000000', RC.SUCCESS],
  ['rsa RSAES (no hash)', '0001 0006 0080 0043 0015 0800 00000003', RC.SUCCESS],
  ['rsa OAEP NULL hash', '0001 0006 0080 0043 0017 0010 0800 00000003', RC.HASH],
  ['rsa OAEP sha1', '0001 0010 0017 0004 0800 00000000', RC.SUCCESS],
  // ECC: symmetric, scheme, curveID, kdf
  ['ecc256', '0023 0010 0010 0003 0010', RC.SUCCESS],
  ['ecc384 ECDSA sha384', '0023 0010 0018 000c 0004 0010', RC.SUCCESS],
  ['ecc521 ECDH + aes256cfb', '0023 0006 0100 0043 0019 000b 0005 0010', RC.SUCCESS],
  ['ecc P-192 (not implemented here)', '0023 0010 0010 0001 0010', RC.CURVE],
  ['ecc BN P256', '0023 0010 0010 0010 0010', RC.CURVE],
  ['ecc bad curve', '0023 0010 0010 0099 0010', RC.CURVE],
  ['ecc bad kdf', '0023 0010 0010 0003 0099', RC.KDF],
  ['ecc kdf KDF1_SP800_56A NULL hash', '0023 0010 0010 0003 0020 0010', RC.HASH],
  ['ecc kdf KDF1_SP800_56A sha256', '0023 0010 0010 0003 0020 000b', RC.SUCCESS],
  ['ecc kdf MGF1 sha256', '0023 0010 0010 0003 0007 000b', RC.SUCCESS],
  ['ecc kdf KDF1_SP800_108 sha512', '0023 0010 0010 0003 0022 000d', RC.SUCCESS],
  ['ecc bad scheme', '0023 0010 0099 0003 0010', RC.SCHEME],
  ['ecc scheme RSASSA', '0023 0010 0014 000b 0003 0010', RC.SCHEME],
  ['ecc ECDAA sha256 count 1', '0023 0010 001a 000b 0001 0003 0010', RC.SUCCESS],
  ['ecc ECDSA NULL hash', '0023 0010 0018 0010 0003 0010', RC.HASH],
  // KEYEDHASH: scheme
  ['keyedhash NULL', '0008 0010', RC.SUCCESS],
  ['keyedhash HMAC sha256', '0008 0005 000b', RC.SUCCESS],
  ['keyedhash HMAC NULL hash', '0008 0005 0010', RC.HASH],
  ['keyedhash HMAC bad hash', '0008 0005 0099', RC.HASH],
  ['keyedhash XOR sha256 KDF1_SP800_108', '0008 000a 000b 0022', RC.SUCCESS],
  ['keyedhash XOR kdf NULL', '0008 000a 000b 0010', RC.SUCCESS],
  ['keyedhash XOR NULL hash', '0008 000a 0010 0022', RC.HASH],
  ['keyedhash XOR bad kdf', '0008 000a 000b 0099', RC.KDF],
  ['keyedhash bad scheme', '0008 0099', RC.VALUE],
  // SYMCIPHER: sym
  ['aes128cfb', '0025 0006 0080 0043', RC.SUCCESS],
  ['aes192ctr', '0025 0006 00c0 0040', RC.SUCCESS],
  ['aes256 mode NULL', '0025 0006 0100 0010', RC.SUCCESS],
  ['symcipher NULL', '0025 0010', RC.SYMMETRIC],
  ['symcipher XOR', '0025 000a 000b', RC.SYMMETRIC],
  ['symcipher aes 64 bits', '0025 0006 0040 0043', RC.VALUE],
  // type and framing
  ['bad type', '0099', RC.TYPE],
  ['type NULL', '0010', RC.TYPE],
  ['trailing byte', '0001 0010 0010 0800 00000000 00', RC.SIZE],
  ['truncated', '0001 0010 0010 0800', RC.INSUFFICIENT],
];

describe('TestParms (engine)', () => {
  const t = new TestTpm();
  for (const [name, params, rc] of CASES) {
    it(`${name} -> 0x${rc.toString(16)}`, () => {
      const r = t.run(testParms(params));
      assert.equal(rcOf(r), rc);
      if (rc === 0) assert.equal(r.toString('hex'), '80010000000a00000000');
    });
  }
});
