/**
 * The exported PCR history against the TPM itself: whatever the sequence of PCR_Extend,
 * PCR_Event, PCR_Reset, TPM Restart at localities 0 and 3, Resume, H-CRTM (before a Startup(CLEAR)
 * or a Resume) and DRTM on the engine with
 * the mirror, the exported TCG log, replayed here by the PFP rules (written out in this file: PCR
 * 0 starts from the StartupLocality event or the H-CRTM event, EV_NO_ACTION extends nothing),
 * gives the TPM's PCR values. And scenarios built from mirror events check what is left out.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { Tpm } from '../../src/tpm/engine/tpm.js';
import { manufacture } from '../../src/tpm/state/initial-state.js';
import { parseCcEventLog } from '../../src/eventlog/cc-event-log.js';
import type { CcEvent } from '../../src/eventlog/cc-event.js';
import { encodeTcgEventLog } from '../../src/eventlog/tcg-log-writer.js';
import { encodeMirrorEvent, type MirrorEvent } from '../../src/mr/mirror-events.js';
import { pcrHistory } from '../../src/mr/pcr-history.js';
import { exportNotes, pcrClientEvents } from '../../src/mr/pcr-event-log.js';
import { ALG, BANKS, bankOf, commands, rcOf, type Bank } from '../tpm/helpers/pcr-cmd.js';
import { applyPcrOp, type PcrOp } from './helpers/pcr-ops.js';
import { mirrorRig } from './helpers/mirror-rig.js';

const SU_CLEAR = 0;
const SU_STATE = 1;
const EV_NO_ACTION = 3;
const EV_EFI_HCRTM_EVENT = 0x80000010;
const STARTUP_LOCALITY = Buffer.from('StartupLocality\0', 'latin1');

/** PFP replay of a TCG crypto-agile log: bank -> PCR -> value, for the PCRs the log names. */
function pfpReplay(log: Uint8Array): Map<Bank, Map<number, Buffer>> {
  const parsed = parseCcEventLog(log);
  assert.equal(parsed.tail, 'end');
  const banks = new Map(parsed.specId.algorithms.map((a) => [bankOf(a.hashAlg), new Map<number, Buffer>()]));
  const value = (bank: Bank, pcr: number): Buffer => banks.get(bank)!.get(pcr) ?? Buffer.alloc(createHash(bank).digest().length);
  for (const ev of parsed.events) {
    const startupLocality = ev.eventType === EV_NO_ACTION && ev.mrIndex === 0 && Buffer.from(ev.event.subarray(0, 16)).equals(STARTUP_LOCALITY);
    for (const d of ev.digests) {
      const bank = bankOf(d.hashAlg);
      let v = value(bank, ev.mrIndex);
      if (startupLocality || ev.eventType === EV_EFI_HCRTM_EVENT) {
        v = Buffer.alloc(v.length);
        v[v.length - 1] = startupLocality ? ev.event[16]! : 4;
      }
      if (ev.eventType !== EV_NO_ACTION) v = createHash(bank).update(v).update(d.digest).digest();
      banks.get(bank)!.set(ev.mrIndex, v);
    }
  }
  return banks;
}

type Op =
  | PcrOp
  | { t: 'hcrtm'; data: Uint8Array; resume: boolean }
  | { t: 'drtm'; data: Uint8Array };

const pcr = fc.integer({ min: 0, max: 23 });
const locality = fc.integer({ min: 0, max: 4 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('extend' as const), pcr, locality, banks: fc.subarray(BANKS, { minLength: 1 }), seed: fc.uint8Array({ minLength: 1, maxLength: 8 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('event' as const), pcr, locality, data: fc.uint8Array({ maxLength: 64 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('reset' as const), pcr: fc.constantFrom(16, 20, 21, 22, 23), locality }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('restart' as const), locality: fc.constantFrom(0, 3) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'resume' as const }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('hcrtm' as const), data: fc.uint8Array({ maxLength: 32 }), resume: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('drtm' as const), data: fc.uint8Array({ maxLength: 32 }) }) },
);

function run(banks: Bank[], ops: Op[]): void {
  const rig = mirrorRig({ kind: 'tdx-sim' });
  try {
    const tpm = new Tpm(manufacture(banks.map((b) => ALG[b])), undefined, { now: () => 0, persistentChanged: () => undefined, pcrObserver: rig.mirror });
    tpm.powerOn();
    const exec = (c: Buffer, loc = 0): number => rcOf(tpm.execute(c, loc, 0).response);
    const measure = (data: Uint8Array): void => { tpm.hashStart(); tpm.hashData(data); tpm.hashEnd(); };
    assert.equal(exec(commands.startup(SU_CLEAR)), 0);
    for (const o of ops) {
      switch (o.t) {
        case 'hcrtm':
          if (o.resume) {
            assert.equal(exec(commands.shutdown(SU_STATE)), 0);
            tpm.init();
          } else {
            tpm.powerOff();
            tpm.powerOn();
          }
          measure(o.data);
          assert.equal(exec(commands.startup(o.resume ? SU_STATE : SU_CLEAR)), 0);
          break;
        case 'drtm':
          measure(o.data);
          break;
        default:
          applyPcrOp(tpm, exec, o);
      }
    }
    const history = pcrHistory(rig.events());
    const replayed = pfpReplay(encodeTcgEventLog(history.hashAlgs, pcrClientEvents(history)));
    for (const [alg, values] of tpm.volatile.pcrs) {
      const bank = bankOf(alg);
      values.forEach((actual, p) => {
        const fromLog = replayed.get(bank)?.get(p);
        if (history.fromAllOnes.includes(p) && fromLog !== undefined) {
          // Reported as not replayable: the TPM extended from all ones, the log replays from zero.
          assert.notEqual(Buffer.from(actual).toString('hex'), fromLog.toString('hex'), `${bank}:${p}`);
          return;
        }
        // A PCR the log does not name holds its reset value: zeros (17-22: all ones, not replayable).
        const expected = fromLog ?? Buffer.alloc(actual.length, p >= 17 && p <= 22 && actual[0] === 0xff ? 0xff : 0);
        assert.equal(Buffer.from(actual).toString('hex'), expected.toString('hex'), `${bank}:${p}`);
      });
    }
  } finally {
    rig.close();
  }
}

const record = (e: MirrorEvent): CcEvent => ({ mrIndex: 4, eventType: 6, digests: [{ hashAlg: ALG.sha384, digest: new Uint8Array(48) }], event: encodeMirrorEvent(e) });
const ALL_PCRS = Array.from({ length: 24 }, (_, i) => i);
const startup = (kind: 'reset' | 'restart' | 'resume', loc = 0): MirrorEvent => ({
  kind: 'startup', startup: kind, locality: loc, allocation: [{ hash: ALG.sha256, pcrs: ALL_PCRS }, { hash: ALG.sha1, pcrs: ALL_PCRS }, { hash: ALG.sha384, pcrs: [] }], hcrtm: [],
});
const both = (byte: number) => [{ hashAlg: ALG.sha256, digest: new Uint8Array(32).fill(byte) }, { hashAlg: ALG.sha1, digest: new Uint8Array(20).fill(byte) }];
const extend = (p: number, byte: number, applied = both(byte)): MirrorEvent => ({ kind: 'extend', pcr: p, command: 0x182, applied, mrSourceAlg: ALG.sha256, eventData: new Uint8Array(0) });
const tags = (events: MirrorEvent[]) => pcrHistory(events.map(record)).extends.map((e) => `${e.pcr}:${e.applied[0]!.digest[0]}`);

describe('mr/pcr-history: the PCR history a TCG log can state', function () {
  this.timeout(60_000);

  it('property: the PFP replay of the export equals the TPM\'s PCRs', () => {
    fc.assert(fc.property(fc.subarray(BANKS, { minLength: 1 }), fc.array(op, { maxLength: 40 }), (banks, ops) => run(banks, ops)), { numRuns: 80 });
  });

  it('a PCR_Reset leaves that PCR\'s earlier extends out, and says so; the other PCRs keep theirs in order', () => {
    const events = [startup('reset'), extend(16, 1), extend(8, 2), { kind: 'pcr-reset', pcr: 16 } as const, extend(16, 3), extend(23, 4, both(4).slice(0, 1))];
    assert.deepEqual(tags(events), ['8:2', '16:3', '23:4']);
    const h = pcrHistory(events.map(record));
    assert.deepEqual([...h.superseded], [[16, 1]]);
    assert.equal(h.partialExtends, 1, 'PCR 23 was extended in sha256 only');
    assert.deepEqual(h.hashAlgs, [ALG.sha256, ALG.sha1], 'a bank without PCRs is not a bank of the log');
    assert.deepEqual(exportNotes(h), [
      'PCR 16: 1 extend(s) before its last reset are left out (a TCG log cannot record the reset)',
      '1 extend(s) named only some banks; their records carry fewer digests than the log has banks (tpm2-tools replays them, the PFP does not allow them)',
    ]);
  });

  it('starts at the last TPM Reset or Restart, with its locality; a Resume keeps the saved PCRs', () => {
    assert.deepEqual(tags([startup('reset'), extend(8, 1), startup('restart', 3), extend(9, 2)]), ['9:2']);
    const h = pcrHistory([startup('reset', 3), extend(5, 1), extend(16, 2), startup('resume'), extend(23, 3)].map(record));
    assert.deepEqual(h.extends.map((e) => e.pcr), [5, 23]);
    assert.equal(h.startupLocality, 3, 'PCR 0 kept the value of the Startup(CLEAR) at locality 3');
    assert.deepEqual([...h.superseded], [[16, 1]], 'PCR 16 has no SAVE attribute: the Resume reset it');
    const [first] = pcrClientEvents(h);
    assert.deepEqual([first!.pcrIndex, first!.eventType, Buffer.from(first!.event).toString('latin1')], [0, EV_NO_ACTION, 'StartupLocality\0\x03']);
  });

  it('the export\'s records are EV_EVENT_TAG with the mirror\'s extend event, and H-CRTM opens PCR 0', () => {
    const hcrtm = [{ hashAlg: ALG.sha256, digest: new Uint8Array(32).fill(9) }, { hashAlg: ALG.sha384, digest: new Uint8Array(48).fill(9) }];
    const events = pcrClientEvents(pcrHistory([{ ...startup('reset', 3), hcrtm } as MirrorEvent, extend(7, 5)].map(record)));
    assert.deepEqual(events.map((e) => [e.pcrIndex, e.eventType]), [[0, EV_EFI_HCRTM_EVENT], [7, 6]]);
    assert.deepEqual(events[0]!.digests.map((d) => d.hashAlg), [ALG.sha256], 'only digests of the log\'s banks');
    assert.deepEqual(events[1]!.event, encodeMirrorEvent(extend(7, 5)));
  });

  it('PCRs 17-22 extended from their all-ones Startup value are reported; after a DRTM reset they are not', () => {
    const drtm = [17, 18, 19, 20, 21, 22].map((p) => ({ kind: 'pcr-reset', pcr: p }) as const);
    assert.deepEqual(pcrHistory([startup('reset'), extend(18, 1)].map(record)).fromAllOnes, [18]);
    assert.deepEqual(pcrHistory([startup('reset'), extend(18, 1), ...drtm, extend(17, 2), extend(18, 3)].map(record)).fromAllOnes, []);
  });

  it('a log that begins at a Resume is reported: the PCRs it kept have an earlier history', () => {
    const h = pcrHistory([startup('resume'), extend(8, 1)].map(record));
    assert.ok(h.beginsAtResume);
    assert.match(exportNotes(h).join('\n'), /the log begins at a Resume/);
    assert.equal(pcrHistory([startup('reset'), startup('resume')].map(record)).beginsAtResume, false);
  });

  it('a log without a Startup marker has no history to export', () => {
    assert.throws(() => pcrHistory([extend(8, 1)].map(record)), /no Startup marker/);
  });
});
