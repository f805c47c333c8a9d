import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeMirrorEvent, encodeMirrorEvent, markerDigestInput, mirrorEventSize, MRTPM_TAGGED_EVENT_ID, setRegisterValues, type MirrorEvent,
} from '../../src/mr/mirror-events.js';
import { ScratchBuffer } from '../../src/eventlog/le-bytes.js';

/** Records with Object.prototype, as decoded events have. */
const rec = <T extends object>(fields: { [K in keyof T]: fc.Arbitrary<T[K]> }) => fc.record(fields, { noNullPrototype: true });

const hashes = fc.array(rec({ hashAlg: fc.constantFrom(0x0004, 0x000b, 0x000c, 0x000d), digest: fc.uint8Array({ minLength: 20, maxLength: 64 }) }), { maxLength: 4 });
const event: fc.Arbitrary<MirrorEvent> = fc.oneof(
  rec({ kind: fc.constant('extend' as const), pcr: fc.integer({ min: 0, max: 23 }), command: fc.constantFrom(0x182, 0x13c, 0x185, 0), applied: hashes, mrSourceAlg: fc.constantFrom(0x000b, 0x000c), eventData: fc.uint8Array({ maxLength: 100 }) }),
  rec({ kind: fc.constant('pcr-reset' as const), pcr: fc.integer({ min: 0, max: 23 }) }),
  rec({
    kind: fc.constant('startup' as const), startup: fc.constantFrom('reset' as const, 'restart' as const, 'resume' as const), locality: fc.integer({ min: 0, max: 4 }),
    allocation: fc.array(rec({ hash: fc.constantFrom(0x0004, 0x000b), pcrs: fc.uniqueArray(fc.integer({ min: 0, max: 23 })).map((p) => p.sort((a, b) => a - b)) }), { maxLength: 4 }),
    hcrtm: hashes,
  }),
  rec({ kind: fc.constant('operator-extend' as const), register: fc.constantFrom('rtmr3', 'rem0') }),
);

const registerValues = fc.integer({ min: 1, max: 64 }).chain((n) => rec({ old: fc.uint8Array({ minLength: n, maxLength: n }), expected: fc.uint8Array({ minLength: n, maxLength: n }) }));

describe('mr/mirror-events', () => {
  it('round-trips every event kind, without register values (unmirrored) and with them', () => {
    fc.assert(fc.property(event, (e) => assert.deepEqual(decodeMirrorEvent(encodeMirrorEvent(e)), e)), { numRuns: 300 });
    fc.assert(fc.property(event, registerValues, (e, values) => {
      const bytes = encodeMirrorEvent(e, values.old.length);
      setRegisterValues(bytes, values);
      assert.deepEqual(decodeMirrorEvent(bytes), { ...e, values });
    }), { numRuns: 300 });
  });

  it('encodes into one reused scratch buffer the same bytes as into a new one', () => {
    const scratch = new ScratchBuffer();
    fc.assert(fc.property(event, fc.constantFrom(0, 32, 48, 64), (e, size) => {
      const fresh = encodeMirrorEvent(e, size);
      assert.equal(fresh.length, mirrorEventSize(e, size));
      assert.deepEqual(encodeMirrorEvent(e, size, scratch.fit(mirrorEventSize(e, size))), fresh);
    }), { numRuns: 200 });
  });

  it('lays a PCR_Reset marker out as docs/mr-mirror.md says (TCG_PCClientTaggedEvent, little-endian)', () => {
    const marker = encodeMirrorEvent({ kind: 'pcr-reset', pcr: 16 }, 2);
    setRegisterValues(marker, { old: Uint8Array.of(0xa0, 0xa1), expected: Uint8Array.of(0xb0, 0xb1) });
    assert.deepEqual(Buffer.from(marker).toString('hex'), ['4d525450', '0c000000', '02', '02', '10000000', '0200', 'a0a1', 'b0b1'].join(''));
    // What its register digest hashes: version, kind, fields; not the register values it carries.
    assert.deepEqual(Buffer.from(markerDigestInput(marker, 2)).toString('hex'), '020210000000');
    assert.equal(MRTPM_TAGGED_EVENT_ID, Buffer.from('MRTP').readUInt32LE());
  });

  it('still decodes version 1 records (before append-first), which carry no register values', () => {
    assert.deepEqual(decodeMirrorEvent(Buffer.from('4d525450060000000102' + '10000000', 'hex')), { kind: 'pcr-reset', pcr: 16 });
  });

  it('says "not ours" for other events and rejects damaged ones', () => {
    assert.equal(decodeMirrorEvent(Buffer.from('firmware event')), undefined);
    const good = encodeMirrorEvent({ kind: 'pcr-reset', pcr: 23 }, 48);
    assert.throws(() => decodeMirrorEvent(good.subarray(0, good.length - 1)));
    const badKind = Buffer.from(good);
    badKind[9] = 77;
    assert.throws(() => decodeMirrorEvent(badKind), /kind 77/);
    const badVersion = Buffer.from(good);
    badVersion[8] = 3;
    assert.throws(() => decodeMirrorEvent(badVersion), /version 3/);
  });
});
