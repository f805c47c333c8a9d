import assert from 'node:assert/strict';
import { manufacture } from '../../../src/tpm/state/initial-state.js';
import type { PersistentState } from '../../../src/tpm/state/tpm-state.js';
import { command, pwAuth, rcOf, tpm2b, u16, u32 } from '../helpers/tpm-wire.js';
import { RH } from '../helpers/pcr-cmd.js';
import { hierarchyTpm } from '../helpers/hierarchy-cmd.js';
import { contextBytes, parseContext, parseResponse, saveCommand } from '../helpers/session-cmd.js';
import {
  OBJ, SIGNING, STORAGE, TALG, create, createPrimary, eccTemplate, load, parseCreate, parseCreatePrimary, readPublic,
  rsaTemplate, sealTemplate, sensitiveCreate,
} from '../helpers/object-cmd.js';

const RC = {
  HASH: 0x083, ATTRIBUTES: 0x082, TYPE: 0x08a, SIZE: 0x095, SYMMETRIC: 0x096, INTEGRITY: 0x09f,
  OBJECT_MEMORY: 0x902, AUTH_UNAVAILABLE: 0x12f, AUTH_FAIL: 0x08e, REFERENCE_H0: 0x910, KEY: 0x09c, ECC_POINT: 0x0a7,
} as const;
const P = (rc: number, n: number): number => rc | 0x40 | (n << 8);
const H = (rc: number, n: number): number => rc | (n << 8);
const S = (rc: number, n: number): number => rc | 0x800 | (n << 8);
const STARTUP_CLEAR = command(0x144, [], [u16(0)]);
const SHUTDOWN_STATE = command(0x145, [], [u16(1)]);

describe('objects: CreatePrimary, Create, Load, ReadPublic, object contexts (Part 3 §12, §24.1, §28)', function () {
  this.timeout(20000);

  it('derives the same primary from the same template and seed, in another process state copy, and a different one under another seed', () => {
    const persistent = manufacture();
    const a = hierarchyTpm(persistent);
    const first = parseCreatePrimary(a.ok(createPrimary(RH.OWNER, rsaTemplate())));
    const again = parseCreatePrimary(a.ok(createPrimary(RH.OWNER, rsaTemplate())));
    assert.deepEqual(again.outPublic, first.outPublic);
    assert.notEqual(again.handle, first.handle);
    assert.equal(persistent.primaryCache.size, 1, 'the RSA primary is cached');
    // A second TPM on a copy of the seeds, with the cache emptied: derived again, same key.
    const copy: PersistentState = { ...persistent, primaryCache: new Map() };
    const b = hierarchyTpm(copy);
    assert.deepEqual(parseCreatePrimary(b.ok(createPrimary(RH.OWNER, rsaTemplate()))).outPublic, first.outPublic);
    assert.deepEqual(parseCreatePrimary(b.ok(createPrimary(RH.OWNER, eccTemplate()))).outPublic,
      parseCreatePrimary(a.ok(createPrimary(RH.OWNER, eccTemplate()))).outPublic);
    const other = hierarchyTpm(manufacture());
    assert.notDeepEqual(parseCreatePrimary(other.ok(createPrimary(RH.OWNER, rsaTemplate()))).outPublic, first.outPublic);
    assert.notDeepEqual(parseCreatePrimary(a.ok(createPrimary(RH.ENDORSEMENT, rsaTemplate()))).outPublic, first.outPublic);
    // The unique field of the template is part of the derivation.
    assert.notDeepEqual(parseCreatePrimary(a.ok(createPrimary(RH.OWNER, eccTemplate({
      unique: Buffer.concat([tpm2b(Buffer.from('a')), tpm2b(Buffer.alloc(0))]),
    })))).outPublic, parseCreatePrimary(a.ok(createPrimary(RH.OWNER, eccTemplate()))).outPublic);
  });

  it('the null hierarchy gets a new seed at every TPM Reset, the others keep theirs', () => {
    const persistent = manufacture();
    const a = hierarchyTpm(persistent);
    const nullKey = parseCreatePrimary(a.ok(createPrimary(RH.NULL, eccTemplate()))).outPublic;
    const ownerKey = parseCreatePrimary(a.ok(createPrimary(RH.OWNER, eccTemplate()))).outPublic;
    const b = hierarchyTpm(persistent);
    assert.notDeepEqual(parseCreatePrimary(b.ok(createPrimary(RH.NULL, eccTemplate()))).outPublic, nullKey);
    assert.deepEqual(parseCreatePrimary(b.ok(createPrimary(RH.OWNER, eccTemplate()))).outPublic, ownerKey);
  });

  it('Create + Load: the child loads under its parent only, and a changed private or public is TPM_RC_INTEGRITY + P1', () => {
    const { run, ok } = hierarchyTpm(manufacture());
    const parent = parseCreatePrimary(ok(createPrimary(RH.OWNER, eccTemplate()))).handle;
    const otherParent = parseCreatePrimary(ok(createPrimary(RH.OWNER, rsaTemplate()))).handle;
    const child = parseCreate(ok(create(parent, eccTemplate({ attributes: SIGNING, scheme: Buffer.concat([u16(TALG.ECDSA), u16(TALG.SHA256)]) }))));
    const loaded = ok(load(parent, child.outPrivate, child.outPublic));
    const handle = loaded.readUInt32BE(10);
    const rp = parseResponse(ok(readPublic(handle)));
    assert.deepEqual(rp.body.subarray(2, 2 + child.outPublic.length), child.outPublic);
    assert.equal(rcOf(run(load(otherParent, child.outPrivate, child.outPublic))), P(RC.INTEGRITY, 1));
    const tampered = Buffer.from(child.outPrivate);
    tampered[tampered.length - 1]! ^= 1;
    assert.equal(rcOf(run(load(parent, tampered, child.outPublic))), P(RC.INTEGRITY, 1));
    const otherPublic = Buffer.from(child.outPublic);
    otherPublic[otherPublic.length - 1]! ^= 1;
    assert.equal(rcOf(run(load(parent, child.outPrivate, otherPublic))), P(RC.INTEGRITY, 1));
  });

  it('a sealed object carries the data given; keys cannot take inSensitive.data', () => {
    const { run, ok } = hierarchyTpm(manufacture());
    const parent = parseCreatePrimary(ok(createPrimary(RH.OWNER, eccTemplate()))).handle;
    ok(create(parent, sealTemplate(), sensitiveCreate(Buffer.alloc(0), Buffer.from('secret'))));
    assert.equal(rcOf(run(create(parent, eccTemplate({ attributes: SIGNING }), sensitiveCreate(Buffer.alloc(0), Buffer.from('x'))))), P(RC.SIZE, 1));
    assert.equal(rcOf(run(create(parent, sealTemplate({ attributes: OBJ.fixedTPM | OBJ.fixedParent | OBJ.sensitiveDataOrigin | OBJ.userWithAuth })))), P(RC.ATTRIBUTES, 2));
  });

  it('template errors are numbered as inPublic (P2); a parent that is no storage key is TPM_RC_TYPE + H1', () => {
    const { run, ok } = hierarchyTpm(manufacture());
    assert.equal(rcOf(run(createPrimary(RH.OWNER, rsaTemplate({ nameAlg: TALG.NULL })))), P(RC.HASH, 2));
    assert.equal(rcOf(run(createPrimary(RH.OWNER, eccTemplate({ attributes: STORAGE | OBJ.sign })))), P(RC.ATTRIBUTES, 2));
    assert.equal(rcOf(run(createPrimary(RH.OWNER, eccTemplate({ symmetric: u16(TALG.NULL) })))), P(RC.SYMMETRIC, 2));
    assert.equal(rcOf(run(createPrimary(RH.OWNER, eccTemplate({ authPolicy: Buffer.alloc(20) })))), P(RC.SIZE, 2));
    assert.equal(rcOf(run(createPrimary(RH.OWNER, eccTemplate({ attributes: STORAGE & ~OBJ.fixedParent })))), P(RC.ATTRIBUTES, 2));
    const signer = parseCreatePrimary(ok(createPrimary(RH.OWNER, eccTemplate({ attributes: SIGNING })))).handle;
    assert.equal(rcOf(run(create(signer, sealTemplate()))), H(RC.TYPE, 1));
  });

  it('userWithAuth clear: the authValue cannot authorize the USER role (TPM_RC_AUTH_UNAVAILABLE)', () => {
    const { run, ok } = hierarchyTpm(manufacture());
    const parent = parseCreatePrimary(ok(createPrimary(RH.OWNER, eccTemplate({ attributes: STORAGE & ~OBJ.userWithAuth })))).handle;
    assert.equal(rcOf(run(create(parent, sealTemplate()))), RC.AUTH_UNAVAILABLE);
  });

  it('object contexts: saved objects stay loaded, load into a new handle, survive a TPM Reset (not so for the null hierarchy)', () => {
    const persistent = manufacture();
    const a = hierarchyTpm(persistent);
    const owner = parseCreatePrimary(a.ok(createPrimary(RH.OWNER, eccTemplate()))).handle;
    const nul = parseCreatePrimary(a.ok(createPrimary(RH.NULL, eccTemplate()))).handle;
    const saved = parseContext(parseResponse(a.ok(saveCommand(owner))).body);
    const savedNull = parseContext(parseResponse(a.ok(saveCommand(nul))).body);
    assert.equal(saved.savedHandle, 0x80000000);
    assert.equal(saved.hierarchy, RH.OWNER);
    a.ok(readPublic(owner));
    const loadCtx = (c: typeof saved): Buffer => command(0x161, [], [contextBytes(c)]);
    const again = a.ok(loadCtx(saved)).readUInt32BE(10);
    assert.notEqual(again, owner);
    const tampered = { ...saved, blob: Buffer.from(saved.blob) };
    tampered.blob[tampered.blob.length - 1]! ^= 1;
    assert.equal(rcOf(a.run(loadCtx(tampered))), P(RC.INTEGRITY, 1));
    assert.equal(rcOf(a.run(loadCtx({ ...saved, hierarchy: RH.ENDORSEMENT }))), P(RC.INTEGRITY, 1));
    const b = hierarchyTpm(persistent);
    b.ok(loadCtx(saved));
    assert.equal(rcOf(b.run(loadCtx(savedNull))), P(RC.INTEGRITY, 1));
  });

  it('an stClear object context loads until the next TPM Restart; others survive it', () => {
    const { tpm, run, ok } = hierarchyTpm(manufacture());
    const loadCtx = (c: ReturnType<typeof parseContext>): Buffer => command(0x161, [], [contextBytes(c)]);
    const stClear = parseCreatePrimary(ok(createPrimary(RH.OWNER, eccTemplate({ attributes: STORAGE | OBJ.stClear })))).handle;
    const plain = parseCreatePrimary(ok(createPrimary(RH.OWNER, eccTemplate()))).handle;
    const savedStClear = parseContext(parseResponse(ok(saveCommand(stClear))).body);
    const savedPlain = parseContext(parseResponse(ok(saveCommand(plain))).body);
    assert.equal(savedStClear.savedHandle, 0x80000002);
    ok(loadCtx(savedStClear));
    ok(SHUTDOWN_STATE);
    tpm.init();
    ok(STARTUP_CLEAR);
    assert.equal(rcOf(run(loadCtx(savedStClear))), P(RC.INTEGRITY, 1));
    ok(loadCtx(savedPlain));
  });

  it('objects of a client are flushed when it goes; the slots are MAX_LOADED_OBJECTS (16) shared with sequences', () => {
    const { tpm, run, ok } = hierarchyTpm(manufacture());
    for (let i = 0; i < 15; i++) ok(createPrimary(RH.OWNER, eccTemplate()), 7);
    ok(command(0x186, [], [tpm2b(Buffer.alloc(0)), u16(TALG.SHA256)]), 7);
    assert.equal(rcOf(run(createPrimary(RH.OWNER, eccTemplate()), 8)), RC.OBJECT_MEMORY);
    tpm.closeClient(7);
    ok(createPrimary(RH.OWNER, eccTemplate()), 8);
    assert.equal(tpm.tpmCore.objects.count, 1);
  });

  it('a persistent state written before keys existed gets seeds on load', async () => {
    const { upgradePersistent } = await import('../../../src/tpm/state/initial-state.js');
    const old = manufacture() as Partial<PersistentState>;
    for (const k of ['eps', 'sps', 'pps', 'nullSeed', 'nullProof', 'hierarchyPolicies', 'persistentObjects', 'primaryCache', 'disableClear'] as const) delete old[k];
    assert.equal(upgradePersistent(old as PersistentState), true);
    assert.equal(upgradePersistent(old as PersistentState), false);
    const { ok } = hierarchyTpm(old as PersistentState);
    ok(createPrimary(RH.OWNER, eccTemplate()));
  });

  it('LoadExternal of a public key alone: an ECC point off the curve is TPM_RC_ECC_POINT + P2, a short RSA modulus TPM_RC_KEY + P2', () => {
    const { run, ok } = hierarchyTpm(manufacture());
    const loadExternal = (pub: Buffer): Buffer => command(0x167, [], [u16(0), tpm2b(pub), u32(RH.NULL)]);
    const real = parseCreatePrimary(ok(createPrimary(RH.OWNER, eccTemplate({ attributes: SIGNING })))).outPublic;
    ok(loadExternal(real));
    const offCurve = eccTemplate({ attributes: SIGNING, unique: Buffer.concat([tpm2b(Buffer.alloc(32, 1)), tpm2b(Buffer.alloc(32, 1))]) });
    assert.equal(rcOf(run(loadExternal(offCurve))), P(RC.ECC_POINT, 2));
    assert.equal(rcOf(run(loadExternal(rsaTemplate({ attributes: SIGNING, unique: Buffer.alloc(128, 0xff) })))), P(RC.KEY, 2));
  });

  it('LoadExternal: the object\'s qualified Name is its Name, in any hierarchy (ReadPublic; the reference\'s ObjectSetLoadedAttributes)', () => {
    const { ok } = hierarchyTpm(manufacture());
    const real = parseCreatePrimary(ok(createPrimary(RH.OWNER, eccTemplate({ attributes: SIGNING })))).outPublic;
    for (const hierarchy of [RH.NULL, RH.OWNER]) {
      const loaded = ok(command(0x167, [], [u16(0), tpm2b(real), u32(hierarchy)]));
      const name = loaded.subarray(16, 16 + loaded.readUInt16BE(14));
      const out = ok(readPublic(loaded.readUInt32BE(10)));
      let at = 10 + 2 + out.readUInt16BE(10);
      const readName = out.subarray(at + 2, at + 2 + out.readUInt16BE(at));
      at += 2 + readName.length;
      assert.deepEqual(readName, name);
      assert.deepEqual(out.subarray(at + 2, at + 2 + out.readUInt16BE(at)), name, 'qualifiedName');
    }
  });

  it('Shutdown(STATE) + Startup(STATE) flushes transient objects (they are not saved state)', () => {
    const { tpm, run, ok } = hierarchyTpm(manufacture());
    const h = parseCreatePrimary(ok(createPrimary(RH.OWNER, eccTemplate()))).handle;
    ok(SHUTDOWN_STATE);
    tpm.init();
    ok(command(0x144, [], [u16(1)]));
    assert.equal(rcOf(run(readPublic(h))), RC.REFERENCE_H0);
  });

  it('passwords: an object authValue set at creation authorizes its USER role', () => {
    const { run, ok } = hierarchyTpm(manufacture());
    const parent = parseCreatePrimary(ok(createPrimary(RH.OWNER, eccTemplate(), sensitiveCreate(Buffer.from('pw'))))).handle;
    ok(create(parent, sealTemplate(), sensitiveCreate(), pwAuth(Buffer.from('pw'))));
    assert.equal(rcOf(run(create(parent, sealTemplate(), sensitiveCreate(), pwAuth(Buffer.from('no'))))), S(RC.AUTH_FAIL, 1));
  });
});
