/**
 * The PCR operations the property tests of the mirror run against a real engine: extends, events,
 * resets at a locality, TPM Restart and Resume; one applier so that each test only adds its own.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Tpm } from '../../../src/tpm/engine/tpm.js';
import { ALG, commands, type Bank } from '../../tpm/helpers/pcr-cmd.js';

const SU_CLEAR = 0;
const SU_STATE = 1;

export type PcrOp =
  | { t: 'extend'; pcr: number; locality: number; banks: Bank[]; seed: Uint8Array }
  | { t: 'event'; pcr: number; locality: number; data: Uint8Array }
  | { t: 'reset'; pcr: number; locality: number }
  | { t: 'restart'; locality: number }
  | { t: 'resume' };

/** Runs `o`; the response code of an extend, event or reset (a restart or resume must succeed). */
export function applyPcrOp(tpm: Tpm, exec: (command: Buffer, locality?: number) => number, o: PcrOp): number {
  switch (o.t) {
    case 'extend':
      return exec(commands.extend(o.pcr, o.banks.map((b): [number, Buffer] => [ALG[b], createHash(b).update(o.seed).digest()])), o.locality);
    case 'event':
      return exec(commands.event(o.pcr, o.data), o.locality);
    case 'reset':
      return exec(commands.reset(o.pcr), o.locality);
    case 'restart':
      tpm.powerOff();
      tpm.powerOn();
      assert.equal(exec(commands.startup(SU_CLEAR), o.locality), 0);
      return 0;
    case 'resume':
      assert.equal(exec(commands.shutdown(SU_STATE)), 0);
      tpm.init();
      assert.equal(exec(commands.startup(SU_STATE)), 0);
      return 0;
  }
}
