import assert from 'node:assert/strict';
import { manufactureTpm } from '../../../src/cli/manufacture.js';
import { EK_TEMPLATES } from '../../../src/tpm/objects/ek-templates.js';
import { RH, RC, commands as c, hierarchyTpm, primaryOut, rcOf, readPublicOut } from '../helpers/hierarchy-cmd.js';

/** The template with its unique field cut off: what the TPM must return unchanged before the key. */
const templateHead = (template: Uint8Array, uniqueBytes: number): Buffer => Buffer.from(template.subarray(0, template.length - uniqueBytes));

describe('EK provisioning at manufacture (TCG EK Credential Profile L-1, L-2)', () => {
  const persistent = manufactureTpm([0x000b], ['rsa2048', 'ecc256']);

  it('persists the RSA EK at 0x81010001 and the ECC EK at 0x81010002: the template with the unique filled', () => {
    const t = hierarchyTpm(structuredClone(persistent));
    assert.deepEqual(t.tpm.tpmCore.objects.persistentHandles(), [0x81010001, 0x81010002]);
    const rsa = readPublicOut(t.ok(c.readPublic(0x81010001))).outPublic;
    const rsaTemplate = EK_TEMPLATES.rsa2048.template;
    assert.equal(rsa.length, rsaTemplate.length);
    assert.deepEqual(rsa.subarray(0, rsa.length - 258), templateHead(rsaTemplate, 258));
    assert.equal(rsa.readUInt16BE(rsa.length - 258), 256);
    assert.ok(rsa.subarray(rsa.length - 256).some((b) => b !== 0), 'modulus filled in');
    const ecc = readPublicOut(t.ok(c.readPublic(0x81010002))).outPublic;
    const eccTemplate = EK_TEMPLATES.ecc256.template;
    assert.equal(ecc.length, eccTemplate.length);
    assert.deepEqual(ecc.subarray(0, ecc.length - 68), templateHead(eccTemplate, 68));
    assert.deepEqual([ecc.readUInt16BE(ecc.length - 68), ecc.readUInt16BE(ecc.length - 34)], [32, 32]);
  });

  it('CreatePrimary of the profile template gives the persisted EK; after ChangeEPS another, and the persisted one is gone', () => {
    const t = hierarchyTpm(structuredClone(persistent));
    const persisted = readPublicOut(t.ok(c.readPublic(0x81010002)));
    const made = primaryOut(t.ok(c.createPrimary(RH.ENDORSEMENT, EK_TEMPLATES.ecc256.template)));
    assert.deepEqual(made.outPublic, persisted.outPublic);
    t.ok(c.flush(made.handle));
    t.ok(c.changeEps());
    assert.equal(rcOf(t.run(c.readPublic(0x81010002))), RC.HANDLE + RC.H1);
    const after = primaryOut(t.ok(c.createPrimary(RH.ENDORSEMENT, EK_TEMPLATES.ecc256.template)));
    assert.notDeepEqual(after.outPublic, persisted.outPublic);
  });

  it('two manufactured TPMs have different EKs', () => {
    const other = hierarchyTpm(manufactureTpm([0x000b], ['ecc256']));
    const t = hierarchyTpm(structuredClone(persistent));
    assert.notDeepEqual(readPublicOut(other.ok(c.readPublic(0x81010002))).name, readPublicOut(t.ok(c.readPublic(0x81010002))).name);
  });
});
