import assert from 'node:assert/strict';
import { COMMANDS } from '../../../src/tpm/commands/command-table.js';

/**
 * Which commands let a session decrypt their first parameter / encrypt the first response
 * parameter, derived from the codecs: expected as Part 3's parameter lists give them (the first
 * parameter a TPM2B), which is what the reference's DecryptSize / EncryptSize tables encode.
 */
const EXPECTED: [name: string, decrypt: boolean, encrypt: boolean][] = [
  ['StartAuthSession', true, true],
  ['CreatePrimary', true, true],
  ['Create', true, true],
  ['Load', true, true],
  ['ReadPublic', false, true],
  ['Hash', true, true],
  ['HashSequenceStart', true, false],
  ['SequenceUpdate', true, false],
  ['SequenceComplete', true, true],
  ['PCR_Event', true, false],
  ['PCR_Extend', false, false],
  ['PCR_Read', false, false],
  ['GetRandom', false, true],
  ['StirRandom', true, false],
  ['PolicyPCR', true, false],
  ['PolicyGetDigest', false, true],
  ['GetCapability', false, false],
  ['ContextSave', false, false],
  ['GetTestResult', false, true],
];

describe('parameter encryption: which first parameters are TPM2Bs', () => {
  it('matches the reference for the implemented commands', () => {
    const byName = new Map([...COMMANDS.values()].map((c) => [c.name, c]));
    for (const [name, decrypt, encrypt] of EXPECTED) {
      const c = byName.get(name);
      assert.ok(c, `${name} is implemented`);
      assert.deepEqual({ decrypt: c.decryptable, encrypt: c.encryptable }, { decrypt, encrypt }, name);
    }
  });
});
