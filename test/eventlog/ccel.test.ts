import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CcEvent } from '../../src/eventlog/cc-event.js';
import { encodeCcEventLog, newCcEventLog, parseCcEventLog } from '../../src/eventlog/cc-event-log.js';
import { CCEL_DATA_PATH, readCcel, replayCcelThenLog } from '../../src/eventlog/ccel.js';
import { EV_EVENT_TAG, EV_NO_ACTION, EVENT_TYPES } from '../../src/eventlog/event-types.js';
import { replayCcEvents } from '../../src/eventlog/replay.js';
import { D1_SHA384, D3_SHA384, hex, SHA384, toHex } from './fixtures.js';

const ev = (mrIndex: number, eventType: number, digest: string): CcEvent => ({ mrIndex, eventType, digests: [{ hashAlg: SHA384, digest: hex(digest) }], event: new Uint8Array(3) });
const RTMRS = [1, 2, 3, 4].map((ccMrIndex) => ({ ccMrIndex, hashAlg: SHA384, size: 48 }));

describe('eventlog/ccel', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mrtpm-ccel-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const firmware = [ev(1, EVENT_TYPES.EV_EFI_PLATFORM_FIRMWARE_BLOB2, D1_SHA384), ev(1, EV_NO_ACTION, D3_SHA384), ev(2, EVENT_TYPES.EV_SEPARATOR, D3_SHA384)];
  const runtime = [ev(4, EV_EVENT_TAG, D1_SHA384), ev(2, EV_EVENT_TAG, D1_SHA384)];

  it('reads the kernel path by default', () => {
    assert.equal(CCEL_DATA_PATH, '/sys/firmware/acpi/tables/data/CCEL');
  });

  it('returns undefined when there is no CCEL', () => {
    assert.equal(readCcel(join(dir, 'missing')), undefined);
  });

  it('reads the log area up to its padding (LAML bytes, unused tail 0xFF)', () => {
    const area = new Uint8Array(64 * 1024).fill(0xff);
    area.set(encodeCcEventLog(newCcEventLog([SHA384]), firmware));
    const path = join(dir, 'CCEL');
    writeFileSync(path, area);
    const ccel = readCcel(path)!;
    assert.equal(ccel.tail, 'padding');
    assert.deepEqual(
      ccel.events.map((e) => [e.mrIndex, e.eventType]),
      firmware.map((e) => [e.mrIndex, e.eventType]),
    );
  });

  it('replays CCEL then the runtime log as one concatenated history', () => {
    const ccel = parseCcEventLog(encodeCcEventLog(newCcEventLog([SHA384]), firmware));
    const log = parseCcEventLog(encodeCcEventLog(newCcEventLog([SHA384]), runtime));
    const live = replayCcelThenLog(ccel, log.events, RTMRS);
    const concatenated = replayCcEvents([...firmware, ...runtime], RTMRS);
    assert.deepEqual([...live].map(([i, v]) => [i, toHex(v)]), [...concatenated].map(([i, v]) => [i, toHex(v)]));
    assert.notEqual(toHex(live.get(2)!), toHex(replayCcEvents(runtime, RTMRS).get(2)!));
  });

  it('without a CCEL the runtime log alone is the history', () => {
    const live = replayCcelThenLog(undefined, runtime, RTMRS);
    assert.equal(toHex(live.get(4)!), toHex(replayCcEvents(runtime, RTMRS).get(4)!));
  });

  it('names the log whose record cannot be replayed', () => {
    const sha256Only: CcEvent = { mrIndex: 3, eventType: EV_EVENT_TAG, digests: [{ hashAlg: 0x000b, digest: new Uint8Array(32) }], event: new Uint8Array(0) };
    assert.throws(() => replayCcelThenLog(parseCcEventLog(encodeCcEventLog(newCcEventLog([SHA384, 0x000b]), [sha256Only])), [], RTMRS), /^Error: CCEL record 0 at offset \d+ \(CC MR 3\)/);
    assert.throws(() => replayCcelThenLog(undefined, [sha256Only], RTMRS), /^Error: mrtpm event log record 0 \(CC MR 3\)/);
  });
});
