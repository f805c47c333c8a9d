import assert from 'node:assert/strict';
import { parsePcrMrMap, UEFI_PCR_MR_MAP } from '../../src/mr/pcr-mr-map.js';

describe('mr/pcr-mr-map', () => {
  it('defaults to UEFI 2.10 §38.4, with 16-23 on the runtime register', () => {
    assert.deepEqual([...UEFI_PCR_MR_MAP], [0, 1, 2, 2, 2, 2, 2, 1, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4]);
  });

  it('overrides only the PCRs an entry names, by register name, CC MR index or none', () => {
    const map = parsePcrMrMap('10:rtmr3,16-18:rtmr2, 5:none, 0:mr4', 'tdx');
    assert.deepEqual([...map], [4, 1, 2, 2, 2, undefined, 2, 1, 3, 3, 4, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4]);
    assert.equal(parsePcrMrMap('12:rem0', 'cca')[12], 1);
  });

  it('refuses registers of the other platform, bad ranges and missing colons', () => {
    assert.throws(() => parsePcrMrMap('10:rem3', 'tdx'), /unknown register "rem3" for tdx/);
    assert.throws(() => parsePcrMrMap('10:rtmr3', 'cca'), /unknown register/);
    assert.throws(() => parsePcrMrMap('20-17:rtmr3', 'tdx'), /bad PCR or range/);
    assert.throws(() => parsePcrMrMap('24:rtmr3', 'tdx'), /bad PCR or range/);
    assert.throws(() => parsePcrMrMap('rtmr3', 'tdx'), /needs <pcrs>:<register>/);
  });
});
