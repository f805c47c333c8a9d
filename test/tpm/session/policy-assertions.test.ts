/**
 * The assertions that record a condition for the use of a policy session (Part 3 §23.8-23.21):
 * digests from their formulas written out here, the checks at assertion with their numbers, and
 * the checks at use of a sealed object, an NV index or a parent.
 */
import assert from 'node:assert/strict';
import { command, pwAuth, tpm2b, u16, u32, u8 } from '../helpers/tpm-wire.js';
import { hex, sha } from '../helpers/session-cmd.js';
import { OBJ, OCC, TALG, TEMPLATES, ok, ownerPrimary, publicArea, sensitiveCreate } from '../helpers/object-cmd.js';
import { NVA, NV_CC, nv, nvPublic } from '../helpers/nv-cmd.js';
import { EMPTY, OWNER, PCC, POLICY, SHA256, TRIAL, ZERO, policyAuthArea, policyTpm } from '../helpers/policy-cmd.js';

const CC = { ...PCC, NV_Write: 0x137 } as const;
const RC = {
  LOCALITY_P1: 0x1cd, // TPM_RC_RANGE + P1 (PolicyLocality's locality)
  SIZE_P1: 0x1d5,
  VALUE_P1: 0x1c4,
  CPHASH: 0x151,
  COMMAND_CODE: 0x143,
  LOCALITY: 0x907, // a warning: TPM_RC_LOCALITY carries no session number
  PP_S1: 0x990,
  POLICY_FAIL_S1: 0x99d,
  POLICY_CC_S1: 0x9a4,
} as const;
const rc = (r: { rc: number }, expected: number, what: string): void => assert.equal(hex(r.rc), hex(expected), what);
const ext = (old: Buffer, cc: number, ...parts: Buffer[]): Buffer => sha(SHA256, old, u32(cc), ...parts);
const assertion = (cc: number, h: number, ...params: Buffer[]): Buffer => command(cc, [h], params);

describe('policy assertions checked at use (Part 3 §23)', () => {
  describe('PolicyLocality', () => {
    it('digest H(old || cc || locality); a second call narrows the localities, the digest records each', () => {
      const t = policyTpm();
      const s = t.start(TRIAL);
      t.must(assertion(CC.PolicyLocality, s.handle, u8(0x03)));
      t.must(assertion(CC.PolicyLocality, s.handle, u8(0x06)));
      assert.deepEqual(t.digest(s.handle), ext(ext(ZERO, CC.PolicyLocality, u8(0x03)), CC.PolicyLocality, u8(0x06)));
    });

    it('zero, an empty intersection, and mixing or changing extended localities are TPM_RC_RANGE + P1', () => {
      const t = policyTpm();
      const s = t.start(POLICY);
      rc(t.run(assertion(CC.PolicyLocality, s.handle, u8(0))), RC.LOCALITY_P1, 'zero');
      t.must(assertion(CC.PolicyLocality, s.handle, u8(0x03)));
      rc(t.run(assertion(CC.PolicyLocality, s.handle, u8(0x04))), RC.LOCALITY_P1, 'nothing left of 0x03 & 0x04');
      rc(t.run(assertion(CC.PolicyLocality, s.handle, u8(0x20))), RC.LOCALITY_P1, 'extended after normal');
      const x = t.start(POLICY);
      t.must(assertion(CC.PolicyLocality, x.handle, u8(0x20)));
      t.must(assertion(CC.PolicyLocality, x.handle, u8(0x20)));
      rc(t.run(assertion(CC.PolicyLocality, x.handle, u8(0x21))), RC.LOCALITY_P1, 'another extended locality');
      rc(t.run(assertion(CC.PolicyLocality, x.handle, u8(0x01))), RC.LOCALITY_P1, 'normal after extended');
    });

    it('at use: the command must come from a locality left (else the warning TPM_RC_LOCALITY)', () => {
      const t = policyTpm();
      const policy = ext(ext(ZERO, CC.PolicyLocality, u8(0x0b)), CC.PolicyLocality, u8(0x0a));
      const o = t.sealed(policy);
      const s = t.start(POLICY);
      const assertBoth = (): void => {
        t.must(assertion(CC.PolicyLocality, s.handle, u8(0x0b)));
        t.must(assertion(CC.PolicyLocality, s.handle, u8(0x0a)));
      };
      assertBoth();
      rc(t.unseal(o.handle, s.handle, 1, 0), RC.LOCALITY, 'locality 0 was narrowed away (0x0b & 0x0a = 0x0a)');
      t.must(command(PCC.PolicyRestart, [s.handle], []));
      assertBoth();
      rc(t.unseal(o.handle, s.handle, 1, 3), 0, 'locality 3');
      assertBoth();
      rc(t.unseal(o.handle, s.handle, 1, 1), 0, 'locality 1');
    });
  });

  it('PolicyPhysicalPresence: H(old || cc); at use TPM_RC_PP + S1 until the platform asserts presence', () => {
    const t = policyTpm();
    const policy = ext(ZERO, CC.PolicyPhysicalPresence);
    const o = t.sealed(policy);
    const s = t.start(POLICY);
    t.must(assertion(CC.PolicyPhysicalPresence, s.handle));
    assert.deepEqual(t.digest(s.handle), policy);
    rc(t.unseal(o.handle, s.handle), RC.PP_S1, 'no presence');
    // A failed use leaves the session's digest and assertions as they were.
    t.tpm.setPhysicalPresence(true);
    rc(t.unseal(o.handle, s.handle), 0, 'presence asserted');
  });

  describe('PolicyCpHash, PolicyNameHash, PolicyTemplate: one command-binding hash per session', () => {
    it('digests H(old || cc || hash); sizes other than the session digest are TPM_RC_SIZE + P1', () => {
      const t = policyTpm();
      const h = Buffer.alloc(32, 5);
      for (const cc of [CC.PolicyCpHash, CC.PolicyNameHash, CC.PolicyTemplate]) {
        const s = t.start(TRIAL);
        rc(t.run(assertion(cc, s.handle, tpm2b(Buffer.alloc(20)))), RC.SIZE_P1, `${hex(cc)} with 20 octets`);
        t.must(assertion(cc, s.handle, tpm2b(h)));
        assert.deepEqual(t.digest(s.handle), ext(ZERO, cc, h), hex(cc));
      }
    });

    it('PolicyCpHash and PolicyTemplate may repeat their value; anything else in the slot is TPM_RC_CPHASH', () => {
      const t = policyTpm();
      const a = Buffer.alloc(32, 1);
      const b = Buffer.alloc(32, 2);
      const s = t.start(POLICY);
      t.must(assertion(CC.PolicyCpHash, s.handle, tpm2b(a)));
      t.must(assertion(CC.PolicyCpHash, s.handle, tpm2b(a)));
      rc(t.run(assertion(CC.PolicyCpHash, s.handle, tpm2b(b))), RC.CPHASH, 'another cpHash');
      rc(t.run(assertion(CC.PolicyNameHash, s.handle, tpm2b(a))), RC.CPHASH, 'nameHash after cpHash');
      // PolicyTemplate checks the slot before the size: CPHASH, not SIZE.
      rc(t.run(assertion(CC.PolicyTemplate, s.handle, tpm2b(Buffer.alloc(20)))), RC.CPHASH, 'template after cpHash');
      const n = t.start(POLICY);
      t.must(assertion(CC.PolicyNameHash, n.handle, tpm2b(a)));
      rc(t.run(assertion(CC.PolicyNameHash, n.handle, tpm2b(a))), RC.CPHASH, 'even the same nameHash again');
    });

    it('at use: cpHash H(cc || names || parameters) binds one NV_DefineSpace, nameHash H(names) its handles (owner policy)', () => {
      const t = policyTpm();
      const defineParams = (index: number) => [tpm2b(EMPTY), tpm2b(nvPublic({ index, attributes: NVA.AUTHWRITE | NVA.AUTHREAD, size: 8 }))];
      const define = (index: number, s: number) => t.run(command(NV_CC.DefineSpace, [OWNER], defineParams(index), [policyAuthArea(s)]));
      const cases = [
        [CC.PolicyCpHash, sha(SHA256, u32(NV_CC.DefineSpace), u32(OWNER), ...defineParams(0x01500030))],
        [CC.PolicyNameHash, sha(SHA256, u32(OWNER))],
      ] as const;
      for (const [cc, binding] of cases) {
        // The owner's Name is its handle, so its policy can name a hash over it.
        t.must(command(0x12e, [OWNER], [tpm2b(ext(ZERO, cc, binding)), u16(SHA256)], [pwAuth()]), 'SetPrimaryPolicy');
        const s = t.start(POLICY);
        t.must(assertion(cc, s.handle, tpm2b(binding)));
        rc(define(0x01500030, s.handle), 0, `${hex(cc)}: the command bound`);
        t.must(assertion(cc, s.handle, tpm2b(binding)));
        rc(define(0x01500031, s.handle), cc === CC.PolicyCpHash ? RC.POLICY_FAIL_S1 : 0, `${hex(cc)}: another index`);
        t.must(nv.undefine(OWNER, 0x01500030));
        t.run(nv.undefine(OWNER, 0x01500031));
      }
      const s = t.start(POLICY);
      t.must(assertion(CC.PolicyNameHash, s.handle, tpm2b(sha(SHA256, u32(0x40000007)))));
      rc(define(0x01500030, s.handle), RC.POLICY_FAIL_S1, 'nameHash of other handles');
    });

    it('at use: templateHash binds the inPublic of CreateLoaded under a parent that needs the policy', () => {
      const t = policyTpm();
      const child = TEMPLATES.sealed();
      const templateHash = sha(SHA256, child);
      const parentPolicy = ext(ZERO, CC.PolicyTemplate, templateHash);
      const storage = publicArea(TALG.ECC, OBJ.fixedTPM | OBJ.fixedParent | OBJ.sensitiveDataOrigin | OBJ.restricted | OBJ.decrypt,
        Buffer.concat([u16(TALG.AES), u16(128), u16(TALG.CFB), u16(TALG.NULL), u16(0x0003), u16(TALG.NULL)]),
        Buffer.concat([tpm2b(EMPTY), tpm2b(EMPTY)]), parentPolicy);
      const parent = ok(t.run(ownerPrimary(storage)), true).handle;
      const createLoaded = (template: Buffer, s: number) =>
        t.run(command(OCC.CreateLoaded, [parent], [sensitiveCreate(EMPTY, Buffer.from('x')), tpm2b(template)], [policyAuthArea(s)]));
      const s = t.start(POLICY);
      t.must(assertion(CC.PolicyTemplate, s.handle, tpm2b(templateHash)));
      rc(createLoaded(TEMPLATES.sealed(OBJ.fixedTPM | OBJ.fixedParent), s.handle), RC.POLICY_FAIL_S1, 'another template');
      rc(createLoaded(child, s.handle), 0, 'the template the policy names');
    });
  });

  describe('PolicyDuplicationSelect', () => {
    const objectName = Buffer.concat([u16(SHA256), Buffer.alloc(32, 0xaa)]);
    const parentName = Buffer.concat([u16(SHA256), Buffer.alloc(32, 0xbb)]);
    const select = (h: number, include: number) =>
      assertion(CC.PolicyDuplicationSelect, h, tpm2b(objectName), tpm2b(parentName), u8(include));

    it('digest H(old || cc || [objectName] || newParentName || includeObject)', () => {
      const t = policyTpm();
      const yes = t.start(TRIAL);
      t.must(select(yes.handle, 1));
      assert.deepEqual(t.digest(yes.handle), ext(ZERO, CC.PolicyDuplicationSelect, objectName, parentName, u8(1)));
      const no = t.start(TRIAL);
      t.must(select(no.handle, 0));
      assert.deepEqual(t.digest(no.handle), ext(ZERO, CC.PolicyDuplicationSelect, parentName, u8(0)));
    });

    it('binds the session to TPM2_Duplicate: a command code or hash already set is an error, another command at use is POLICY_CC', () => {
      const t = policyTpm();
      const s = t.start(POLICY);
      t.must(assertion(CC.PolicyCommandCode, s.handle, u32(PCC.Unseal)));
      rc(t.run(select(s.handle, 1)), RC.COMMAND_CODE, 'after PolicyCommandCode');
      const c = t.start(POLICY);
      t.must(assertion(CC.PolicyCpHash, c.handle, tpm2b(Buffer.alloc(32))));
      rc(t.run(select(c.handle, 1)), RC.CPHASH, 'after PolicyCpHash');
      const d = t.start(POLICY);
      t.must(select(d.handle, 0));
      rc(t.run(assertion(CC.PolicyCommandCode, d.handle, u32(PCC.Unseal))), RC.VALUE_P1, 'the session is already bound to Duplicate');
      t.must(assertion(CC.PolicyCommandCode, d.handle, u32(PCC.Duplicate)));
      const o = t.sealed(t.digest(d.handle));
      rc(t.unseal(o.handle, d.handle), RC.POLICY_CC_S1, 'Unseal is not Duplicate');
    });
  });

  describe('PolicyNvWritten', () => {
    it('digest H(old || cc || writtenSet); a contradicting second assertion is TPM_RC_VALUE + P1', () => {
      const t = policyTpm();
      const s = t.start(POLICY);
      t.must(assertion(CC.PolicyNvWritten, s.handle, u8(0)));
      t.must(assertion(CC.PolicyNvWritten, s.handle, u8(0)));
      rc(t.run(assertion(CC.PolicyNvWritten, s.handle, u8(1))), RC.VALUE_P1, 'written after not written');
      assert.deepEqual(t.digest(s.handle), ext(ext(ZERO, CC.PolicyNvWritten, u8(0)), CC.PolicyNvWritten, u8(0)));
    });

    it('at use: a write-once index (PolicyNvWritten NO) takes the first write only; a non-NV entity fails', () => {
      const t = policyTpm();
      const policy = ext(ZERO, CC.PolicyNvWritten, u8(0));
      const index = 0x01500020;
      t.must(nv.define(OWNER, { index, attributes: NVA.POLICYWRITE | NVA.AUTHREAD | NVA.NO_DA, size: 4, policy }));
      const s = t.start(POLICY);
      const write = (data: string) => t.run(command(CC.NV_Write, [index, index], [tpm2b(Buffer.from(data)), u16(0)], [policyAuthArea(s.handle)]));
      t.must(assertion(CC.PolicyNvWritten, s.handle, u8(0)));
      rc(write('abcd'), 0, 'first write');
      t.must(assertion(CC.PolicyNvWritten, s.handle, u8(0)));
      rc(write('efgh'), RC.POLICY_FAIL_S1, 'second write: the index is written');
      const o = t.sealed(policy);
      t.must(assertion(CC.PolicyNvWritten, s.handle, u8(0)));
      rc(t.unseal(o.handle, s.handle), RC.POLICY_FAIL_S1, 'a sealed object is no NV index');
    });
  });
});
