import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { CcEvent } from '../../src/eventlog/cc-event.js';
import { encodeCcEventLog, newCcEventLog, parseCcEventLog } from '../../src/eventlog/cc-event-log.js';
import { EV_EVENT_TAG, EV_NO_ACTION } from '../../src/eventlog/event-types.js';
import { replayCcEvents } from '../../src/eventlog/replay.js';
import { D1_SHA384, D3_SHA384, E_SHA256, hex, SHA256, SHA384, toHex } from './fixtures.js';

/*
 * Known answers computed with the openssl command line, independently of this code:
 *   d1=$(printf 'mrtpm event 1' | openssl dgst -sha384 -r | cut -d' ' -f1)   # and d2, d3 likewise
 *   z=$(printf '%096d' 0)                                                      # 48 zero bytes, hex
 *   s1=$(echo -n "$z$d1" | xxd -r -p | openssl dgst -sha384 -r | cut -d' ' -f1)
 *   s2=$(echo -n "$s1$d2" | xxd -r -p | openssl dgst -sha384 -r | cut -d' ' -f1)
 *   r3=$(echo -n "$z$d3" | xxd -r -p | openssl dgst -sha384 -r | cut -d' ' -f1)
 *   e=$(printf 'cca' | openssl dgst -sha256 -r | cut -d' ' -f1)
 *   c1=$(echo -n "$(printf '%064d' 0)$e" | xxd -r -p | openssl dgst -sha256 -r | cut -d' ' -f1)
 */
const D2_SHA384 = 'af59c989f0b96e029c2040dd782ebb59e239eeb2634f77df06deed8cddff89ef440a81434c2cecea357293f8d43c6fd1';
const S1 = '4e3edd9c7839599dfd4621bebb666162f2d5fdb8a35550023d325d2dd57169bd2d65081f91881f3d14ce702d6b1e25eb';
const S2 = '8b60555d9bf7b46baf06ceae18c862933194015dbb133c3e9bee321b22ce98dadc7f809ecacdb9cc4226c778d259efab';
const R3 = '60444c399ccd5e8c0d4a12f7a42f0e829ace598953d95e79f9575e037cceffffbe23377f76cea7865bff4a37e7b33564';
const C1 = 'ac4c73d43478ce00d8a7773fc985d6217e03675f30491bee69535f76326926a9';

const sha384 = (d: string) => ({ hashAlg: SHA384, digest: hex(d) });
const ev = (mrIndex: number, eventType: number, ...digests: { hashAlg: number; digest: Uint8Array }[]): CcEvent => ({ mrIndex, eventType, digests, event: new Uint8Array(0) });
const TDX = [3, 4].map((ccMrIndex) => ({ ccMrIndex, hashAlg: SHA384, size: 48 }));

describe('eventlog/replay', () => {
  it('matches the SHA-384 chain computed with openssl; EV_NO_ACTION records are not extended', () => {
    const events = [
      ev(4, EV_EVENT_TAG, sha384(D1_SHA384)),
      ev(4, EV_NO_ACTION, sha384(D3_SHA384)),
      ev(3, 0x80000007, sha384(D3_SHA384)),
      ev(2, EV_EVENT_TAG, sha384(D2_SHA384)),
      ev(4, EV_EVENT_TAG, sha384(D2_SHA384)),
    ];
    const values = replayCcEvents(events, TDX);
    assert.deepEqual([...values.keys()], [3, 4]);
    assert.equal(toHex(values.get(4)!), S2);
    assert.equal(toHex(values.get(3)!), R3);
    assert.equal(toHex(replayCcEvents(events.slice(0, 2), TDX).get(4)!), S1);
  });

  it('starts every register at zero', () => {
    assert.equal(toHex(replayCcEvents([], TDX).get(4)!), '00'.repeat(48));
  });

  it('uses the digest of the register algorithm (SHA-256 for a CCA realm)', () => {
    const both = ev(1, EV_EVENT_TAG, sha384(D1_SHA384), { hashAlg: SHA256, digest: hex(E_SHA256) });
    assert.equal(toHex(replayCcEvents([both], [{ ccMrIndex: 1, hashAlg: SHA256, size: 32 }]).get(1)!), C1);
  });

  it('continues from start values (a replay of an earlier log)', () => {
    const first = replayCcEvents([ev(4, EV_EVENT_TAG, sha384(D1_SHA384))], TDX);
    const next = replayCcEvents([ev(4, EV_EVENT_TAG, sha384(D2_SHA384))], TDX, { start: first });
    assert.equal(toHex(next.get(4)!), S2);
  });

  it('names the record when its digest list lacks the register algorithm', () => {
    const log = parseCcEventLog(encodeCcEventLog(newCcEventLog([SHA384, SHA256]), [ev(4, EV_EVENT_TAG, sha384(D1_SHA384)), ev(4, EV_EVENT_TAG, { hashAlg: SHA256, digest: hex(E_SHA256) })]));
    assert.throws(() => replayCcEvents(log.events, TDX, { logName: 'CCEL' }), /^Error: CCEL record 1 at offset 135 \(CC MR 4\) has no sha384 digest/);
    assert.throws(() => replayCcEvents([ev(4, EV_EVENT_TAG, { hashAlg: SHA256, digest: hex(E_SHA256) })], TDX), /event log record 0 \(CC MR 4\) has no sha384 digest/);
  });

  it('rejects register descriptions it cannot replay', () => {
    assert.throws(() => replayCcEvents([], [{ ccMrIndex: 4, hashAlg: SHA384, size: 32 }]), /size 32 is not the sha384 digest size 48/);
    assert.throws(() => replayCcEvents([], [...TDX, TDX[0]!]), /CC MR 3 listed twice/);
    assert.throws(() => replayCcEvents([], [{ ccMrIndex: 4, hashAlg: 0x0012, size: 32 }]), /unsupported hash algorithm/);
    assert.throws(() => replayCcEvents([], TDX, { start: new Map([[4, new Uint8Array(32)]]) }), /start value is 32 bytes/);
  });

  it('replays 100,000 parsed events well under a second', function () {
    this.timeout(20_000); // building and encoding the log is the slow part, and is not timed
    const digest = (i: number) => new Uint8Array(createHash('sha384').update(String(i)).digest());
    const events = Array.from({ length: 100_000 }, (_, i) => ev(1 + (i % 4), EV_EVENT_TAG, { hashAlg: SHA384, digest: digest(i) }));
    const bytes = encodeCcEventLog(newCcEventLog([SHA384]), events);
    let t = performance.now();
    const log = parseCcEventLog(bytes);
    const parseMs = performance.now() - t;
    t = performance.now();
    const values = replayCcEvents(log.events, [1, 2, 3, 4].map((ccMrIndex) => ({ ccMrIndex, hashAlg: SHA384, size: 48 })));
    const replayMs = performance.now() - t;
    console.log(`      100k events (${(bytes.length / 1e6).toFixed(1)} MB): parse ${parseMs.toFixed(0)} ms, replay ${replayMs.toFixed(0)} ms`);
    assert.equal(log.events.length, 100_000);
    let expected = new Uint8Array(48);
    for (let i = 3; i < events.length; i += 4) expected = new Uint8Array(createHash('sha384').update(expected).update(events[i]!.digests[0]!.digest).digest());
    assert.equal(toHex(values.get(4)!), toHex(expected));
    assert.ok(replayMs < 1000, `replay took ${replayMs} ms`);
  });
});
