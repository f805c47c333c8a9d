import assert from 'node:assert/strict';
import { EventLogError } from '../../src/eventlog/le-bytes.js';
import { encodeSpecIdRecord, parseSpecIdRecord, specIdDigestSizes } from '../../src/eventlog/spec-id-event.js';
import { ascii, hex, SHA256, SHA384, SPEC_ID_LENGTH, SPEC_ID_RECORD_HEX, toHex } from './fixtures.js';

/** Replaces the bytes at `at` in a copy of the fixture record. */
function patched(at: number, bytes: string): Uint8Array {
  const b = hex(SPEC_ID_RECORD_HEX);
  b.set(hex(bytes), at);
  return b;
}

function assertMalformed(bytes: Uint8Array, message: RegExp): void {
  assert.throws(() => parseSpecIdRecord(bytes), (e: unknown) => e instanceof EventLogError && e.kind === 'malformed' && message.test(e.message));
}

describe('eventlog/spec-id-event', () => {
  const algs = [
    { hashAlg: SHA384, digestSize: 48 },
    { hashAlg: SHA256, digestSize: 32 },
  ];

  it('encodes the legacy TCG_PCR_EVENT header and TCG_EfiSpecIDEventStruct byte for byte', () => {
    assert.equal(toHex(encodeSpecIdRecord(algs, ascii('ab'))), SPEC_ID_RECORD_HEX);
  });

  it('parses every field of the hand-built record', () => {
    const { specId, length } = parseSpecIdRecord(hex(SPEC_ID_RECORD_HEX));
    assert.equal(length, SPEC_ID_LENGTH);
    assert.equal(specId.platformClass, 0);
    assert.equal(specId.specVersionMinor, 0);
    assert.equal(specId.specVersionMajor, 2);
    assert.equal(specId.specErrata, 0);
    assert.equal(specId.uintnSize, 2);
    assert.deepEqual(specId.algorithms, algs);
    assert.deepEqual([...specId.vendorInfo], [...ascii('ab')]);
  });

  it('a single-algorithm log without vendor info is 65 bytes', () => {
    const record = encodeSpecIdRecord([{ hashAlg: SHA384, digestSize: 48 }]);
    assert.equal(record.length, 32 + 33);
    assert.equal(parseSpecIdRecord(record).length, 65);
  });

  it('digest sizes come from the table, falling back to known hashes', () => {
    const sm3 = 0x0012;
    const { specId } = parseSpecIdRecord(encodeSpecIdRecord([{ hashAlg: sm3, digestSize: 32 }]));
    const sizes = specIdDigestSizes(specId);
    assert.equal(sizes.get(sm3), 32);
    assert.equal(sizes.get(SHA384), 48);
    assert.equal(sizes.get(0x0004), 20);
  });

  it('refuses an algorithm table the parser could not use', () => {
    assert.throws(() => encodeSpecIdRecord([]), /no algorithms/);
    assert.throws(() => encodeSpecIdRecord([algs[0]!, algs[0]!]), /listed twice/);
    assert.throws(() => encodeSpecIdRecord([{ hashAlg: SHA384, digestSize: 32 }]), /digest size 32 for sha384, which has 48-byte digests/);
    assert.throws(() => encodeSpecIdRecord(algs, new Uint8Array(256)), /vendorInfo is 256 bytes/);
  });

  it('rejects a first record that is not EV_NO_ACTION', () => {
    assertMalformed(patched(4, '06000000'), /offset 0: the first record must be the Spec ID event/);
  });

  it('rejects a wrong signature (e.g. the TPM 1.2 "Spec ID Event00")', () => {
    assertMalformed(patched(32, toHex(ascii('Spec ID Event00\0'))), /signature is not "Spec ID Event03"/);
  });

  it('rejects an EventSize too small for the fields it announces', () => {
    const short = hex(SPEC_ID_RECORD_HEX).subarray(0, SPEC_ID_LENGTH - 2);
    short.set(hex('25000000'), 28);
    assertMalformed(short, /EventSize 37 is too small/);
  });

  it('rejects bytes left over inside EventSize', () => {
    const long = new Uint8Array(SPEC_ID_LENGTH + 1);
    long.set(hex(SPEC_ID_RECORD_HEX));
    long.set(hex('28000000'), 28);
    assertMalformed(long, /unused bytes after vendorInfo inside EventSize \(1\)/);
  });

  it('rejects a numberOfAlgorithms larger than the event and a wrong known digest size', () => {
    assertMalformed(patched(56, 'ffffff7f'), /numberOfAlgorithms 2147483647 does not fit/);
    assertMalformed(patched(62, '2000'), /digest size 32 for sha384/);
  });

  it('reports a record cut short as truncated', () => {
    assert.throws(
      () => parseSpecIdRecord(hex(SPEC_ID_RECORD_HEX).subarray(0, 40)),
      (e: unknown) => e instanceof EventLogError && e.kind === 'truncated' && e.offset === 0,
    );
  });
});
