import assert from 'node:assert/strict';
import { Tpm } from '../../../src/tpm/engine/tpm.js';
import { stateFromJson, stateToJson } from '../../../src/tpm/state/serialize.js';
import type { PersistentState, VolatileState } from '../../../src/tpm/state/tpm-state.js';
import { LIMITS } from '../../../src/tpm/spec/limits.js';
import {
  ALG, CC, ClientSession, RH, SE, command, flushCommand, hex, loadCommand, parseContext, parseResponse, pcrSelection,
  policyDigestOf, policyPcrCommand, saveCommand, splitSessionsResponse, startedTpm, startAuthSessionCommand,
  tpm2b, u16, u32, type Response, type SavedContext,
} from '../helpers/session-cmd.js';

const SEL0 = pcrSelection([{ alg: ALG.SHA256, pcrs: [0] }]);
const EVENT = tpm2b(Buffer.from('e'));

function save(run: (c: Buffer) => Response, h: number): SavedContext {
  const r = run(saveCommand(h));
  assert.equal(r.rc, 0, `ContextSave: ${hex(r.rc)}`);
  return parseContext(r.body);
}
function load(run: (c: Buffer) => Response, c: SavedContext): number {
  const r = run(loadCommand(c));
  assert.equal(r.rc, 0, `ContextLoad: ${hex(r.rc)}`);
  return r.body.readUInt32BE(0);
}

describe('ContextSave / ContextLoad / FlushContext of sessions (Part 3 §28)', () => {
  it('round trip keeps the handle and the policyDigest; the blob is small', () => {
    const { run, tpm } = startedTpm();
    const p = ClientSession.start(run, { type: SE.POLICY });
    assert.equal(run(policyPcrCommand(p.handle, Buffer.alloc(0), SEL0)).rc, 0);
    const digest = policyDigestOf(run, p.handle);
    const c = save(run, p.handle);
    assert.equal(c.savedHandle, p.handle);
    assert.equal(c.hierarchy, RH.NULL);
    assert.equal(c.sequence, 0n);
    assert.ok(c.blob.length < 600, `blob ${c.blob.length} octets`);
    assert.deepEqual(tpm.tpmCore.sessions.savedHandles(), [p.handle]);
    assert.equal(run(command(CC.PolicyGetDigest, [p.handle], [])).rc, 0x910, 'not loaded while saved: REFERENCE_H0');
    assert.equal(load(run, c), p.handle);
    assert.deepEqual(policyDigestOf(run, p.handle), digest);
    assert.equal(save(run, p.handle).sequence, 1n, 'the context counter advances');
  });

  it('an HMAC session keeps working after save and load (nonce and key preserved)', () => {
    const { run } = startedTpm();
    const s = ClientSession.start(run, { bind: 16 });
    load(run, save(run, s.handle));
    const r = run(command(CC.PCR_Event, [16], [EVENT], [s.authCommand(CC.PCR_Event, [u32(16)], EVENT)]));
    assert.equal(r.rc, 0, hex(r.rc));
    const { params, auths } = splitSessionsResponse(r, false);
    assert.ok(s.acceptResponse(CC.PCR_Event, params, auths[0]!));
  });

  it('a tampered blob, sequence, handle or hierarchy is TPM_RC_INTEGRITY + P1', () => {
    const { run } = startedTpm();
    const s = ClientSession.start(run, { type: SE.TRIAL });
    const c = save(run, s.handle);
    for (const at of [2, 20, c.blob.length - 1]) {
      const blob = Buffer.from(c.blob);
      blob[at]! ^= 0x80;
      assert.equal(run(loadCommand({ ...c, blob })).rc, 0x1df, `octet ${at}`);
    }
    assert.equal(run(loadCommand({ ...c, sequence: c.sequence + 1n })).rc, 0x1df);
    assert.equal(run(loadCommand({ ...c, savedHandle: c.savedHandle + 1 })).rc, 0x1df);
    assert.equal(run(loadCommand({ ...c, hierarchy: RH.OWNER })).rc, 0x1df);
    assert.equal(run(loadCommand({ ...c, blob: c.blob.subarray(0, 34) })).rc, 0x1d5, 'no encrypted part: SIZE + P1');
    assert.equal(run(loadCommand({ ...c, blob: c.blob.subarray(0, 1) })).rc, 0x09a, 'INSUFFICIENT, as libtpms');
    assert.equal(load(run, c), s.handle, 'the genuine blob still loads');
  });

  it('an old blob cannot be replayed after the session was loaded and saved again (TPM_RC_HANDLE + P1)', () => {
    const { run } = startedTpm();
    const s = ClientSession.start(run, { type: SE.POLICY });
    const old = save(run, s.handle);
    load(run, old);
    assert.equal(run(loadCommand(old)).rc, 0x1cb, 'while loaded');
    run(policyPcrCommand(s.handle, Buffer.alloc(0), SEL0));
    const fresh = save(run, s.handle);
    assert.equal(run(loadCommand(old)).rc, 0x1cb, 'after re-save');
    assert.equal(load(run, fresh), s.handle);
  });

  it('FlushContext of loaded and saved sessions; a saved policy session also by its 0x02 slot handle', () => {
    const { run, tpm } = startedTpm();
    const a = ClientSession.start(run);
    const b = ClientSession.start(run, { type: SE.POLICY });
    const c = ClientSession.start(run, { type: SE.TRIAL });
    assert.deepEqual([a.handle, b.handle, c.handle], [0x02000000, 0x03000001, 0x03000002], 'slots are shared');
    const saved = save(run, b.handle);
    save(run, c.handle);
    assert.equal(run(flushCommand(a.handle)).rc, 0);
    assert.equal(run(flushCommand(b.handle)).rc, 0);
    assert.equal(run(flushCommand(0x02000002)).rc, 0);
    for (const h of [a.handle, b.handle, c.handle]) assert.equal(run(flushCommand(h)).rc, 0x1cb, hex(h));
    assert.equal(run(loadCommand(saved)).rc, 0x1cb, 'flushed saved session cannot come back');
    assert.equal(tpm.volatile.sessions.size + tpm.volatile.savedSessions.size, 0);
    assert.equal(run(flushCommand(0x80000000)).rc, 0x1cb, 'no such transient');
    assert.equal(run(flushCommand(0x40000001)).rc, 0x1c4, 'not a context handle');
  });

  it('contexts die at a TPM Reset and survive Shutdown(STATE) + Startup(CLEAR)', () => {
    const { run, tpm } = startedTpm();
    const s = ClientSession.start(run, { type: SE.POLICY });
    run(policyPcrCommand(s.handle, Buffer.alloc(0), SEL0));
    const digest = policyDigestOf(run, s.handle);
    const c = save(run, s.handle);
    const loaded = ClientSession.start(run);
    const startup = (su: number): number => run(command(CC.Startup, [], [u16(su)])).rc;
    // TPM Restart: saved sessions come back, loaded ones are gone.
    assert.equal(run(command(CC.Shutdown, [], [u16(1)])).rc, 0);
    tpm.init();
    assert.equal(startup(0), 0);
    assert.equal(run(flushCommand(loaded.handle)).rc, 0x1cb);
    assert.equal(load(run, c), s.handle);
    assert.deepEqual(policyDigestOf(run, s.handle), digest);
    const c2 = save(run, s.handle);
    // TPM Reset (no orderly Shutdown): the epoch changes, the blob no longer verifies.
    tpm.init();
    assert.equal(startup(0), 0);
    assert.equal(run(loadCommand(c2)).rc, 0x1df);
    assert.equal(tpm.volatile.savedSessions.size, 0);
  });

  it('sessions and saved contexts survive a process restart through the volatile-state file', () => {
    const { run, tpm } = startedTpm();
    const s = ClientSession.start(run, { type: SE.POLICY });
    run(policyPcrCommand(s.handle, Buffer.alloc(0), SEL0));
    const c = save(run, s.handle);
    const h = ClientSession.start(run);
    const p = stateFromJson<PersistentState>(stateToJson(tpm.persistent));
    const v = stateFromJson<VolatileState>(stateToJson(tpm.volatile));
    const next = new Tpm(p, v, { now: () => 0, persistentChanged: () => undefined });
    const run2 = (cmd: Buffer): Response => parseResponse(next.execute(cmd).response);
    assert.equal(load(run2, c), s.handle);
    const r = run2(command(CC.PCR_Event, [16], [EVENT], [h.authCommand(CC.PCR_Event, [u32(16)], EVENT)]));
    assert.equal(r.rc, 0, hex(r.rc));
  });

  it('closing a client flushes its loaded sessions but keeps saved ones; ContextLoad hands the session to the loader', () => {
    const { run, tpm } = startedTpm();
    const client1 = (c: Buffer): Response => run(c, 1);
    const client2 = (c: Buffer): Response => run(c, 2);
    const kept = ClientSession.start(client1, { type: SE.POLICY });
    const lost = ClientSession.start(client1);
    const c = save(client1, kept.handle);
    tpm.closeClient(1);
    assert.equal(client2(flushCommand(lost.handle)).rc, 0x1cb);
    assert.equal(load(client2, c), kept.handle);
    tpm.closeClient(1);
    assert.equal(tpm.tpmCore.sessions.isLoaded(kept.handle), true);
    tpm.closeClient(2);
    assert.equal(tpm.tpmCore.sessions.isLoaded(kept.handle), false);
  });

  it('limits: loaded sessions (SESSION_MEMORY), active sessions (SESSION_HANDLES), loading into a full TPM', () => {
    const { run } = startedTpm();
    const start = (): Response => run(startAuthSessionCommand());
    const loaded: number[] = [];
    for (let i = 0; i < LIMITS.MAX_LOADED_SESSIONS; i++) loaded.push(start().body.readUInt32BE(0));
    assert.equal(start().rc, 0x903);
    const first = save(run, loaded.shift()!);
    loaded.push(start().body.readUInt32BE(0));
    assert.equal(run(loadCommand(first)).rc, 0x903, 'no free loaded slot');
    // Save loaded sessions to make room until every session handle is taken.
    let active = LIMITS.MAX_LOADED_SESSIONS + 1;
    while (active < LIMITS.MAX_ACTIVE_SESSIONS) {
      save(run, loaded.shift()!);
      const r = start();
      assert.equal(r.rc, 0, hex(r.rc));
      loaded.push(r.body.readUInt32BE(0));
      active++;
    }
    save(run, loaded.shift()!);
    assert.equal(start().rc, 0x905);
    assert.equal(new Set([...loaded]).size, loaded.length);
    assert.equal(run(flushCommand(first.savedHandle)).rc, 0);
    assert.equal(start().rc, 0, 'a flushed saved session frees its handle');
  });

  it('TPM_RC_CONTEXT_GAP when the oldest saved session falls too far behind the counter', () => {
    const { run, tpm } = startedTpm();
    const oldest = ClientSession.start(run, { type: SE.TRIAL });
    const c = save(run, oldest.handle);
    tpm.volatile.contextCounter = c.sequence + BigInt(LIMITS.CONTEXT_GAP_MAX);
    const other = ClientSession.start(run);
    assert.equal(save(run, other.handle).sequence, BigInt(LIMITS.CONTEXT_GAP_MAX), 'a gap of exactly CONTEXT_GAP_MAX is allowed');
    const third = ClientSession.start(run);
    assert.equal(run(saveCommand(third.handle)).rc, 0x901);
    assert.equal(tpm.tpmCore.sessions.isLoaded(third.handle), true, 'the refused session stays loaded');
    // Loading (or flushing) the oldest resolves it.
    assert.equal(load(run, c), oldest.handle);
    assert.equal(run(saveCommand(third.handle)).rc, 0);
  });
});
