import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeCcEvent, type CcEvent } from '../../src/eventlog/cc-event.js';
import { encodeCcEventLog, eventToJson, logToJson, newCcEventLog, parseCcEventLog } from '../../src/eventlog/cc-event-log.js';
import { EventLogError } from '../../src/eventlog/le-bytes.js';
import { encodeSpecIdRecord, type SpecIdAlgorithm } from '../../src/eventlog/spec-id-event.js';
import { D1_SHA384, D3_SHA384, E_SHA256, hex, LOG_HEX, RECORD_ENDS, SHA256, SHA384, SPEC_ID_LENGTH, toHex } from './fixtures.js';

const LOG = hex(LOG_HEX);
const [R1, R2, END] = [RECORD_ENDS[0]!, RECORD_ENDS[1]!, RECORD_ENDS[2]!];

function withTail(log: Uint8Array, tail: Uint8Array): Uint8Array {
  const out = new Uint8Array(log.length + tail.length);
  out.set(log);
  out.set(tail, log.length);
  return out;
}

function assertMalformedAt(bytes: Uint8Array, offset: number, message: RegExp): void {
  assert.throws(
    () => parseCcEventLog(bytes),
    (e: unknown) => e instanceof EventLogError && e.kind === 'malformed' && e.offset === offset && e.message.includes(`offset ${offset}`) && message.test(e.message),
  );
}

describe('eventlog/cc-event-log', () => {
  it('parses the hand-built log field by field', () => {
    const log = parseCcEventLog(LOG);
    assert.equal(log.tail, 'end');
    assert.equal(log.validLength, LOG.length);
    assert.deepEqual(log.specId.algorithms, [
      { hashAlg: SHA384, digestSize: 48 },
      { hashAlg: SHA256, digestSize: 32 },
    ]);
    assert.equal(log.events.length, 2);
    const [e1, e2] = log.events;
    assert.equal(e1!.offset, SPEC_ID_LENGTH);
    assert.equal(e1!.mrIndex, 4);
    assert.equal(e1!.eventType, 6);
    assert.deepEqual(
      e1!.digests.map((d) => [d.hashAlg, toHex(d.digest)]),
      [
        [SHA384, D1_SHA384],
        [SHA256, E_SHA256],
      ],
    );
    assert.equal(Buffer.from(e1!.event).toString(), 'hello');
    assert.equal(e2!.offset, R2);
    assert.equal(e2!.mrIndex, 1);
    assert.equal(e2!.eventType, 0x80000007);
    assert.deepEqual(
      e2!.digests.map((d) => [d.hashAlg, toHex(d.digest)]),
      [[SHA384, D3_SHA384]],
    );
    assert.equal(e2!.event.length, 0);
  });

  it('resumes at a record boundary: only the records from there, offsets and tail as in a full parse', () => {
    const resumed = parseCcEventLog(LOG, { from: R2 });
    assert.deepEqual(resumed.events, parseCcEventLog(LOG).events.slice(1));
    assert.equal(resumed.validLength, LOG.length);
    assert.equal(parseCcEventLog(LOG.subarray(0, LOG.length - 1), { from: R2 }).tail, 'torn');
    assert.deepEqual(parseCcEventLog(LOG, { from: LOG.length }).events, []);
    assert.throws(() => parseCcEventLog(LOG, { from: SPEC_ID_LENGTH - 1 }), /cannot resume the log at/);
    assert.throws(() => parseCcEventLog(LOG, { from: LOG.length + 1 }), /cannot resume the log at/);
  });

  it('accepts a Buffer and returns plain Uint8Array views', () => {
    const log = parseCcEventLog(Buffer.from(LOG));
    assert.equal(Buffer.isBuffer(log.events[0]!.event), false);
    assert.equal(Buffer.isBuffer(log.events[0]!.digests[0]!.digest), false);
  });

  it('round-trips random logs: any algorithm table, events with any subset of its digests', () => {
    const knownAlgs: SpecIdAlgorithm[] = [
      { hashAlg: 0x0004, digestSize: 20 },
      { hashAlg: SHA256, digestSize: 32 },
      { hashAlg: SHA384, digestSize: 48 },
      { hashAlg: 0x000d, digestSize: 64 },
    ];
    // Algorithms mrtpm does not implement are sized by the table alone (SM3, a vendor hash).
    const otherAlg = fc.tuple(fc.integer({ min: 0x0100, max: 0xffff }), fc.integer({ min: 1, max: 80 })).map(([hashAlg, digestSize]) => ({ hashAlg, digestSize }));
    const table = fc
      .tuple(fc.subarray(knownAlgs), fc.array(otherAlg, { maxLength: 2 }))
      .map(([known, other]) => [...known, ...other])
      .filter((algs) => algs.length > 0 && new Set(algs.map((a) => a.hashAlg)).size === algs.length);
    const event = (algs: SpecIdAlgorithm[]): fc.Arbitrary<CcEvent> =>
      fc
        .record({
          mrIndex: fc.nat({ max: 0xffffffff }),
          eventType: fc.oneof(fc.constantFrom(3, 6, 0x80000001), fc.nat({ max: 0xffffffff })),
          digests: fc.shuffledSubarray(algs, { minLength: 1 }).chain((chosen) =>
            fc.tuple(...chosen.map((a) => fc.uint8Array({ minLength: a.digestSize, maxLength: a.digestSize }).map((digest) => ({ hashAlg: a.hashAlg, digest })))),
          ),
          event: fc.uint8Array({ maxLength: 40 }),
        })
        // mrIndex = eventType = 0 or 0xFFFFFFFF starts like padding; the encoder refuses those.
        .filter((e) => !(e.mrIndex === e.eventType && (e.mrIndex === 0 || e.mrIndex === 0xffffffff)));
    const logArb = table.chain((algs) => fc.record({ algs: fc.constant(algs), vendor: fc.uint8Array({ maxLength: 12 }), events: fc.array(event(algs), { maxLength: 8 }) }));
    fc.assert(
      fc.property(logArb, ({ algs, vendor, events }) => {
        const specIdRecord = encodeSpecIdRecord(algs, vendor);
        const bytes = encodeCcEventLog(specIdRecord, events);
        const parsed = parseCcEventLog(bytes);
        assert.equal(parsed.tail, 'end');
        assert.equal(parsed.validLength, bytes.length);
        assert.deepEqual(parsed.specId.algorithms, algs);
        assert.deepEqual([...parsed.specId.vendorInfo], [...vendor]);
        const norm = (e: CcEvent) => ({ ...e, digests: e.digests.map((d) => ({ hashAlg: d.hashAlg, digest: toHex(d.digest) })), event: toHex(e.event) });
        assert.deepEqual(parsed.events.map(({ offset: _, ...e }) => norm(e)), events.map(norm));
        let offset = specIdRecord.length;
        for (const [i, e] of parsed.events.entries()) {
          assert.equal(e.offset, offset);
          offset += encodeCcEvent(events[i]!).length;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('reports a torn tail at every truncation point, with validLength at the last whole record', () => {
    for (let cut = SPEC_ID_LENGTH; cut <= LOG.length; cut++) {
      const log = parseCcEventLog(LOG.subarray(0, cut));
      const complete = RECORD_ENDS.filter((end) => end <= cut);
      assert.equal(log.validLength, complete.at(-1), `cut at ${cut}`);
      assert.equal(log.events.length, complete.length - 1, `cut at ${cut}`);
      assert.equal(log.tail, RECORD_ENDS.includes(cut) ? 'end' : 'torn', `cut at ${cut}`);
    }
  });

  it('cannot parse a log whose Spec ID record is cut short', () => {
    for (let cut = 0; cut < SPEC_ID_LENGTH; cut++) {
      assert.throws(() => parseCcEventLog(LOG.subarray(0, cut)), (e: unknown) => e instanceof EventLogError && e.offset === 0, `cut at ${cut}`);
    }
  });

  for (const fill of [0xff, 0x00]) {
    const name = `0x${fill.toString(16).padStart(2, '0')}`;

    it(`stops at CCEL padding: an 8-byte all-${name} word where a record would start`, () => {
      const log = parseCcEventLog(withTail(LOG, new Uint8Array(4096).fill(fill)));
      assert.equal(log.tail, 'padding');
      assert.equal(log.validLength, END);
      assert.equal(log.events.length, 2);
      const afterSpecId = parseCcEventLog(withTail(LOG.subarray(0, R1), new Uint8Array(8).fill(fill)));
      assert.deepEqual([afterSpecId.tail, afterSpecId.validLength, afterSpecId.events.length], ['padding', R1, 0]);
    });

    it(`takes a record whose header was ${name}-filled after a crash for a torn tail`, () => {
      // Cut after MrIndex, EventType or the digest count: the fill reaches a field it makes
      // impossible. (Fill that only reaches digest or event bytes parses: replay catches that.)
      for (const written of [4, 8, 12]) {
        const bytes = withTail(LOG.subarray(0, R2 + written), new Uint8Array(END - R2 - written + 8).fill(fill));
        const log = parseCcEventLog(bytes);
        assert.deepEqual([log.tail, log.validLength, log.events.length], ['torn', R2, 1], `${written} bytes of the record written`);
      }
    });
  }

  it('a short run of fill bytes at the end is a torn record, not padding', () => {
    const log = parseCcEventLog(withTail(LOG, new Uint8Array(5).fill(0xff)));
    assert.deepEqual([log.tail, log.validLength], ['torn', END]);
  });

  it('throws a clear error naming the offset for a malformed record in the middle', () => {
    const unknownAlg = hex(LOG_HEX);
    unknownAlg.set(hex('9999'), R1 + 12);
    assertMalformedAt(unknownAlg, R1, /digest 0: hash algorithm 0x9999 is neither in the Spec ID event nor a known hash/);
    const hugeCount = hex(LOG_HEX);
    hugeCount.set(hex('41414141'), R2 + 8);
    assertMalformedAt(hugeCount, R2, /digest count 1094795585/);
    const zeroCount = hex(LOG_HEX);
    zeroCount.set(hex('00000000'), R1 + 8);
    assertMalformedAt(zeroCount, R1, /digest count 0 /);
    const twice = hex(LOG_HEX);
    twice.set(hex('0c00'), R1 + 14 + 48);
    assertMalformedAt(twice, R1, /sha384 listed twice/);
  });

  it('an EventSize beyond maxEventSize is corruption, not a torn tail', () => {
    const bigSize = hex(LOG_HEX);
    bigSize.set(hex('ffffff7f'), R1 + 12 + 2 + 48 + 2 + 32);
    assertMalformedAt(bigSize, R1, /EventSize 2147483647 exceeds the 16777216-byte limit/);
    assert.throws(() => parseCcEventLog(LOG, { maxEventSize: 4 }), /offset 71: EventSize 5 exceeds the 4-byte limit/);
    assert.equal(parseCcEventLog(LOG, { maxEventSize: 5 }).events.length, 2);
  });

  it('newCcEventLog starts a log for the given hashes', () => {
    const start = newCcEventLog([SHA384]);
    const log = parseCcEventLog(start);
    assert.deepEqual([log.tail, log.validLength, log.events.length], ['end', start.length, 0]);
    assert.deepEqual(log.specId.algorithms, [{ hashAlg: SHA384, digestSize: 48 }]);
    assert.equal(toHex(start), toHex(encodeSpecIdRecord([{ hashAlg: SHA384, digestSize: 48 }])));
    assert.throws(() => newCcEventLog([0x0012]), /unsupported hash algorithm 0x0012/);
  });

  it('renders JSON with algorithm and event type names and hex bytes', () => {
    const json = logToJson(parseCcEventLog(LOG));
    assert.deepEqual(json, {
      specId: {
        signature: 'Spec ID Event03',
        platformClass: 0,
        specVersionMajor: 2,
        specVersionMinor: 0,
        specErrata: 0,
        uintnSize: 2,
        algorithms: [
          { hashAlg: 'sha384', digestSize: 48 },
          { hashAlg: 'sha256', digestSize: 32 },
        ],
        vendorInfo: '6162',
      },
      events: [
        {
          offset: R1,
          mrIndex: 4,
          eventType: 'EV_EVENT_TAG',
          digests: [
            { hashAlg: 'sha384', digest: D1_SHA384 },
            { hashAlg: 'sha256', digest: E_SHA256 },
          ],
          event: '68656c6c6f',
        },
        { offset: R2, mrIndex: 1, eventType: 'EV_EFI_ACTION', digests: [{ hashAlg: 'sha384', digest: D3_SHA384 }], event: '' },
      ],
      validLength: END,
      tail: 'end',
    });
    assert.deepEqual(Object.keys(json.events[0]!), ['offset', 'mrIndex', 'eventType', 'digests', 'event']);
    const unparsed = eventToJson({ mrIndex: 2, eventType: 0x1234, digests: [{ hashAlg: 0x0012, digest: hex('00ff') }], event: hex('') });
    assert.deepEqual(unparsed, { mrIndex: 2, eventType: '0x00001234', digests: [{ hashAlg: '0x0012', digest: '00ff' }], event: '' });
  });
});
