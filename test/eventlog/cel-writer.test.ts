/**
 * The CEL-JSON writer against the TCG Canonical Event Log structure: a JSON array of records
 * {recnum, pcr, digests [{hashAlg, digest}], content_type, content}, PC Client events with content
 * type "pcclient_std" and content {event_type, event_data}, bytes in lower-case hex, recnum from 0
 * per PCR. The CEL v1.0 example record (section 5.3: PCR 6, EV_COMPACT_HASH, record 2 of PCR 6)
 * is written out here and must come out field for field.
 */
import assert from 'node:assert/strict';
import { celRecords, encodeCelJson } from '../../src/eventlog/cel-writer.js';
import type { TcgPcrEvent } from '../../src/eventlog/tcg-log-writer.js';
import { ascii, hex, SHA256 } from './fixtures.js';

const SHA1 = 0x0004;

const CEL_EXAMPLE = {
  recnum: 2,
  pcr: 6,
  digests: [
    { hashAlg: 'sha1', digest: 'bac9a8935b720760bcdea2faae75152f5d1e4bea' },
    { hashAlg: 'sha256', digest: 'd18bf8d221a3a3b08774c8d077328c4b2ca205e4f1618ad4bac2b5786f453bc7' },
  ],
  content_type: 'pcclient_std',
  content: { event_type: 'EV_COMPACT_HASH', event_data: '44656c6c20436f6e66696775726174696f6e20496e666f726d6174696f6e2032' },
};

const event = (pcrIndex: number, eventType: number, data = ''): TcgPcrEvent => ({
  pcrIndex, eventType, digests: [{ hashAlg: SHA256, digest: hex('01'.repeat(32)) }], event: ascii(data),
});

describe('eventlog/cel-writer: TCG Canonical Event Log, JSON encoding', () => {
  it('encodes the CEL spec example record field for field (recnum counts per PCR)', () => {
    const example: TcgPcrEvent = {
      pcrIndex: 6, eventType: 0xc,
      digests: CEL_EXAMPLE.digests.map((d) => ({ hashAlg: d.hashAlg === 'sha1' ? SHA1 : SHA256, digest: hex(d.digest) })),
      event: ascii('Dell Configuration Information 2'),
    };
    const records = celRecords([event(6, 0xc), event(4, 6), event(6, 0xc), example]);
    assert.deepEqual(records.map((r) => [r.pcr, r.recnum]), [[6, 0], [4, 0], [6, 1], [6, 2]]);
    assert.deepEqual(records[3], CEL_EXAMPLE);
    assert.deepEqual(Object.keys(records[3]!), ['recnum', 'pcr', 'digests', 'content_type', 'content']);
  });

  it('the text is a JSON array of the records; an event type without an EV_ name is a number', () => {
    const text = encodeCelJson([event(0, 3, 'StartupLocality\0\x03'), event(23, 0x12345678)]);
    const parsed = JSON.parse(text) as { pcr: number; content: { event_type: unknown; event_data: string } }[];
    assert.ok(Array.isArray(parsed));
    assert.deepEqual(parsed.map((r) => r.content), [
      { event_type: 'EV_NO_ACTION', event_data: '537461727475704c6f63616c6974790003' },
      { event_type: 0x12345678, event_data: '' },
    ]);
    assert.deepEqual(JSON.parse(encodeCelJson([])), []);
  });
});
