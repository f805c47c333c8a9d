/**
 * Bounded fuzz of the stage 4 commands: NV, attestation and policy commands, each mutated from a
 * valid one, must get a well-formed response with a spec response code (never TPM_RC_FAILURE), and
 * the persistent state they leave must still serialize and load into a TPM that serves.
 */
import assert from 'node:assert/strict';
import { Tpm } from '../../../src/tpm/engine/tpm.js';
import { manufacture, upgradePersistent } from '../../../src/tpm/state/initial-state.js';
import { stateFromJson, stateToJson } from '../../../src/tpm/state/serialize.js';
import type { PersistentState } from '../../../src/tpm/state/tpm-state.js';
import { command, rcOf, tpm2b, u16, u32 } from '../helpers/tpm-wire.js';
import { RH } from '../helpers/pcr-cmd.js';
import { ALG, SE, getDigestCommand, pcrSelection, policyPcrCommand, startAuthSessionCommand } from '../helpers/session-cmd.js';
import { SIGNING, TALG, createPrimary, eccTemplate, readPublic } from '../helpers/object-cmd.js';
import { NVA, nv } from '../helpers/nv-cmd.js';
import { fuzzRounds } from '../../helpers/fuzz-rounds.js';

const ROUNDS = 10000;
const ORDINARY = 0x01500001;
const COUNTER = 0x01500002;
const BITS = 0x01500003;
const EXTEND = 0x01500004;
const KEY = 0x80000000;

const POLICY_SESSION = 0x03000000;
const PW = Buffer.concat([u32(0x40000009), u16(0), Buffer.from([1]), u16(0)]);
const DIGEST = Buffer.alloc(32, 0x44);
const NAME = Buffer.concat([u16(TALG.SHA256), Buffer.alloc(32, 0x55)]);

/** One valid command of each policy assertion, on the first policy session. */
function policyCorpus(): Buffer[] {
  const on = (cc: number, ...params: Buffer[]): Buffer => command(cc, [POLICY_SESSION], params);
  const ticket = (tag: number): Buffer => Buffer.concat([u16(tag), u32(RH.OWNER), tpm2b(Buffer.alloc(64, 0x66))]);
  return [
    on(0x16f, Buffer.from([0x03])), // PolicyLocality
    on(0x187), // PolicyPhysicalPresence
    on(0x16e, tpm2b(DIGEST)), // PolicyCpHash
    on(0x170, tpm2b(DIGEST)), // PolicyNameHash
    on(0x188, tpm2b(NAME), tpm2b(NAME), Buffer.from([1])), // PolicyDuplicationSelect
    on(0x18f, Buffer.from([0])), // PolicyNvWritten
    on(0x190, tpm2b(DIGEST)), // PolicyTemplate
    on(0x16d, tpm2b(Buffer.alloc(8)), u16(0), u16(5)), // PolicyCounterTimer
    on(0x172, tpm2b(Buffer.alloc(8)), tpm2b(Buffer.alloc(0)), tpm2b(Buffer.alloc(0)), tpm2b(NAME), ticket(0x8025)), // PolicyTicket
    on(0x16a, tpm2b(DIGEST), tpm2b(Buffer.alloc(0)), tpm2b(NAME), Buffer.concat([u16(0x8022), u32(RH.OWNER), tpm2b(DIGEST)])), // PolicyAuthorize
    on(0x171, u32(2), tpm2b(DIGEST), tpm2b(Buffer.alloc(32))), // PolicyOR
    command(0x149, [ORDINARY, ORDINARY, POLICY_SESSION], [tpm2b(Buffer.alloc(4)), u16(0), u16(0)], [PW]), // PolicyNV
    command(0x192, [ORDINARY, ORDINARY, POLICY_SESSION], [], [PW]), // PolicyAuthorizeNV
    command(0x151, [RH.OWNER, POLICY_SESSION], [tpm2b(Buffer.alloc(0)), tpm2b(Buffer.alloc(0)), tpm2b(Buffer.alloc(0)), u32(0xffffffff)], [PW]), // PolicySecret
    // PolicySigned with an ECDSA signature (r, s) that does not verify.
    command(0x160, [KEY, POLICY_SESSION], [tpm2b(Buffer.alloc(0)), tpm2b(Buffer.alloc(0)), tpm2b(Buffer.alloc(0)), u32(0),
      Buffer.concat([u16(TALG.ECDSA), u16(TALG.SHA256), tpm2b(Buffer.alloc(32, 1)), tpm2b(Buffer.alloc(32, 2))])]),
  ];
}

/** Attestation and audit commands signed by the key. */
function attestationCorpus(): Buffer[] {
  const nullScheme = u16(TALG.NULL);
  return [
    command(0x148, [KEY, KEY], [tpm2b(Buffer.alloc(8, 1)), nullScheme], [PW, PW]), // Certify
    command(0x14c, [0x4000000b, KEY], [tpm2b(Buffer.alloc(8, 2)), nullScheme], [PW, PW]), // GetTime (endorsement as privacy admin)
    command(0x184, [RH.OWNER, KEY, ORDINARY], [tpm2b(Buffer.alloc(8, 3)), nullScheme, u16(8), u16(0)], [PW, PW]), // NV_Certify
    command(0x140, [RH.OWNER], [u16(TALG.SHA256), Buffer.concat([u32(1), u32(0x15e)]), u32(0)], [PW]), // SetCommandCodeAuditStatus
    command(0x133, [0x4000000b, KEY], [tpm2b(Buffer.alloc(8, 4)), nullScheme], [PW, PW]), // GetCommandAuditDigest
  ];
}

/** Dictionary-attack and clock commands (lockout and owner authorization by password). */
function hierarchyCorpus(): Buffer[] {
  const LOCKOUT = 0x4000000a;
  return [
    command(0x139, [LOCKOUT], [], [PW]), // DictionaryAttackLockReset
    command(0x13a, [LOCKOUT], [u32(5), u32(60), u32(120)], [PW]), // DictionaryAttackParameters
    command(0x128, [RH.OWNER], [Buffer.from('0000000100000000', 'hex')], [PW]), // ClockSet
    command(0x130, [RH.OWNER], [Buffer.from([0xff])], [PW]), // ClockRateAdjust(SLOW)
  ];
}

const host = { now: () => 0, persistentChanged: () => undefined };

function startedTpm(persistent: PersistentState): { tpm: Tpm; run: (c: Buffer) => Buffer } {
  const tpm = new Tpm(persistent, undefined, host);
  tpm.powerOn();
  const run = (c: Buffer): Buffer => Buffer.from(tpm.execute(c, 0, 1).response);
  assert.equal(rcOf(run(command(0x144, [], [u16(0)]))), 0);
  return { tpm, run };
}

describe('stage 4 fuzz: mutated NV, attestation and policy commands get a spec response code, never an internal failure', function () {
  this.timeout(120000);

  it(`${ROUNDS} mutated commands (MRTPM_FUZZ_SEED replays); the state left behind still loads`, () => {
    const { tpm, run } = startedTpm(manufacture());
    const auth = NVA.AUTHWRITE | NVA.AUTHREAD;
    const defines = [
      nv.define(RH.OWNER, { index: ORDINARY, attributes: auth, size: 64 }),
      nv.define(RH.OWNER, { index: COUNTER, attributes: auth | NVA.COUNTER, size: 8 }),
      nv.define(RH.OWNER, { index: BITS, attributes: auth | NVA.BITS, size: 8 }),
      nv.define(RH.OWNER, { index: EXTEND, attributes: auth | NVA.EXTEND, size: 32 }),
    ];
    for (const d of defines) assert.equal(rcOf(run(d)), 0);
    const signing = eccTemplate({ attributes: SIGNING, scheme: Buffer.concat([u16(TALG.ECDSA), u16(TALG.SHA256)]) });
    assert.equal(rcOf(run(createPrimary(RH.OWNER, signing))), 0);
    const sel = pcrSelection([{ alg: ALG.SHA256, pcrs: [0, 7] }]);
    const corpus = [
      ...defines,
      nv.define(RH.OWNER, { index: 0x01500010, attributes: auth | NVA.WRITEDEFINE | NVA.READ_STCLEAR, size: 16 }),
      nv.define(RH.PLATFORM, { index: 0x01400010, attributes: NVA.PPWRITE | NVA.PPREAD | NVA.PLATFORMCREATE, size: 16 }),
      nv.readPublic(ORDINARY),
      nv.write(ORDINARY, ORDINARY, Buffer.alloc(16, 0x11), 8),
      nv.read(ORDINARY, ORDINARY, 16, 8),
      nv.read(RH.OWNER, ORDINARY, 4),
      nv.increment(COUNTER, COUNTER),
      nv.setBits(BITS, BITS, 0x8000000000000001n),
      nv.extend(EXTEND, EXTEND, Buffer.alloc(20, 0x22)),
      nv.writeLock(ORDINARY, ORDINARY),
      nv.readLock(ORDINARY, ORDINARY),
      nv.globalWriteLock(RH.OWNER),
      nv.undefine(RH.OWNER, BITS),
      startAuthSessionCommand({ type: SE.POLICY }),
      startAuthSessionCommand({ type: SE.TRIAL }),
      policyPcrCommand(0x03000000, Buffer.alloc(0), sel),
      command(0x16c, [0x03000000], [u32(0x15e)]),
      getDigestCommand(0x03000000),
      // Quote with the signing key, a nonce and a PCR selection.
      command(0x158, [KEY], [tpm2b(Buffer.alloc(16, 0x33)), u16(TALG.NULL), sel], [Buffer.concat([u32(0x40000009), u16(0), Buffer.from([1]), u16(0)])]),
      readPublic(KEY),
      ...policyCorpus(),
      ...attestationCorpus(),
      ...hierarchyCorpus(),
    ];
    // Every round finds one fresh session at POLICY_SESSION, a policy and a trial one by turns,
    // so that the mutated policy commands reach their handlers.
    let round = 0;
    const freshSession = (): void => {
      for (const h of [...tpm.volatile.sessions.keys(), ...tpm.volatile.savedSessions.keys()]) tpm.tpmCore.sessions.flush(h);
      const started = run(startAuthSessionCommand({ type: round++ % 2 === 0 ? SE.POLICY : SE.TRIAL }));
      assert.equal(started.readUInt32BE(10), POLICY_SESSION);
    };
    freshSession();
    const codes = fuzzRounds(run, corpus, ROUNDS, 0x5a6e4, () => {
      // Transient objects other than the key are not what this test is about.
      for (const h of tpm.tpmCore.objects.handles()) if (h !== KEY) tpm.tpmCore.objects.flush(h);
      freshSession();
    });
    assert.ok(codes.has(0), 'some mutated commands still succeed');
    assert.ok(codes.size >= 20, `only ${codes.size} distinct response codes: ${[...codes].map((c) => c.toString(16))}`);

    const reloaded = stateFromJson<PersistentState>(stateToJson(tpm.persistent));
    upgradePersistent(reloaded);
    assert.equal(stateToJson(reloaded), stateToJson(tpm.persistent), 'the state reloads as it was');
    const again = startedTpm(reloaded);
    assert.ok(tpm.persistent.nvIndexes.size > 0, 'some NV indexes are left');
    for (const index of tpm.persistent.nvIndexes.keys()) assert.equal(rcOf(again.run(nv.readPublic(index))), 0, `NV_ReadPublic(${index.toString(16)}) after a reload`);
    assert.equal(rcOf(again.run(createPrimary(RH.OWNER, signing))), 0, 'the reloaded TPM still serves');
  });
});
