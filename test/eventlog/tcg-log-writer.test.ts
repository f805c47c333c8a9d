/**
 * The TCG PC Client log writer against the PFP structures written out byte by byte here:
 * TCG_PCClientPCREvent (the Spec ID event), TCG_PCR_EVENT2, and the StartupLocality and
 * EV_EFI_HCRTM_EVENT payloads. All integers little-endian, packed.
 */
import assert from 'node:assert/strict';
import { encodeTcgEventLog, hcrtmEvent, startupLocalityEvent, type TcgPcrEvent } from '../../src/eventlog/tcg-log-writer.js';
import { parseCcEventLog } from '../../src/eventlog/cc-event-log.js';
import { ascii, hex, SHA256, SHA384, toHex } from './fixtures.js';

const SHA1 = 0x0004;
const join = (parts: string[]): string => parts.join('').replace(/\s+/g, '');

/** Spec ID event for SHA-256 then SHA-1, no vendor info: 32-byte header + 37-byte struct. */
const SPEC_ID_SHA256_SHA1 = join([
  '00000000', // PCRIndex 0
  '03000000', // EventType EV_NO_ACTION
  '00'.repeat(20), // SHA-1 digest: zeros
  '25000000', // EventSize 37 = 16 + 4 + 4 + 4 + 2*4 + 1
  '53706563204944204576656e74303300', // "Spec ID Event03\0"
  '00000000', // platformClass client
  '00 02 00 02', // specVersionMinor 0, specVersionMajor 2, specErrata 0, uintnSize 2
  '02000000', // numberOfAlgorithms
  '0b00 2000', // TPM_ALG_SHA256, 32
  '0400 1400', // TPM_ALG_SHA1, 20
  '00', // vendorInfoSize
]);

/** PFP StartupLocality event at locality 3: EV_NO_ACTION in PCR 0, zero digests in every bank. */
const STARTUP_LOCALITY_3 = join([
  '00000000', // PCRIndex 0
  '03000000', // EV_NO_ACTION
  '02000000', // digests.count
  '0b00', '00'.repeat(32), // sha256: zeros
  '0400', '00'.repeat(20), // sha1: zeros
  '11000000', // EventSize 17
  '53746172747570 4c6f63616c69747900', // "StartupLocality\0"
  '03', // StartupLocality
]);

describe('eventlog/tcg-log-writer: TCG PC Client crypto-agile log', () => {
  const tag: TcgPcrEvent = {
    pcrIndex: 16, eventType: 6,
    digests: [{ hashAlg: SHA256, digest: hex('11'.repeat(32)) }, { hashAlg: SHA1, digest: hex('22'.repeat(20)) }],
    event: ascii('ev'),
  };
  const TAG_RECORD = join([
    '10000000', // PCRIndex 16
    '06000000', // EV_EVENT_TAG
    '02000000', // digests.count
    '0b00', '11'.repeat(32),
    '0400', '22'.repeat(20),
    '02000000', // EventSize
    '6576', // "ev"
  ]);

  it('writes the Spec ID event, then TCG_PCR_EVENT2 records, exactly as the PFP lays them out', () => {
    const log = encodeTcgEventLog([SHA256, SHA1], [startupLocalityEvent(3, [SHA256, SHA1]), tag]);
    assert.equal(toHex(log), SPEC_ID_SHA256_SHA1 + STARTUP_LOCALITY_3 + TAG_RECORD);
  });

  it('an empty history is the Spec ID event alone', () => {
    assert.equal(toHex(encodeTcgEventLog([SHA256, SHA1], [])), SPEC_ID_SHA256_SHA1);
  });

  it('EV_EFI_HCRTM_EVENT: PCR 0, the H-CRTM digests, event data "HCRTM" without a NUL', () => {
    const log = encodeTcgEventLog([SHA384], [hcrtmEvent([{ hashAlg: SHA384, digest: hex('ab'.repeat(48)) }])]);
    const record = join([
      '00000000', // PCRIndex 0
      '10000080', // EV_EFI_HCRTM_EVENT 0x80000010
      '01000000', '0c00', 'ab'.repeat(48),
      '05000000', '484352544d', // "HCRTM"
    ]);
    assert.equal(toHex(log.subarray(log.length - record.length / 2)), record);
  });

  it('a record may carry fewer digests than the log has banks, and mrtpm\'s own parser reads it back', () => {
    const partial: TcgPcrEvent = { pcrIndex: 8, eventType: 6, digests: [{ hashAlg: SHA1, digest: hex('33'.repeat(20)) }], event: new Uint8Array(0) };
    const parsed = parseCcEventLog(encodeTcgEventLog([SHA256, SHA1], [tag, partial]));
    assert.equal(parsed.tail, 'end');
    assert.deepEqual(parsed.events.map((e) => [e.mrIndex, e.eventType, e.digests.map((d) => d.hashAlg)]), [[16, 6, [SHA256, SHA1]], [8, 6, [SHA1]]]);
  });

  it('refuses a digest of an algorithm that is not a bank of the log', () => {
    assert.throws(() => encodeTcgEventLog([SHA1], [tag]), /event 0 \(PCR 16\) has a sha256 digest, not a bank of the log/);
  });
});
