import assert from 'node:assert/strict';
import { ccEventSize, encodeCcEvent, type CcEvent } from '../../src/eventlog/cc-event.js';
import { ScratchBuffer } from '../../src/eventlog/le-bytes.js';
import { EV_EVENT_TAG, EV_NO_ACTION, EVENT_TYPES, eventTypeName } from '../../src/eventlog/event-types.js';
import { ascii, D1_SHA384, D3_SHA384, E_SHA256, hex, RECORD1_HEX, RECORD2_HEX, SHA256, SHA384, toHex } from './fixtures.js';

describe('eventlog/cc-event', () => {
  const record1: CcEvent = {
    mrIndex: 4,
    eventType: EV_EVENT_TAG,
    digests: [
      { hashAlg: SHA384, digest: hex(D1_SHA384) },
      { hashAlg: SHA256, digest: hex(E_SHA256) },
    ],
    event: ascii('hello'),
  };

  it('encodes CC_EVENT as the hand-built bytes', () => {
    assert.equal(toHex(encodeCcEvent(record1)), RECORD1_HEX);
    const record2 = { mrIndex: 1, eventType: EVENT_TYPES.EV_EFI_ACTION, digests: [{ hashAlg: SHA384, digest: hex(D3_SHA384) }], event: new Uint8Array(0) };
    assert.equal(toHex(encodeCcEvent(record2)), RECORD2_HEX);
  });

  it('encodes into a reused scratch buffer the same bytes, as a view of its start', () => {
    const scratch = new ScratchBuffer();
    const small = scratch.fit(ccEventSize(record1));
    const bytes = encodeCcEvent(record1, small);
    assert.equal(toHex(bytes), RECORD1_HEX);
    assert.equal(bytes.length, ccEventSize(record1));
    assert.equal(bytes.buffer, small.buffer);
    const big = { ...record1, event: new Uint8Array(1000).fill(9) };
    const grown = scratch.fit(ccEventSize(big));
    assert.ok(grown.length >= ccEventSize(big));
    assert.deepEqual(encodeCcEvent(big, grown), encodeCcEvent(big));
    assert.throws(() => encodeCcEvent(big, new Uint8Array(ccEventSize(big) - 1)), /needs \d+ bytes/);
  });

  it('keeps the TCG event type numbers', () => {
    assert.equal(EV_NO_ACTION, 3);
    assert.equal(EV_EVENT_TAG, 6);
    assert.equal(EVENT_TYPES.EV_SEPARATOR, 4);
    assert.equal(EVENT_TYPES.EV_EFI_BOOT_SERVICES_APPLICATION, 0x80000003);
    assert.equal(eventTypeName(3), 'EV_NO_ACTION');
    assert.equal(eventTypeName(0x80000007), 'EV_EFI_ACTION');
    assert.equal(eventTypeName(0xabcd), '0x0000abcd');
  });

  it('refuses records a parser would misread', () => {
    const digests = record1.digests;
    assert.throws(() => encodeCcEvent({ ...record1, digests: [] }), /at least one digest/);
    assert.throws(() => encodeCcEvent({ ...record1, digests: [digests[0]!, digests[0]!] }), /names sha384 twice/);
    assert.throws(() => encodeCcEvent({ ...record1, digests: [{ hashAlg: SHA384, digest: new Uint8Array(32) }] }), /sha384 digest is 32 bytes, expected 48/);
    assert.throws(() => encodeCcEvent({ ...record1, mrIndex: 0, eventType: 0 }), /reads as CCEL padding/);
    assert.throws(() => encodeCcEvent({ ...record1, mrIndex: 0xffffffff, eventType: 0xffffffff }), /reads as CCEL padding/);
    assert.throws(() => encodeCcEvent({ ...record1, mrIndex: -1 }), RangeError);
    assert.throws(() => encodeCcEvent({ ...record1, eventType: 2 ** 32 }), RangeError);
    assert.throws(() => encodeCcEvent({ ...record1, digests: [{ hashAlg: 0x10000, digest: new Uint8Array(1) }] }), RangeError);
  });

  it('writes digests of algorithms it does not know as given (the Spec ID table sizes them)', () => {
    const sm3 = { hashAlg: 0x0012, digest: new Uint8Array(32).fill(7) };
    const bytes = encodeCcEvent({ ...record1, digests: [sm3] });
    assert.equal(toHex(bytes.subarray(12, 14)), '1200');
    assert.equal(bytes.length, 12 + 2 + 32 + 4 + 5);
  });
});
