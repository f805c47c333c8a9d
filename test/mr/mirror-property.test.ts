/**
 * Property: whatever the sequence of PCR_Extend / PCR_Event / PCR_Reset / Startup over random
 * localities, banks and PCR->MR maps, replaying the MR log gives the register values, and
 * replaying its PCR events gives the TPM's PCR banks; refused commands leave no record.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Tpm } from '../../src/tpm/engine/tpm.js';
import { manufacture } from '../../src/tpm/state/initial-state.js';
import { checkRegisters } from '../../src/mr/register-check.js';
import { replayPcrs } from '../../src/mr/pcr-replay.js';
import { decodeMirrorEvent } from '../../src/mr/mirror-events.js';
import { UEFI_PCR_MR_MAP } from '../../src/mr/pcr-mr-map.js';
import { ALG, BANKS, bankOf, commands, rcOf, type Bank } from '../tpm/helpers/pcr-cmd.js';
import { applyPcrOp, type PcrOp } from './helpers/pcr-ops.js';
import { mirrorRig, type SimKind } from './helpers/mirror-rig.js';

const SU_CLEAR = 0;

type Op = PcrOp;

const pcr = fc.integer({ min: 0, max: 23 });
const locality = fc.integer({ min: 0, max: 4 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('extend' as const), pcr, locality, banks: fc.subarray(BANKS, { minLength: 1 }), seed: fc.uint8Array({ minLength: 1, maxLength: 8 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('event' as const), pcr, locality, data: fc.uint8Array({ maxLength: 64 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('reset' as const), pcr, locality }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('restart' as const), locality: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'resume' as const }) },
);
const mapOverrides = fc.array(fc.tuple(pcr, fc.constantFrom(undefined, 0, 1, 2, 3, 4)), { maxLength: 6 });

function run(sim: SimKind, banks: Bank[], overrides: [number, number | undefined][], ops: Op[]): void {
  const map = [...UEFI_PCR_MR_MAP];
  for (const [p, mr] of overrides) map[p] = mr;
  const rig = mirrorRig(sim, map);
  try {
    const tpm = new Tpm(manufacture(banks.map((b) => ALG[b])), undefined, { now: () => 0, persistentChanged: () => undefined, pcrObserver: rig.mirror });
    tpm.powerOn();
    const exec = (c: Buffer, loc = 0): number => rcOf(tpm.execute(c, loc, 0).response);
    assert.equal(exec(commands.startup(SU_CLEAR)), 0);
    let expectedExtends = 0;
    for (const o of ops) {
      const rc = applyPcrOp(tpm, exec, o);
      // An extend or event that took reaches the log when it names an allocated bank.
      if (rc === 0 && ((o.t === 'extend' && o.banks.some((b) => banks.includes(b))) || o.t === 'event')) expectedExtends++;
    }
    const events = rig.events();
    for (const c of checkRegisters(rig.backend, events)) assert.ok(c.match, `${c.register} does not replay`);
    const replayed = replayPcrs(events);
    assert.equal(replayed.unplaced, 0);
    assert.deepEqual(
      [...replayed.banks].map(([alg, values]) => [bankOf(alg), values.map((v) => Buffer.from(v).toString('hex'))]),
      [...tpm.volatile.pcrs].map(([alg, values]) => [bankOf(alg), values.map((v) => Buffer.from(v).toString('hex'))]),
    );
    assert.equal(events.filter((e) => decodeMirrorEvent(e.event)?.kind === 'extend').length, expectedExtends);
  } finally {
    rig.close();
  }
}

describe('mr/mirror property: replay(MR log) equals the registers and the PCRs', function () {
  this.timeout(60_000);
  const sims: SimKind[] = [{ kind: 'tdx-sim' }, { kind: 'cca-sim', hashAlg: ALG.sha256 }, { kind: 'cca-sim', hashAlg: ALG.sha512 }];
  for (const sim of sims) {
    it(`${sim.kind}${'hashAlg' in sim ? ` ${bankOf(sim.hashAlg)}` : ''}`, () => {
      fc.assert(
        fc.property(fc.subarray(BANKS, { minLength: 1 }), mapOverrides, fc.array(op, { maxLength: 40 }), (banks, overrides, ops) => run(sim, banks, overrides, ops)),
        { numRuns: 60 },
      );
    });
  }
});
