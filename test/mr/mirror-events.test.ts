import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeMirrorEvent, encodeMirrorEvent, mirrorEventSize, MRTPM_TAGGED_EVENT_ID, type MirrorEvent } from '../../src/mr/mirror-events.js';
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

describe('mr/mirror-events', () => {
  it('round-trips every event kind', () => {
    fc.assert(fc.property(event, (e) => assert.deepEqual(decodeMirrorEvent(encodeMirrorEvent(e)), e)), { numRuns: 300 });
  });

  it('encodes into one reused scratch buffer the same bytes as into a new one', () => {
    const scratch = new ScratchBuffer();
    fc.assert(fc.property(event, (e) => {
      const fresh = encodeMirrorEvent(e);
      assert.equal(fresh.length, mirrorEventSize(e));
      assert.deepEqual(encodeMirrorEvent(e, scratch.fit(mirrorEventSize(e))), fresh);
    }), { numRuns: 200 });
  });

  it('lays a PCR_Reset marker out as docs/mr-mirror.md says (TCG_PCClientTaggedEvent, little-endian)', () => {
    assert.deepEqual(
      Buffer.from(encodeMirrorEvent({ kind: 'pcr-reset', pcr: 16 })).toString('hex'),
      ['4d525450', '06000000', '01', '02', '10000000'].join(''),
    );
    assert.equal(MRTPM_TAGGED_EVENT_ID, Buffer.from('MRTP').readUInt32LE());
  });

  it('says "not ours" for other events and rejects damaged ones', () => {
    assert.equal(decodeMirrorEvent(Buffer.from('firmware event')), undefined);
    const good = encodeMirrorEvent({ kind: 'pcr-reset', pcr: 23 });
    assert.throws(() => decodeMirrorEvent(good.subarray(0, good.length - 1)));
    const badKind = Buffer.from(good);
    badKind[9] = 77;
    assert.throws(() => decodeMirrorEvent(badKind), /kind 77/);
  });
});
