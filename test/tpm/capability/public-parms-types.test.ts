/** The TPMT_PUBLIC_PARMS family of codecs on their own: decoded values and byte-exact re-encoding. */
import assert from 'node:assert/strict';
import { decode, encode } from '../../../src/tpm/marshal/codec.js';
import { TpmError } from '../../../src/tpm/spec/tpm-rc.js';
import {
  TPMT_PUBLIC_PARMS, TPMT_KDF_SCHEME, TPMT_SYM_DEF_OBJECT, TPMT_SYM_DEF_OBJECT_NULL, TPMT_ECC_SCHEME,
  TPMI_RSA_KEY_BITS, TPMI_ECC_CURVE, type PublicParms,
} from '../../../src/tpm/marshal/public-parms-types.js';
import { hex } from '../helpers/capability-cmd.js';

const rcOfDecode = (f: () => unknown): number => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof TpmError);
    return e.rc;
  }
  return 0;
};

describe('public-parms-types', () => {
  const VALUES: [string, PublicParms][] = [
    ['0001 0006 0080 0043 0010 0800 00000000', {
      type: 0x0001,
      parameters: {
        symmetric: { algorithm: 0x06, keyBits: 128, mode: 0x43 }, scheme: { scheme: 0x10 }, keyBits: 2048, exponent: 0,
      },
    }],
    ['0001 0010 0016 000c 0c00 00010001', {
      type: 0x0001,
      parameters: {
        symmetric: { algorithm: 0x10, keyBits: 0, mode: 0x10 }, scheme: { scheme: 0x16, hashAlg: 0x0c }, keyBits: 3072,
        exponent: 65537,
      },
    }],
    ['0023 0010 0018 000b 0003 0020 000b', {
      type: 0x0023,
      parameters: {
        symmetric: { algorithm: 0x10, keyBits: 0, mode: 0x10 }, scheme: { scheme: 0x18, hashAlg: 0x0b }, curveID: 3,
        kdf: { scheme: 0x20, hashAlg: 0x0b },
      },
    }],
    ['0008 000a 000d 0022', { type: 0x0008, parameters: { scheme: { scheme: 0x0a, hashAlg: 0x0d, kdf: 0x22 } } }],
    ['0008 0005 0004', { type: 0x0008, parameters: { scheme: { scheme: 0x05, hashAlg: 0x04 } } }],
    ['0025 0006 0100 0010', { type: 0x0025, parameters: { sym: { algorithm: 0x06, keyBits: 256, mode: 0x10 } } }],
  ];
  for (const [bytes, value] of VALUES) {
    it(`TPMT_PUBLIC_PARMS ${bytes}`, () => {
      assert.deepEqual(decode(TPMT_PUBLIC_PARMS, hex(bytes)), value);
      assert.equal(Buffer.from(encode(TPMT_PUBLIC_PARMS, value)).toString('hex'), bytes.replace(/ /g, ''));
    });
  }

  it('member types alone, with the reference codes for unsupported values', () => {
    assert.equal(rcOfDecode(() => decode(TPMI_RSA_KEY_BITS, hex('0200'))), 0x084);
    assert.equal(rcOfDecode(() => decode(TPMI_ECC_CURVE, hex('0002'))), 0x0a6);
    assert.equal(rcOfDecode(() => decode(TPMT_SYM_DEF_OBJECT, hex('0010'))), 0x096);
    assert.deepEqual(decode(TPMT_SYM_DEF_OBJECT_NULL, hex('0010')), { algorithm: 0x10, keyBits: 0, mode: 0x10 });
    assert.equal(rcOfDecode(() => decode(TPMT_KDF_SCHEME, hex('0099'))), 0x08c);
    assert.deepEqual(decode(TPMT_KDF_SCHEME, hex('0010')), { scheme: 0x10 });
    assert.deepEqual(decode(TPMT_ECC_SCHEME, hex('0019 000c')), { scheme: 0x19, hashAlg: 0x0c });
    assert.equal(rcOfDecode(() => decode(TPMT_ECC_SCHEME, hex('001c 000b'))), 0x092); // ECSCHNORR: not implemented
  });
});
