/**
 * TPM2_EC_Ephemeral, TPM2_Commit and TPM2_ZGen_2Phase with real peers: the flow of tpm2-tools'
 * own test/integration/tests/ecc.sh through the mssim and cmd TCTIs (Z values checked with node's
 * ECDH), and the same commands as raw bytes to mrtpm and to real swtpm, whose response codes (and
 * counters) must agree, and whose Z values party B's side of each exchange must reproduce.
 */
import assert from 'node:assert/strict';
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MRTPM_TCTIS, describeInterop, type ToolTarget } from '../helpers/interop-suite.js';
import { startMrtpm } from '../helpers/mrtpm.js';
import { tpm2, tpm2Fails } from '../helpers/tpm2-tools.js';
import { startSwtpm } from '../helpers/swtpm.js';
import { SwtpmDataClient } from '../helpers/raw-client.js';
import { command, pwAuth, tpm2b, u16, u32 } from '../tpm/helpers/tpm-wire.js';
import { ALG, OBJ, createPrimaryCommand, eccKey, rsaKey, scheme, type Template } from '../tpm/helpers/key-cmd.js';
import {
  N, add, big, bytes32, ecdaaVerifies, eccPointAt, isOnCurve, mod, mul, nodeKey, p2Input, parsePoint, pointBytes, type Pt,
} from '../tpm/helpers/p256.js';

// ---- tpm2-tools, the flow of ecc.sh.

type Target = ToolTarget;
type Case = [name: string, run: (t: Target) => Promise<void>];

const file = (t: Target, name: string): string => path.join(t.dir, name);
const tool = (t: Target, name: string, args: string[]): Promise<string> => tpm2(t.tcti, name, args, { cwd: t.dir });
const fails = (t: Target, name: string, args: string[]) => tpm2Fails(t.tcti, name, args, { cwd: t.dir });
const readPoint = async (t: Target, name: string): Promise<Pt> => parsePoint(await readFile(file(t, name))).point;
const counterOf = async (t: Target, name: string): Promise<number> => (await readFile(file(t, name))).readUInt16BE(0);
/** The public point of a loaded key, by its PEM. */
async function publicPoint(t: Target, ctx: string): Promise<Pt> {
  await tool(t, 'readpublic', ['-c', ctx, '-o', `${ctx}.pem`, '-f', 'pem', '-Q']);
  const jwk = createPublicKey(await readFile(file(t, `${ctx}.pem`))).export({ format: 'jwk' });
  return { x: big(Buffer.from(jwk.x!, 'base64url')), y: big(Buffer.from(jwk.y!, 'base64url')) };
}
const zgen2phase = (staticPub: string, ephemeralPub: string, counter: number, out: string, key = 'ecdh_key.ctx'): string[] =>
  ['-c', key, '--static-public', staticPub, '--ephemeral-public', ephemeralPub, '-t', String(counter), '--output-Z1', `${out}.z1`, '--output-Z2', `${out}.z2`];

const cases: Case[] = [
  ['tpm2_startup -c; tpm2_geteccparameters ecc256', async (t) => {
    await tool(t, 'startup', ['-c']);
    await tool(t, 'geteccparameters', ['ecc256', '-o', 'ecc.params']);
    const params = await readFile(file(t, 'ecc.params'));
    assert.deepEqual([params.readUInt16BE(0), params.readUInt16BE(2)], [0x0003, 256], 'curveID NIST P-256, keySize 256');
  }],
  ['tpm2_ecephemeral twice: counters 0 and 1, two points on the curve', async (t) => {
    await tool(t, 'ecephemeral', ['-u', 'pass1_ecc.q', '-t', 'pass1_ecc.ctr', 'ecc256']);
    await tool(t, 'ecephemeral', ['-u', 'pass2_ecc.q', '-t', 'pass2_ecc.ctr', 'ecc256']);
    assert.equal(await counterOf(t, 'pass1_ecc.ctr'), 0);
    assert.equal(await counterOf(t, 'pass2_ecc.ctr'), 1);
    const [q1, q2] = [await readPoint(t, 'pass1_ecc.q'), await readPoint(t, 'pass2_ecc.q')];
    assert.ok(isOnCurve(q1) && isOnCurve(q2));
    assert.notDeepEqual(q1, q2);
  }],
  ['tpm2_create -G ecc256:ecdaa; tpm2_commit: counter 2, E on the curve, no K or L without P2', async (t) => {
    await tool(t, 'createprimary', ['-C', 'o', '-c', 'prim.ctx', '-Q']);
    await tool(t, 'create', ['-C', 'prim.ctx', '-c', 'commit_key.ctx', '-u', 'commit_key.pub', '-r', 'commit_key.priv', '-G', 'ecc256:ecdaa', '-Q']);
    await tool(t, 'commit', ['-c', 'commit_key.ctx', '-t', 'commit.ctr', '--eccpoint-K', 'K.bin', '--eccpoint-L', 'L.bin', '-u', 'E.bin']);
    assert.equal(await counterOf(t, 'commit.ctr'), 2);
    assert.ok(isOnCurve(await readPoint(t, 'E.bin')));
    assert.equal(await readPoint(t, 'K.bin'), null);
    assert.equal(await readPoint(t, 'L.bin'), null);
  }],
  ['tpm2_commit with P1: E = [r]P1 on the curve, counter 3 (tpm2-tools 5.4 sends no s2: it reads the s2 file into a zero-sized buffer)', async (t) => {
    await writeFile(file(t, 's2.bin'), randomBytes(20));
    await writeFile(file(t, 'P1.bin'), pointBytes(nodeKey().Q));
    await tool(t, 'commit', ['-c', 'commit_key.ctx', '-t', 'commit2.ctr', '--eccpoint-P', 'P1.bin', '--eccpoint-K', 'K2.bin', '--eccpoint-L', 'L2.bin', '-u', 'E2.bin', 's2.bin']);
    assert.equal(await counterOf(t, 'commit2.ctr'), 3);
    assert.ok(isOnCurve(await readPoint(t, 'E2.bin')));
    assert.notDeepEqual(await readPoint(t, 'E2.bin'), await readPoint(t, 'E.bin'));
    assert.equal(await readPoint(t, 'K2.bin'), null);
    // With --basepoint-y the tool sends y2 without s2: TPM_RC_SIZE on y2, and no commitment.
    await writeFile(file(t, 'y2.bin'), tpm2b(randomBytes(32)));
    const refused = await fails(t, 'commit', ['-c', 'commit_key.ctx', '--basepoint-y', 'y2.bin', '--eccpoint-P', 'P1.bin', '-u', 'E3.bin', 's2.bin']);
    assert.match(refused.stderr, /0x3d5\b/i, 'TPM_RC_SIZE, parameter 3');
  }],
  ['tpm2_ecdhkeygen with the ECDAA key and with an ECDH key; tpm2_ecdhzgen recovers Z', async (t) => {
    await tool(t, 'ecdhkeygen', ['-u', 'ecc256ecdaa.pub', '-o', 'ecc256ecdaa.priv', '-c', 'commit_key.ctx']);
    await tool(t, 'create', ['-C', 'prim.ctx', '-c', 'ecdh_key.ctx', '-u', 'ecdh_key.pub', '-r', 'ecdh_key.priv', '-G', 'ecc256:ecdh', '-Q']);
    await tool(t, 'ecdhkeygen', ['-u', 'ecc256ecdh.pub', '-o', 'ecc256ecdh.priv', '-c', 'ecdh_key.ctx']);
    await tool(t, 'ecdhzgen', ['-u', 'ecc256ecdh.pub', '-o', 'ecdhZgen.dat', '-c', 'ecdh_key.ctx']);
    assert.deepEqual(await readFile(file(t, 'ecdhZgen.dat')), await readFile(file(t, 'ecc256ecdh.priv')));
  }],
  ['tpm2_zgen2phase with the three ephemeral points (counters 0, 1, 2): Z1 the same each time and = ECDH_KeyGen\'s Z, Z2 all different', async (t) => {
    await tool(t, 'zgen2phase', zgen2phase('ecc256ecdh.pub', 'pass1_ecc.q', 0, 'pass1'));
    await tool(t, 'zgen2phase', zgen2phase('ecc256ecdh.pub', 'pass2_ecc.q', 1, 'pass2'));
    await tool(t, 'zgen2phase', zgen2phase('ecc256ecdh.pub', 'E.bin', 2, 'pass3'));
    const z1 = await Promise.all(['pass1', 'pass2', 'pass3'].map((p) => readFile(file(t, `${p}.z1`))));
    const z2 = await Promise.all(['pass1', 'pass2', 'pass3'].map((p) => readFile(file(t, `${p}.z2`))));
    assert.deepEqual(z1[1], z1[0]);
    assert.deepEqual(z1[2], z1[0]);
    // [dsA]QsB with QsB = [de]G of ECDH_KeyGen is its zPoint [de]QsA.
    assert.deepEqual(z1[0], await readFile(file(t, 'ecc256ecdh.priv')));
    assert.notDeepEqual(z2[0], z2[1]);
    assert.notDeepEqual(z2[0], z2[2]);
    assert.notDeepEqual(z2[1], z2[2]);
  }],
  ['tpm2_zgen2phase against node\'s keys: Z1 = [dsB]QsA and Z2 = [deB]QeA as party B computes them', async (t) => {
    await tool(t, 'ecephemeral', ['-u', 'pass4_ecc.q', '-t', 'pass4_ecc.ctr', 'ecc256']);
    const counter = await counterOf(t, 'pass4_ecc.ctr');
    assert.equal(counter, 4);
    const [staticB, ephemeralB] = [nodeKey(), nodeKey()];
    await writeFile(file(t, 'node_s.pub'), pointBytes(staticB.Q));
    await writeFile(file(t, 'node_e.pub'), pointBytes(ephemeralB.Q));
    await tool(t, 'zgen2phase', zgen2phase('node_s.pub', 'node_e.pub', counter, 'node'));
    assert.deepEqual(await readPoint(t, 'node.z1'), mul(staticB.d, await publicPoint(t, 'ecdh_key.ctx')));
    assert.deepEqual(await readPoint(t, 'node.z2'), mul(ephemeralB.d, await readPoint(t, 'pass4_ecc.q')));
  }],
  ['tpm2_commit, then tpm2_sign -s ecdaa --commit-index: s G = E + H(k || digest) Q; the index signs once (TPM_RC_VALUE)', async (t) => {
    await tool(t, 'commit', ['-c', 'commit_key.ctx', '-t', 'sign.ctr', '-u', 'sign_E.bin']);
    const counter = await counterOf(t, 'sign.ctr');
    assert.equal(counter, 5);
    const message = randomBytes(64);
    await writeFile(file(t, 'message'), message);
    const signArgs = ['-c', 'commit_key.ctx', '-g', 'sha256', '-s', 'ecdaa', '--commit-index', String(counter), '-o', 'ecdaa.sig', 'message'];
    await tool(t, 'sign', signArgs);
    // TPMT_SIGNATURE: sigAlg, hash, signatureR (the nonce k), signatureS.
    const sig = await readFile(file(t, 'ecdaa.sig'));
    assert.deepEqual([sig.readUInt16BE(0), sig.readUInt16BE(2)], [0x001a, 0x000b]);
    const k = sig.subarray(6, 6 + sig.readUInt16BE(4));
    const sValue = big(sig.subarray(8 + k.length, 8 + k.length + sig.readUInt16BE(6 + k.length)));
    const digest = createHash('sha256').update(message).digest();
    assert.ok(ecdaaVerifies(k, sValue, digest, await readPoint(t, 'sign_E.bin'), await publicPoint(t, 'commit_key.ctx')));
    assert.ok(!ecdaaVerifies(k, sValue, randomBytes(32), await readPoint(t, 'sign_E.bin'), await publicPoint(t, 'commit_key.ctx')));
    const again = await fails(t, 'sign', signArgs);
    assert.match(again.stderr, /0x84\b/i, 'TPM_RC_VALUE (unnumbered, as CryptSign returns it)');
  }],
  ['errors: a counter used twice or never committed is TPM_RC_VALUE (parameter 4); Commit with an ECDH key TPM_RC_SCHEME (handle 1)', async (t) => {
    const used = await fails(t, 'zgen2phase', zgen2phase('ecc256ecdh.pub', 'pass1_ecc.q', 0, 'again'));
    assert.match(used.stderr, /0x4c4\b/i);
    const never = await fails(t, 'zgen2phase', zgen2phase('ecc256ecdh.pub', 'pass1_ecc.q', 999, 'never'));
    assert.match(never.stderr, /0x4c4\b/i);
    const wrongKey = await fails(t, 'commit', ['-c', 'ecdh_key.ctx', '-t', 'x.ctr', '-u', 'x.bin']);
    assert.match(wrongKey.stderr, /0x192\b/i);
    const notDecrypt = await fails(t, 'zgen2phase', zgen2phase('ecc256ecdh.pub', 'pass1_ecc.q', 3, 'x', 'commit_key.ctx'));
    assert.match(notDecrypt.stderr, /0x182\b/i, 'TPM_RC_ATTRIBUTES, handle 1');
  }],
];

for (const [label, target] of MRTPM_TCTIS) {
  describeInterop(`ECC two-phase (ecc.sh) via ${label}`, () => target('mrtpm-ecc'), (t) => {
    for (const [name, run] of cases) it(name, () => run(t()));
  }, 120000);
}

// ---- Raw commands, the same bytes to mrtpm and to swtpm.

const CC = { Sign: 0x15d, VerifySignature: 0x177, Commit: 0x18b, ZGen_2Phase: 0x18d, EC_Ephemeral: 0x18e, ECDH_KeyGen: 0x163, FlushContext: 0x165, Startup: 0x144, GetCapability: 0x17a };
const ECDAA = 0x1a;
const ECMQV = 0x1d;
const SM2 = 0x1b;
const ecdaaScheme = (hash: number = ALG.SHA256): Buffer => Buffer.concat([scheme(ECDAA, hash), u16(0)]);

/** One TPM as the raw cases see it: commands, and keys created as primaries and flushed after use (swtpm has 3 object slots). */
class Peer {
  constructor(readonly client: SwtpmDataClient) {}
  run(c: Buffer): Promise<Buffer> {
    return this.client.transmit(c);
  }
  async rc(c: Buffer): Promise<number> {
    return (await this.run(c)).readUInt32BE(6);
  }
  async withKey<T>(template: Template, use: (handle: number, Q: Pt) => Promise<T>): Promise<T> {
    const r = await this.run(createPrimaryCommand(template));
    assert.equal(r.readUInt32BE(6), 0, `CreatePrimary: 0x${r.readUInt32BE(6).toString(16)}`);
    const handle = r.readUInt32BE(10);
    // outPublic (after handle and paramSize): the TPMT_PUBLIC of a P-256 key ends with its point.
    const areaEnd = 20 + r.readUInt16BE(18);
    const Q = template.type === ALG.ECC ? eccPointAt(r, areaEnd - 4 - 64) : null;
    try {
      return await use(handle, Q);
    } finally {
      await this.run(command(CC.FlushContext, [], [u32(handle)]));
    }
  }
  async ephemeral(): Promise<{ Q: Pt; counter: number }> {
    const r = await this.run(command(CC.EC_Ephemeral, [], [u16(0x0003)]));
    assert.equal(r.readUInt32BE(6), 0);
    const { point, end } = parsePoint(r, 10);
    return { Q: point, counter: r.readUInt16BE(end) };
  }
  zgen(key: number, QsB: Pt | Buffer, QeB: Pt | Buffer, counter: number, inScheme: number = ALG.ECDH): Promise<Buffer> {
    const p = (q: Pt | Buffer): Buffer => (Buffer.isBuffer(q) ? q : pointBytes(q));
    return this.run(command(CC.ZGen_2Phase, [key], [p(QsB), p(QeB), u16(inScheme), u16(counter)], [pwAuth()]));
  }
  commit(key: number, P1: Buffer = pointBytes(null), s2: Buffer = Buffer.alloc(0), y2: Buffer = Buffer.alloc(0)): Promise<Buffer> {
    return this.run(command(CC.Commit, [key], [P1, tpm2b(s2), tpm2b(y2)], [pwAuth()]));
  }
}

// noDA: libtpms answers the first DA-protected authorization after Startup with TPM_RC_RETRY (USE_DA_USED).
const ecdhKey = (): Template => eccKey(OBJ.decrypt | OBJ.noDA, scheme(ALG.ECDH, ALG.SHA256));
const nullSchemeKey = (): Template => eccKey(OBJ.decrypt | OBJ.noDA, scheme(ALG.NULL));
const ecdaaKey = (): Template => eccKey(OBJ.sign | OBJ.noDA, ecdaaScheme());
const ecdsaKey = (): Template => eccKey(OBJ.sign | OBJ.noDA, scheme(ALG.ECDSA, ALG.SHA256));
const rsaSignKey = (): Template => rsaKey(OBJ.sign | OBJ.noDA, scheme(ALG.RSASSA, ALG.SHA256));

/** Named response codes of one peer, in a fixed order, so two peers' lists compare. */
async function errorCodes(peer: Peer): Promise<[string, string][]> {
  const out: [string, string][] = [];
  const note = (name: string, rc: number): void => void out.push([name, `0x${rc.toString(16)}`]);
  const B = nodeKey().Q;
  const off = { x: B!.x, y: mod(B!.y + 1n) };
  const { counter } = await peer.ephemeral();
  await peer.withKey(ecdhKey(), async (h) => {
    note('ZGen_2Phase key ECDH, inScheme NULL', (await peer.zgen(h, B, B, counter, ALG.NULL)).readUInt32BE(6));
    note('ZGen_2Phase key ECDH, inScheme ECMQV', (await peer.zgen(h, B, B, counter, ECMQV)).readUInt32BE(6));
    note('ZGen_2Phase inScheme ECDSA', (await peer.zgen(h, B, B, counter, ALG.ECDSA)).readUInt32BE(6));
    note('ZGen_2Phase QsB off the curve', (await peer.zgen(h, off, B, counter)).readUInt32BE(6));
    note('ZGen_2Phase QeB off the curve', (await peer.zgen(h, B, off, counter)).readUInt32BE(6));
    note('ZGen_2Phase QsB empty coordinates', (await peer.zgen(h, pointBytes(null), B, counter)).readUInt32BE(6));
    note('ZGen_2Phase QsB empty TPM2B', (await peer.zgen(h, u16(0), B, counter)).readUInt32BE(6));
    note('ZGen_2Phase counter never committed', (await peer.zgen(h, B, B, counter + 10)).readUInt32BE(6));
    note('ZGen_2Phase', (await peer.zgen(h, B, B, counter)).readUInt32BE(6));
    note('ZGen_2Phase counter used twice', (await peer.zgen(h, B, B, counter)).readUInt32BE(6));
  });
  const next = (await peer.ephemeral()).counter;
  await peer.withKey(nullSchemeKey(), async (h) => {
    note('ZGen_2Phase key NULL, inScheme NULL', (await peer.zgen(h, B, B, next, ALG.NULL)).readUInt32BE(6));
  });
  await peer.withKey(rsaSignKey(), async (h) => {
    note('ZGen_2Phase RSA key', (await peer.zgen(h, B, B, next)).readUInt32BE(6));
    note('Commit RSA key', (await peer.commit(h)).readUInt32BE(6));
    note('ECDH_KeyGen RSA key', await peer.rc(command(CC.ECDH_KeyGen, [h], [])));
  });
  await peer.withKey(ecdsaKey(), async (h) => {
    note('Commit ECDSA key', (await peer.commit(h)).readUInt32BE(6));
  });
  await peer.withKey(ecdaaKey(), async (h) => {
    const { s2, P2 } = p2Input();
    note('ZGen_2Phase sign key', (await peer.zgen(h, B, B, next)).readUInt32BE(6));
    note('ECDH_KeyGen ECDAA sign key', await peer.rc(command(CC.ECDH_KeyGen, [h], [])));
    note('Commit s2 without y2', (await peer.commit(h, pointBytes(null), s2)).readUInt32BE(6));
    note('Commit y2 without s2', (await peer.commit(h, pointBytes(null), Buffer.alloc(0), bytes32(P2.y))).readUInt32BE(6));
    note('Commit P2 off the curve', (await peer.commit(h, pointBytes(null), s2, bytes32(mod(P2.y + 1n)))).readUInt32BE(6));
    note('Commit P1 off the curve', (await peer.commit(h, pointBytes(off))).readUInt32BE(6));
    note('Commit P1 empty TPM2B', (await peer.commit(h, u16(0))).readUInt32BE(6));
  });
  note('EC_Ephemeral curve 0x0099', await peer.rc(command(CC.EC_Ephemeral, [], [u16(0x0099)])));
  const ecdaaTemplates: [string, Template][] = [
    ['CreatePrimary ECDAA with NULL hash', eccKey(OBJ.sign | OBJ.noDA, ecdaaScheme(ALG.NULL))],
    ['CreatePrimary ECDAA on a sign + decrypt key', eccKey(OBJ.sign | OBJ.decrypt | OBJ.noDA, ecdaaScheme())],
    ['CreatePrimary restricted ECDAA signing key', eccKey(OBJ.sign | OBJ.restricted | OBJ.noDA, ecdaaScheme())],
    ['CreatePrimary ECDAA on a decrypt key', eccKey(OBJ.decrypt | OBJ.noDA, ecdaaScheme())],
    ['CreatePrimary ECDH on a sign key', eccKey(OBJ.sign | OBJ.noDA, scheme(ALG.ECDH, ALG.SHA256))],
    ['CreatePrimary ECMQV on a decrypt key', eccKey(OBJ.decrypt | OBJ.noDA, scheme(ECMQV, ALG.SHA256))],
    ['CreatePrimary ECDSA on a decrypt key', eccKey(OBJ.decrypt | OBJ.noDA, scheme(ALG.ECDSA, ALG.SHA256))],
  ];
  for (const [name, template] of ecdaaTemplates) {
    const r = await peer.run(createPrimaryCommand(template));
    note(name, r.readUInt32BE(6));
    if (r.readUInt32BE(6) === 0) await peer.run(command(CC.FlushContext, [], [u32(r.readUInt32BE(10))]));
  }
  const cap = await peer.run(command(CC.GetCapability, [], [u32(6), u32(0x100 + 40), u32(1)]));
  note('TPM_PT_SPLIT_MAX', cap.readUInt32BE(23));
  // TPM_CAP_COMMANDS from Commit: TPMA_CC of 0x18b..0x18e (handles, no nv / extensive / flushed).
  const commands = await peer.run(command(CC.GetCapability, [], [u32(2), u32(CC.Commit), u32(4)]));
  for (let i = 0; i < commands.readUInt32BE(15); i++) note(`TPMA_CC #${i}`, commands.readUInt32BE(19 + 4 * i));
  return out;
}

/** Commit's counters and which of K, L, E it returns, for the three shapes of input. */
async function commitShapes(peer: Peer): Promise<string[]> {
  return peer.withKey(ecdaaKey(), async (h) => {
    const { s2, P2 } = p2Input();
    const shapes: string[] = [];
    let first: number | undefined;
    for (const [P1, withP2] of [[pointBytes(null), false], [pointBytes(nodeKey().Q), true], [pointBytes(null), true]] as const) {
      const r = await peer.commit(h, P1, withP2 ? s2 : Buffer.alloc(0), withP2 ? bytes32(P2.y) : Buffer.alloc(0));
      assert.equal(r.readUInt32BE(6), 0);
      const K = parsePoint(r, 14);
      const L = parsePoint(r, K.end);
      const E = parsePoint(r, L.end);
      const counter = r.readUInt16BE(E.end);
      first ??= counter;
      shapes.push(`K ${K.point ? 'set' : 'empty'}, L ${L.point ? 'set' : 'empty'}, E ${E.point ? 'set' : 'empty'}, counter +${counter - first}`);
    }
    return shapes;
  });
}

/**
 * ZGen_2Phase of `inScheme` with a fresh commitment and node's keys as party B; returns Z1, Z2 and
 * what party B computes with `sideB` (undefined: not checked).
 */
async function keyExchange(peer: Peer, inScheme: number, sideB?: (QsA: Pt, QeA: Pt, s: bigint, e: bigint, QeB: Pt) => [Pt, Pt]): Promise<{ rc: number; z: [Pt, Pt]; expected?: [Pt, Pt] }> {
  return peer.withKey(nullSchemeKey(), async (h, QsA) => {
    const [staticB, ephemeralB] = [nodeKey(), nodeKey()];
    const eph = await peer.ephemeral();
    const r = await peer.zgen(h, staticB.Q, ephemeralB.Q, eph.counter, inScheme);
    const rc = r.readUInt32BE(6);
    if (rc !== 0) return { rc, z: [null, null] };
    const z1 = parsePoint(r, 14);
    const z2 = parsePoint(r, z1.end);
    return { rc, z: [z1.point, z2.point], expected: sideB?.(QsA, eph.Q, staticB.d, ephemeralB.d, ephemeralB.Q) };
  });
}

/**
 * Commit, then Sign with its count: whether s G = E + H(k || digest) Q holds, and the response
 * codes of signing again with it, of a NULL inScheme and of VerifySignature on the signature.
 */
async function ecdaaSigning(peer: Peer): Promise<{ verifies: boolean; codes: string[] }> {
  return peer.withKey(ecdaaKey(), async (h, Q) => {
    const c = await peer.commit(h);
    assert.equal(c.readUInt32BE(6), 0);
    const K = parsePoint(c, 14);
    const L = parsePoint(c, K.end);
    const E = parsePoint(c, L.end);
    const counter = c.readUInt16BE(E.end);
    const digest = randomBytes(32);
    const nullTicket = Buffer.concat([u16(0x8024), u32(0x40000007), u16(0)]);
    const inScheme = Buffer.concat([scheme(ECDAA, ALG.SHA256), u16(counter)]);
    const signCmd = (sch: Buffer): Buffer => command(CC.Sign, [h], [tpm2b(digest), sch, nullTicket], [pwAuth()]);
    const r = await peer.run(signCmd(inScheme));
    assert.equal(r.readUInt32BE(6), 0, `Sign: 0x${r.readUInt32BE(6).toString(16)}`);
    const k = r.subarray(20, 20 + r.readUInt16BE(18));
    const sValue = big(r.subarray(22 + k.length, 22 + k.length + r.readUInt16BE(20 + k.length)));
    const signature = r.subarray(14, 14 + r.readUInt32BE(10));
    const codes = [
      `again 0x${(await peer.rc(signCmd(inScheme))).toString(16)}`,
      `NULL inScheme 0x${(await peer.rc(signCmd(scheme(ALG.NULL)))).toString(16)}`,
      `VerifySignature 0x${(await peer.rc(command(CC.VerifySignature, [h], [tpm2b(digest), signature]))).toString(16)}`,
    ];
    return { verifies: ecdaaVerifies(k, sValue, digest, E.point, Q), codes };
  });
}

describeInterop('ECC two-phase: mrtpm and swtpm answer the same raw commands alike', async () => {
  const reference = await startSwtpm();
  const subject = await startMrtpm({ protocol: 'swtpm', logLevel: 'error' });
  const peers = { mrtpm: new Peer(await SwtpmDataClient.connect(subject.port)), swtpm: new Peer(await SwtpmDataClient.connect(reference.port)) };
  for (const peer of Object.values(peers)) {
    const rc = await peer.rc(command(CC.Startup, [], [u16(0)]));
    assert.ok(rc === 0 || rc === 0x100, `Startup: 0x${rc.toString(16)}`);
  }
  return {
    target: peers,
    teardown: async () => {
      for (const peer of Object.values(peers)) peer.client.close();
      await Promise.all([reference.stop(), subject.stop()]);
    },
  };
}, (target) => {
  it('EC_Ephemeral counts from 0 on both', async () => {
    const { mrtpm, swtpm } = target();
    const counters = async (peer: Peer): Promise<number[]> => [(await peer.ephemeral()).counter, (await peer.ephemeral()).counter];
    assert.deepEqual(await counters(mrtpm), [0, 1]);
    assert.deepEqual(await counters(swtpm), [0, 1]);
  });

  it('the error cases of ZGen_2Phase, Commit, EC_Ephemeral and ECDAA key creation, SPLIT_MAX and the commands\' TPMA_CC are the same', async () => {
    const { mrtpm, swtpm } = target();
    const mine = await errorCodes(mrtpm);
    const theirs = await errorCodes(swtpm);
    assert.deepEqual(mine, theirs);
    // And the codes are the ones the reference's source names.
    const expected: Record<string, string> = {
      'ZGen_2Phase key ECDH, inScheme NULL': '0x3d2', 'ZGen_2Phase QsB off the curve': '0x1e7', 'ZGen_2Phase QeB off the curve': '0x2e7',
      'ZGen_2Phase counter never committed': '0x4c4', 'ZGen_2Phase': '0x0', 'ZGen_2Phase counter used twice': '0x4c4',
      'ZGen_2Phase RSA key': '0x19c', 'ZGen_2Phase sign key': '0x182', 'Commit RSA key': '0x19c', 'Commit ECDSA key': '0x192',
      'Commit s2 without y2': '0x3d5', 'Commit P2 off the curve': '0x2e7', 'Commit P1 off the curve': '0x1e7', 'ECDH_KeyGen ECDAA sign key': '0x0',
      'TPM_PT_SPLIT_MAX': '0x80', 'TPMA_CC #0': '0x200018b', 'TPMA_CC #2': '0x200018d', 'TPMA_CC #3': '0x18e',
    };
    for (const [name, rc] of mine) if (name in expected) assert.equal(rc, expected[name], name);
  });

  it('Commit returns K, L, E for the same inputs alike and advances the counter by one each', async () => {
    const { mrtpm, swtpm } = target();
    const mine = await commitShapes(mrtpm);
    assert.deepEqual(mine, await commitShapes(swtpm));
    assert.deepEqual(mine, ['K empty, L empty, E set, counter +0', 'K set, L set, E set, counter +1', 'K set, L set, E empty, counter +2']);
  });

  it('ECDAA Sign: both signatures verify as s G = E + H(k || digest) Q; reuse, NULL inScheme and VerifySignature answer alike', async () => {
    const { mrtpm, swtpm } = target();
    const mine = await ecdaaSigning(mrtpm);
    const theirs = await ecdaaSigning(swtpm);
    assert.ok(theirs.verifies, 'swtpm\'s signature (the check itself)');
    assert.ok(mine.verifies);
    assert.deepEqual(mine.codes, theirs.codes);
    assert.deepEqual(mine.codes, ['again 0x84', 'NULL inScheme 0x2d2', 'VerifySignature 0x2d2']);
  });

  it('ZGen_2Phase ECDH: Z1 = [dsB]QsA and Z2 = [deB]QeA on both', async () => {
    const { mrtpm, swtpm } = target();
    for (const peer of [mrtpm, swtpm]) {
      const { rc, z, expected } = await keyExchange(peer, ALG.ECDH, (QsA, QeA, s, e) => [mul(s, QsA), mul(e, QeA)]);
      assert.equal(rc, 0);
      assert.deepEqual(z, expected);
    }
  });

  it('ZGen_2Phase SM2 succeeds on both with one Z; mrtpm\'s agrees with party B (libtpms 0.9.2\'s agrees with no B side)', async () => {
    const { mrtpm, swtpm } = target();
    const avf = (p: Pt): bigint => (1n << 127n) + (p!.x & ((1n << 127n) - 1n));
    const mine = await keyExchange(mrtpm, SM2, (QsA, QeA, s, e, QeB) => [mul(mod(s + avf(QeB) * e, N), add(QsA, mul(avf(QeA), QeA))), null]);
    assert.equal(mine.rc, 0);
    assert.deepEqual(mine.z, mine.expected);
    const theirs = await keyExchange(swtpm, SM2);
    assert.equal(theirs.rc, 0);
    assert.ok(isOnCurve(theirs.z[0]));
    assert.equal(theirs.z[1], null);
  });
}, 120000);
