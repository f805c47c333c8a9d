/**
 * EC_Ephemeral, Commit and ZGen_2Phase through Tpm.execute (Part 3 §19.2, §19.3, §14.7): the
 * commit counter and its one-use commitments, the points checked with P-256 arithmetic written
 * here (independent of the engine's) and with node's ECDH, and the error codes of the reference.
 */
import assert from 'node:assert/strict';
import { createECDH, createHash, randomBytes } from 'node:crypto';
import { commands, rcOf, startedTpm } from '../helpers/pcr-cmd.js';
import { Tpm } from '../../../src/tpm/engine/tpm.js';
import { manufacture, upgradePersistent } from '../../../src/tpm/state/initial-state.js';
import { stateFromJson, stateToJson } from '../../../src/tpm/state/serialize.js';
import type { PersistentState } from '../../../src/tpm/state/tpm-state.js';
import { command, pwAuth, tpm2b, u16, u32 } from '../helpers/tpm-wire.js';
import {
  ALG, OBJ, createPrimaryCommand, eccKey, parseCreatePrimary, rsaKey, scheme, signCommand, verifyCommand, type CreatedKey, type Template,
} from '../helpers/key-cmd.js';
import { eccTemplate } from '../helpers/object-cmd.js';
import { G, N, add, big, bytes32, ecdaaVerifies, isOnCurve, mod, mul, nodeKey, p2Input, pointBytes, type Pt } from '../helpers/p256.js';

const CC = { Quote: 0x158, Commit: 0x18b, ZGen_2Phase: 0x18d, EC_Ephemeral: 0x18e, LoadExternal: 0x167, Shutdown: 0x145, Startup: 0x144, GetCapability: 0x17a };
const ECDAA = 0x1a;
const ECMQV = 0x1d;
const SM2 = 0x1b;
const SU = { CLEAR: 0, STATE: 1 };
const RC = {
  KEY_H1: 0x19c, SCHEME_H1: 0x192, ATTRIBUTES_H1: 0x182, SIZE_P1: 0x1d5, SIZE_P3: 0x3d5, ECC_POINT_P1: 0x1e7, ECC_POINT_P2: 0x2e7,
  SCHEME_P3: 0x3d2, VALUE_P4: 0x4c4, CURVE_P1: 0x1e6, VALUE: 0x084, SCHEME_P2: 0x2d2,
};

const EMPTY_POINT = pointBytes(null);

/** Response parameters (after paramSize when the command had sessions). */
class Reader {
  at: number;
  constructor(readonly buf: Buffer, sessions: boolean) {
    this.at = sessions ? 14 : 10;
  }
  b2(): Buffer {
    const n = this.buf.readUInt16BE(this.at);
    this.at += 2 + n;
    return this.buf.subarray(this.at - n, this.at);
  }
  point(): Pt {
    const inner = new Reader(this.b2(), false);
    inner.at = 0;
    const x = inner.b2();
    const y = inner.b2();
    return x.length + y.length === 0 ? null : { x: big(x), y: big(y) };
  }
  u16(): number {
    this.at += 2;
    return this.buf.readUInt16BE(this.at - 2);
  }
}

function setup() {
  const t = startedTpm();
  const create = (template: Template): CreatedKey => parseCreatePrimary(template, t.ok(createPrimaryCommand(template)));
  const ephemeral = (curve = 0x0003): Buffer => t.run(command(CC.EC_Ephemeral, [], [u16(curve)]));
  const ephemeralOk = (): { Q: Pt; counter: number } => {
    const r = ephemeral();
    assert.equal(rcOf(r), 0);
    const p = new Reader(r, false);
    return { Q: p.point(), counter: p.u16() };
  };
  const commit = (key: number, P1: Buffer = EMPTY_POINT, s2: Buffer = Buffer.alloc(0), y2: Buffer = Buffer.alloc(0), p1Raw?: Buffer): Buffer =>
    t.run(command(CC.Commit, [key], [p1Raw ?? P1, tpm2b(s2), tpm2b(y2)], [pwAuth()]));
  const commitOk = (...args: Parameters<typeof commit>): { K: Pt; L: Pt; E: Pt; counter: number } => {
    const r = commit(...args);
    assert.equal(rcOf(r), 0, `Commit: 0x${rcOf(r).toString(16)}`);
    const p = new Reader(r, true);
    return { K: p.point(), L: p.point(), E: p.point(), counter: p.u16() };
  };
  const zgen = (key: number, QsB: Pt | Buffer, QeB: Pt | Buffer, counter: number, inScheme: number = ALG.ECDH): Buffer =>
    t.run(command(CC.ZGen_2Phase, [key], [
      Buffer.isBuffer(QsB) ? QsB : pointBytes(QsB), Buffer.isBuffer(QeB) ? QeB : pointBytes(QeB), u16(inScheme), u16(counter),
    ], [pwAuth()]));
  const zgenOk = (...args: Parameters<typeof zgen>): { z1: Pt; z2: Pt } => {
    const r = zgen(...args);
    assert.equal(rcOf(r), 0, `ZGen_2Phase: 0x${rcOf(r).toString(16)}`);
    const p = new Reader(r, true);
    return { z1: p.point(), z2: p.point() };
  };
  /** An ECDAA signing key whose private scalar the test knows (LoadExternal). */
  const knownEcdaaKey = (d: bigint): number => {
    const Q = mul(d, G)!;
    const template = eccTemplate({
      attributes: OBJ.userWithAuth | OBJ.sign, scheme: Buffer.concat([scheme(ECDAA, ALG.SHA256), u16(0)]),
      unique: Buffer.concat([tpm2b(bytes32(Q.x)), tpm2b(bytes32(Q.y))]),
    });
    const sensitive = tpm2b(Buffer.concat([u16(ALG.ECC), tpm2b(Buffer.alloc(0)), tpm2b(Buffer.alloc(0)), tpm2b(bytes32(d))]));
    return t.ok(command(CC.LoadExternal, [], [sensitive, tpm2b(template), u32(0x40000007)])).readUInt32BE(10);
  };
  const restart = (shutdown: number, startup: number): void => {
    t.ok(command(CC.Shutdown, [], [u16(shutdown)]));
    t.tpm.init();
    t.ok(command(CC.Startup, [], [u16(startup)]));
  };
  return { t, create, ephemeral, ephemeralOk, commit, commitOk, zgen, zgenOk, knownEcdaaKey, restart };
}

const ecdhKey = (): Template => eccKey(OBJ.decrypt, scheme(ALG.ECDH, ALG.SHA256));
const ecdaaKey = (): Template => eccKey(OBJ.sign, Buffer.concat([scheme(ECDAA, ALG.SHA256), u16(0)]));
const keyPoint = (k: CreatedKey): Pt => ({ x: big(k.unique[0]!), y: big(k.unique[1]!) });

describe('EC_Ephemeral / ZGen_2Phase (engine)', () => {
  it('counters count from 0; Z1 = [dsA]QsB and Z2 = [deA]QeB, as party B computes them', () => {
    const { create, ephemeralOk, zgenOk } = setup();
    const first = ephemeralOk();
    const second = ephemeralOk();
    assert.deepEqual([first.counter, second.counter], [0, 1]);
    assert.ok(first.Q && isOnCurve(first.Q) && second.Q && isOnCurve(second.Q));
    assert.notDeepEqual(first.Q, second.Q);

    const keyA = create(ecdhKey());
    const staticB = nodeKey();
    for (const eph of [first, second]) {
      const ephemeralB = nodeKey();
      const { z1, z2 } = zgenOk(keyA.handle, staticB.Q, ephemeralB.Q, eph.counter);
      // Party B: [dsB]QsA and [deB]QeA, where QeA is what EC_Ephemeral returned.
      assert.deepEqual(z1, mul(staticB.d, keyPoint(keyA)));
      assert.deepEqual(z2, mul(ephemeralB.d, eph.Q));
    }
    // The same x by node's ECDH.
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const QeB = { x: big(ecdh.getPublicKey().subarray(1, 33)), y: big(ecdh.getPublicKey().subarray(33)) };
    const third = ephemeralOk();
    const { z2 } = zgenOk(keyA.handle, staticB.Q, QeB, third.counter);
    assert.deepEqual(bytes32(z2!.x), ecdh.computeSecret(Buffer.concat([Buffer.of(4), bytes32(third.Q!.x), bytes32(third.Q!.y)])));
  });

  it('a commitment is used once; one never made, or from before a TPM Reset, is TPM_RC_VALUE (parameter 4)', () => {
    const { create, ephemeralOk, zgen, zgenOk, restart } = setup();
    const keyA = create(ecdhKey());
    const B = nodeKey().Q;
    const { counter } = ephemeralOk();
    zgenOk(keyA.handle, B, B, counter);
    assert.equal(rcOf(zgen(keyA.handle, B, B, counter)), RC.VALUE_P4, 'used twice');
    assert.equal(rcOf(zgen(keyA.handle, B, B, counter + 1)), RC.VALUE_P4, 'not committed yet');

    // TPM Restart and Resume keep the commitments (state-reset data); a TPM Reset ends them.
    const kept = ephemeralOk().counter;
    restart(SU.STATE, SU.CLEAR);
    const keyA2 = create(ecdhKey());
    assert.equal(ephemeralOk().counter, kept + 1, 'the counter survives a TPM Restart');
    zgenOk(keyA2.handle, B, B, kept);
    const beforeReset = ephemeralOk().counter;
    restart(SU.CLEAR, SU.CLEAR);
    const keyA3 = create(ecdhKey());
    assert.equal(rcOf(zgen(keyA3.handle, B, B, beforeReset)), RC.VALUE_P4, 'a TPM Reset renews the nonce and clears the commitments');
    assert.equal(ephemeralOk().counter, 0, 'and restarts the counter');
  });

  it('the commit state is persistent: a commitment made before the state was saved and loaded again still works', () => {
    const first = setup();
    const { counter } = first.ephemeralOk();
    first.t.ok(command(CC.Shutdown, [], [u16(SU.STATE)]));
    // Another process: the persistent state as the store writes and reads it, volatile state lost.
    const host = { now: () => 0, persistentChanged: () => undefined };
    const tpm = new Tpm(stateFromJson<PersistentState>(stateToJson(first.t.tpm.persistent)), undefined, host);
    const run = (c: Buffer): Buffer => Buffer.from(tpm.execute(c, 0, 0).response);
    assert.equal(rcOf(run(commands.startup())), 0, 'TPM Restart');
    const key = run(createPrimaryCommand(ecdhKey())).readUInt32BE(10);
    const B = nodeKey().Q;
    assert.equal(rcOf(run(command(CC.ZGen_2Phase, [key], [pointBytes(B), pointBytes(B), u16(ALG.ECDH), u16(counter)], [pwAuth()]))), 0);
  });

  it('a state saved before commitments existed gets a fresh commit state on load', () => {
    const old: Partial<PersistentState> = manufacture();
    delete old.commit;
    const p = old as PersistentState;
    assert.equal(upgradePersistent(p), true);
    assert.equal(p.commit.counter, 0n);
    assert.equal(p.commit.nonce.length, 64);
    assert.deepEqual(p.commit.array, new Uint8Array(16));
    assert.equal(upgradePersistent(p), false);
  });

  it('128 commitments may be outstanding: the 129th after one ends it (TPM_PT_SPLIT_MAX)', () => {
    const { t, create, ephemeralOk, zgen, zgenOk } = setup();
    const keyA = create(ecdhKey());
    const B = nodeKey().Q;
    for (let i = 0; i <= 128; i++) assert.equal(ephemeralOk().counter, i);
    assert.equal(rcOf(zgen(keyA.handle, B, B, 0)), RC.VALUE_P4, 'overwritten by commitment 128');
    zgenOk(keyA.handle, B, B, 1);
    zgenOk(keyA.handle, B, B, 128);
    const cap = t.ok(command(CC.GetCapability, [], [u32(6), u32(0x100 + 40), u32(1)]));
    assert.deepEqual([cap.readUInt32BE(19), cap.readUInt32BE(23)], [0x100 + 40, 128]);
  });

  it('ECMQV (SP800-56A full MQV) and SM2 agree with party B\'s side of the exchange; one Z, Z2 empty', () => {
    const { create, ephemeralOk, zgenOk } = setup();
    const keyA = create(eccKey(OBJ.decrypt, scheme(ALG.NULL)));
    const QsA = keyPoint(keyA);
    const avf = (p: Pt, w: bigint): bigint => (1n << w) + (p!.x & ((1n << w) - 1n));
    const sides: [number, (b: { s: bigint; e: bigint; QeB: Pt }, QeA: Pt) => Pt][] = [
      // implicitsigB = deB + avf(QeB) dsB; Z = [implicitsigB](QeA + [avf(QeA)]QsA), w = ceil(256 / 2).
      [ECMQV, (b, QeA) => mul(mod(b.e + avf(b.QeB, 128n) * b.s, N), add(QeA, mul(avf(QeA, 128n), QsA)))],
      // tB = dsB + avf(QeB) deB; Z = [tB](QsA + [avf(QeA)]QeA), w = ceil(256 / 2) - 1.
      [SM2, (b, QeA) => mul(mod(b.s + avf(b.QeB, 127n) * b.e, N), add(QsA, mul(avf(QeA, 127n), QeA)))],
    ];
    for (const [inScheme, sideB] of sides) {
      const staticB = nodeKey();
      const ephemeralB = nodeKey();
      const eph = ephemeralOk();
      const { z1, z2 } = zgenOk(keyA.handle, staticB.Q, ephemeralB.Q, eph.counter, inScheme);
      assert.equal(z2, null);
      assert.deepEqual(z1, sideB({ s: staticB.d, e: ephemeralB.d, QeB: ephemeralB.Q }, eph.Q), `scheme 0x${inScheme.toString(16)}`);
    }
  });

  it('errors in the reference order: key, attributes, scheme (3), points (1, 2), counter (4); curve of EC_Ephemeral', () => {
    const { create, ephemeral, ephemeralOk, zgen } = setup();
    const keyA = create(ecdhKey());
    const nullScheme = create(eccKey(OBJ.decrypt, scheme(ALG.NULL)));
    const rsa = create(rsaKey(OBJ.decrypt, scheme(ALG.NULL)));
    const signer = create(ecdaaKey());
    const B = nodeKey().Q;
    const offCurve = { x: B!.x, y: mod(B!.y + 1n) };
    const { counter } = ephemeralOk();
    assert.equal(rcOf(zgen(rsa.handle, B, B, counter)), RC.KEY_H1);
    assert.equal(rcOf(zgen(signer.handle, B, B, counter)), RC.ATTRIBUTES_H1, 'not a decrypt key');
    assert.equal(rcOf(zgen(keyA.handle, B, B, counter, ALG.NULL)), RC.SCHEME_P3, 'another scheme than the key');
    assert.equal(rcOf(zgen(nullScheme.handle, B, B, counter, ALG.NULL)), RC.SCHEME_P3, 'no scheme at all');
    assert.equal(rcOf(zgen(keyA.handle, B, B, counter, ALG.ECDSA)), RC.SCHEME_P3, 'not a TPMI_ECC_KEY_EXCHANGE');
    assert.equal(rcOf(zgen(keyA.handle, offCurve, B, counter)), RC.ECC_POINT_P1);
    assert.equal(rcOf(zgen(keyA.handle, B, offCurve, counter)), RC.ECC_POINT_P2);
    assert.equal(rcOf(zgen(keyA.handle, EMPTY_POINT, B, counter)), RC.ECC_POINT_P1, 'empty coordinates');
    assert.equal(rcOf(zgen(keyA.handle, u16(0), B, counter)), RC.SIZE_P1, 'an empty TPM2B_ECC_POINT');
    assert.equal(rcOf(zgen(keyA.handle, B, B, counter + 5)), RC.VALUE_P4);
    // A key without a scheme takes the caller's.
    assert.equal(rcOf(zgen(nullScheme.handle, B, B, counter)), 0);
    assert.equal(rcOf(ephemeral(0x0010)), RC.CURVE_P1, 'BN P-256 is not implemented');
  });
});

describe('ECDAA keys (engine): creation as the reference\'s SchemeChecks', () => {
  it('an ECDAA scheme on a sign key (also restricted) is accepted; on a decrypt or sign + decrypt key TPM_RC_SCHEME (parameter 2)', () => {
    const { t } = setup();
    const rc = (template: Template): number => rcOf(t.run(createPrimaryCommand(template)));
    const ecdaa = Buffer.concat([scheme(ECDAA, ALG.SHA256), u16(0)]);
    assert.equal(rc(eccKey(OBJ.sign, ecdaa)), 0);
    assert.equal(rc(eccKey(OBJ.sign | OBJ.restricted, ecdaa)), 0);
    assert.equal(rc(eccKey(OBJ.decrypt, ecdaa)), RC.SCHEME_P2);
    assert.equal(rc(eccKey(OBJ.sign | OBJ.decrypt, ecdaa)), RC.SCHEME_P2);
    assert.equal(rc(eccKey(OBJ.sign, scheme(ALG.ECDH, ALG.SHA256))), RC.SCHEME_P2, 'a key-exchange scheme on a sign key');
    assert.equal(rc(eccKey(OBJ.decrypt, scheme(ALG.ECDSA, ALG.SHA256))), RC.SCHEME_P2, 'a signing scheme on a decrypt key');
    assert.equal(rc(eccKey(OBJ.decrypt, scheme(ECMQV, ALG.SHA256))), 0);
  });
});

describe('Commit (engine)', () => {
  it('K = [d]P2, L = [r]P2, E = [r]P1 with one r; E = [r]G without points; the counter is shared with EC_Ephemeral', () => {
    const { knownEcdaaKey, commitOk, ephemeralOk } = setup();
    const d = nodeKey().d;
    const key = knownEcdaaKey(d);
    assert.equal(ephemeralOk().counter, 0);

    const bare = commitOk(key);
    assert.equal(bare.counter, 1);
    assert.equal(bare.K, null);
    assert.equal(bare.L, null);
    assert.ok(bare.E && isOnCurve(bare.E));

    const { s2, P2 } = p2Input();
    const k = nodeKey().d;
    const full = commitOk(key, pointBytes(mul(k, P2)), s2, bytes32(P2.y));
    assert.equal(full.counter, 2);
    assert.deepEqual(full.K, mul(d, P2));
    // E = [r][k]P2 = [k]L: both came from the same r.
    assert.ok(full.L && isOnCurve(full.L));
    assert.deepEqual(full.E, mul(k, full.L));
    assert.notDeepEqual(full.L, bare.E);

    const noM = commitOk(key, EMPTY_POINT, s2, bytes32(P2.y));
    assert.deepEqual(noM.K, mul(d, P2));
    assert.equal(noM.E, null, 'P2 without P1: no E');
    assert.notDeepEqual(noM.L, full.L, 'a new r for every commitment');

    // With P1 = G, E = [r]G as without points.
    const withG = commitOk(key, pointBytes(G));
    assert.ok(withG.E && isOnCurve(withG.E));
    assert.equal(withG.counter, 4);
  });

  it('errors: non-ECC key, non-ECDAA scheme, s2 without y2, points off the curve, public-only key', () => {
    const { t, create, commit, knownEcdaaKey } = setup();
    const rsa = create(rsaKey(OBJ.sign, scheme(ALG.RSASSA, ALG.SHA256)));
    const ecdsa = create(eccKey(OBJ.sign, scheme(ALG.ECDSA, ALG.SHA256)));
    const key = create(ecdaaKey());
    const { s2, P2 } = p2Input();
    assert.equal(rcOf(commit(rsa.handle)), RC.KEY_H1);
    assert.equal(rcOf(commit(ecdsa.handle)), RC.SCHEME_H1);
    assert.equal(rcOf(commit(key.handle, EMPTY_POINT, s2)), RC.SIZE_P3, 's2 without y2');
    assert.equal(rcOf(commit(key.handle, EMPTY_POINT, Buffer.alloc(0), bytes32(P2.y))), RC.SIZE_P3, 'y2 without s2');
    assert.equal(rcOf(commit(key.handle, EMPTY_POINT, s2, bytes32(mod(P2.y + 1n)))), RC.ECC_POINT_P2);
    assert.equal(rcOf(commit(key.handle, pointBytes({ x: P2.x, y: mod(P2.y + 1n) }))), RC.ECC_POINT_P1);
    assert.equal(rcOf(commit(key.handle, EMPTY_POINT, Buffer.alloc(0), Buffer.alloc(0), u16(0))), RC.SIZE_P1);

    // A public-only key may commit to E = [r]G but not compute K = [d]P2.
    const d = nodeKey().d;
    const Q = mul(d, G)!;
    knownEcdaaKey(d);
    const template = eccTemplate({
      attributes: OBJ.userWithAuth | OBJ.sign, scheme: Buffer.concat([scheme(ECDAA, ALG.SHA256), u16(0)]),
      unique: Buffer.concat([tpm2b(bytes32(Q.x)), tpm2b(bytes32(Q.y))]),
    });
    const publicOnly = t.ok(command(CC.LoadExternal, [], [u16(0), tpm2b(template), u32(0x40000001)])).readUInt32BE(10);
    assert.equal(rcOf(commit(publicOnly)), 0);
    assert.equal(rcOf(commit(publicOnly, EMPTY_POINT, s2, bytes32(P2.y))), RC.KEY_H1);
  });
});

describe('ECDAA signing (engine)', () => {
  /** The signature at `at`: TPMT_SIGNATURE of ECDAA (sigAlg, hash, R = k, S = s). */
  function ecdaaSignature(r: Buffer, at: number): { sigAlg: number; hash: number; k: Buffer; s: bigint } {
    const p = new Reader(r, false);
    p.at = at + 4;
    return { sigAlg: r.readUInt16BE(at), hash: r.readUInt16BE(at + 2), k: p.b2(), s: big(p.b2()) };
  }
  const verifies = (sig: { k: Buffer; s: bigint }, digest: Buffer, E: Pt, Q: Pt): boolean => ecdaaVerifies(sig.k, sig.s, digest, E, Q);
  const ecdaaInScheme = (count: number): Buffer => Buffer.concat([scheme(ECDAA, ALG.SHA256), u16(count)]);
  const NULL_TICKET = Buffer.concat([u16(0x8024), u32(0x40000007), u16(0)]);

  it('Sign with the count of a Commit: s G = E + T Q; the count works once; NULL inScheme and VerifySignature are TPM_RC_SCHEME', () => {
    const { t, knownEcdaaKey, commitOk } = setup();
    const d = nodeKey().d;
    const Q = mul(d, G);
    const key = knownEcdaaKey(d);
    const { E, counter } = commitOk(key);
    const digest = randomBytes(32);
    const r = t.run(signCommand(key, digest, ecdaaInScheme(counter), NULL_TICKET));
    assert.equal(rcOf(r), 0, `Sign: 0x${rcOf(r).toString(16)}`);
    const sig = ecdaaSignature(r, 14);
    assert.deepEqual([sig.sigAlg, sig.hash], [ECDAA, ALG.SHA256]);
    assert.ok(verifies(sig, digest, E, Q));
    assert.ok(!verifies(sig, randomBytes(32), E, Q));

    assert.equal(rcOf(t.run(signCommand(key, digest, ecdaaInScheme(counter), NULL_TICKET))), RC.VALUE, 'used up (unnumbered, as CryptSign returns it)');
    assert.equal(rcOf(t.run(signCommand(key, digest, ecdaaInScheme(counter + 7), NULL_TICKET))), RC.VALUE, 'never committed');
    assert.equal(rcOf(t.run(signCommand(key, digest, scheme(ALG.NULL), NULL_TICKET))), RC.SCHEME_P2, 'only the caller can name the count');
    const signature = r.subarray(14, 14 + r.readUInt32BE(10));
    assert.equal(rcOf(t.run(verifyCommand(key, digest, signature))), RC.SCHEME_P2, 'the TPM does not verify ECDAA');
  });

  it('Quote with an ECDAA key: the attestation is signed with the Commit\'s r', () => {
    const { t, knownEcdaaKey, commitOk } = setup();
    const d = nodeKey().d;
    const key = knownEcdaaKey(d);
    const { E, counter } = commitOk(key);
    const pcrs = Buffer.concat([u32(1), u16(ALG.SHA256), Buffer.of(3, 1, 0, 0)]);
    const r = t.run(command(CC.Quote, [key], [tpm2b(randomBytes(8)), ecdaaInScheme(counter), pcrs], [pwAuth()]));
    assert.equal(rcOf(r), 0, `Quote: 0x${rcOf(r).toString(16)}`);
    const attest = new Reader(r, true).b2();
    const sig = ecdaaSignature(r, 14 + 2 + attest.length);
    assert.ok(verifies(sig, createHash('sha256').update(attest).digest(), E, mul(d, G)));
  });
});
