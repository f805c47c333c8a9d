import assert from 'node:assert/strict';
import { extendValue, requireExtendable } from '../../src/mr/extend-rule.js';
import { MrError, type MeasurementRegister } from '../../src/mr/mr-backend.js';
import { TPM_ALG } from '../../src/tpm/spec/constants.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const seq = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i);

/*
 * Expected values computed with the openssl command line, independently of this code:
 *   head -c 48 /dev/zero > v0                       # the register starts at zero
 *   head -c 48 /dev/zero | tr '\0' '\252' > d1       # 48 x 0xaa
 *   cat v0 d1 | openssl dgst -sha384 -binary > v1    # v1 = SHA384(v0 || d1)
 *   (bytes 00..2f) > d2; cat v1 d2 | openssl dgst -sha384 -binary > v2
 * and likewise for SHA-256 (32 zero bytes, 32 x 0x11, then the 3 bytes "abc": TF-RMM extends
 * `size` bytes without padding) and SHA-512 (64 zero bytes, 64 x 0x5a, then bytes 00..3f).
 */
const CASES = [
  {
    rule: 'TDX TDG.MR.RTMR.EXTEND (SHA-384)',
    alg: TPM_ALG.SHA384,
    size: 48,
    data: [new Uint8Array(48).fill(0xaa), seq(48)],
    expected: [
      '7bb2c5d8ea033e351e3bbcd999104ba4a95c440e7930e17becc2effd55069425f50dd6852cfd3b664453b66c6cb673ea',
      'bb3b9cc15289102f11a2320ea4ef29444251c4f6686eb45918ee02e9d319a092ce68a105175af91691347f67a4ba1361',
    ],
  },
  {
    rule: 'CCA RSI_MEASUREMENT_EXTEND, SHA-256 realm',
    alg: TPM_ALG.SHA256,
    size: 32,
    data: [new Uint8Array(32).fill(0x11), new TextEncoder().encode('abc')],
    expected: [
      '8878b15a7d6a3a4f464e8f9f42591dbc0cf4bedea0ec309003d2b2ee53655ef8',
      '9bc1f91d09d2591cceb88fa8507614c87eb7e23fbc6307a75c052ec79ce70972',
    ],
  },
  {
    rule: 'CCA RSI_MEASUREMENT_EXTEND, SHA-512 realm',
    alg: TPM_ALG.SHA512,
    size: 64,
    data: [new Uint8Array(64).fill(0x5a), seq(64)],
    expected: [
      '234b64a23b6bd5caeac912a5d28d537cfbe98c529ce6dc3871723331ccc3b0e07ad292c10458d941f92753b36ea324ff5197b038f4f20bb13eab33eae0dca1e4',
      'ac77f78649971313d3bc4be795198269949f79f043fc9bd6ae28e29302c992189d54c42e50771819576e599e0784b30e40cb71c87d0639dd5c6625ebf0a02eb5',
    ],
  },
];

describe('mr/extend-rule', () => {
  for (const c of CASES) {
    it(`${c.rule}: two chained extends from zero match openssl`, () => {
      let value: Uint8Array = new Uint8Array(c.size);
      c.data.forEach((data, i) => {
        value = extendValue(c.alg, value, data);
        assert.equal(toHex(value), c.expected[i]);
      });
    });
  }

  it('refuses an old value that is not a digest of the hash', () => {
    assert.throws(() => extendValue(TPM_ALG.SHA384, new Uint8Array(32), new Uint8Array(48)), RangeError);
  });

  it('requireExtendable: ENOENT, then EINVAL for the size, then EACCES', () => {
    const regs: MeasurementRegister[] = [
      { name: 'mrtd', hashAlg: TPM_ALG.SHA384, size: 48, ccMrIndex: 0, extendable: false },
      { name: 'rtmr0', hashAlg: TPM_ALG.SHA384, size: 48, ccMrIndex: 1, extendable: true },
    ];
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
        return undefined;
      } catch (err) {
        assert.ok(err instanceof MrError);
        return err.code;
      }
    };
    assert.equal(code(() => requireExtendable(regs, 'rtmr9', new Uint8Array(48))), 'ENOENT');
    assert.equal(code(() => requireExtendable(regs, 'mrtd', new Uint8Array(47))), 'EINVAL');
    assert.equal(code(() => requireExtendable(regs, 'mrtd', new Uint8Array(48))), 'EACCES');
    assert.equal(requireExtendable(regs, 'rtmr0', hex('00'.repeat(48))).name, 'rtmr0');
  });
});
