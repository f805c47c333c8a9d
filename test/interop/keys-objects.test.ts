/**
 * Keys and objects through tpm2-tools 5.4, openssl and clevis against mrtpm, via the mssim TCTI
 * (`serve`) and the cmd TCTI (`stdio`, one process per tool, so every object and session travels
 * through context files and the state directory): sealing and unsealing, ObjectChangeAuth,
 * EncryptDecrypt against `openssl enc`, HMAC against node's HMAC of an imported key, import of
 * PEM keys, LoadExternal, Duplicate under a PolicyCommandCode policy then Import, and clevis'
 * tpm2 pin bound to a PCR. Expected values come from the peers, never from mrtpm; duplicates go
 * from mrtpm to swtpm and back, so each side's wrapping is checked by the other's unwrapping.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { requireInteropTools } from '../helpers/interop-prereqs.js';
import { MRTPM_TCTIS, describeInterop, type ToolTarget } from '../helpers/interop-suite.js';
import { startMrtpm } from '../helpers/mrtpm.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';
import { startSwtpm, type SwtpmServer } from '../helpers/swtpm.js';
import type { MrtpmServer } from '../helpers/mrtpm.js';
import { tpm2, tpm2Fails, type ToolResult } from '../helpers/tpm2-tools.js';

type Target = ToolTarget;

/** TPM_RC_AUTH_FAIL on session 1, TPM_RC_MODE on parameter 3, TPM_RC_AUTH_UNAVAILABLE, TPM_RC_POLICY_FAIL on session 1. */
const RC = { authFail: '0x98e', modeParam3: '0x3c9', authUnavailable: '0x12f', policyFailSession1: '0x99d' } as const;

const file = (t: Target, name: string): string => path.join(t.dir, name);
const run = (t: Target, tool: string, args: string[]): Promise<string> => tpm2(t.tcti, tool, args, { cwd: t.dir });
const fails = (t: Target, tool: string, args: string[]): Promise<ToolResult> => tpm2Fails(t.tcti, tool, args, { cwd: t.dir });

async function write(t: Target, name: string, data: Uint8Array | string): Promise<string> {
  await writeFile(file(t, name), data);
  return name;
}

/** A fresh primary storage key in `ctx` (the transient objects of earlier cases flushed first). */
async function primary(t: Target, ctx: string, alg = 'ecc'): Promise<void> {
  await run(t, 'flushcontext', ['-t']);
  await run(t, 'createprimary', ['-C', 'o', '-G', alg, '-c', ctx, '-Q']);
}

async function createAndLoad(t: Target, parent: string, stem: string, args: string[]): Promise<string> {
  await run(t, 'create', ['-C', parent, '-u', `${stem}.pub`, '-r', `${stem}.priv`, '-Q', ...args]);
  await run(t, 'flushcontext', ['-t']);
  await run(t, 'load', ['-C', parent, '-u', `${stem}.pub`, '-r', `${stem}.priv`, '-c', `${stem}.ctx`, '-Q']);
  return `${stem}.ctx`;
}

/** The key's public area as PEM, through tpm2_readpublic. */
async function publicPem(t: Target, ctx: string): Promise<string> {
  await run(t, 'readpublic', ['-c', ctx, '-f', 'pem', '-o', `${ctx}.pem`, '-Q']);
  return readFile(file(t, `${ctx}.pem`), 'utf8');
}

const samePublicKey = (a: string, b: string): boolean =>
  createPublicKey(a).export({ format: 'der', type: 'spki' }).equals(createPublicKey(b).export({ format: 'der', type: 'spki' }));

async function nameOf(t: Target, ctx: string): Promise<string> {
  const out = await run(t, 'readpublic', ['-c', ctx]);
  const m = /^name:\s*([0-9a-f]+)/m.exec(out);
  assert.ok(m, `readpublic printed no name:\n${out}`);
  return m[1]!;
}

/** `openssl enc` of `input` with a raw key and IV, no padding: the independent expectation. */
function opensslEnc(cipher: string, key: Buffer, iv: Buffer | undefined, input: Buffer): Promise<Buffer> {
  const args = ['enc', `-${cipher}`, '-nopad', '-K', key.toString('hex'), ...(iv ? ['-iv', iv.toString('hex')] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`openssl ${args.join(' ')}: ${err}`))));
    child.stdin.end(input);
  });
}

/** clevis with the TCTI in its environment; input on stdin. */
function clevis(t: Target, args: string[], input: Buffer): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('clevis', args, { cwd: t.dir, env: { ...process.env, TPM2TOOLS_TCTI: t.tcti }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
    child.stdin.end(input);
  });
}

/** A duplicable key's policy: PolicyCommandCode(Duplicate), computed by a trial session. */
async function duplicationPolicy(t: Target): Promise<string> {
  await run(t, 'startauthsession', ['-S', 'trial.dat']);
  await run(t, 'policycommandcode', ['-S', 'trial.dat', '-L', 'dup.policy', 'TPM2_CC_Duplicate']);
  await run(t, 'flushcontext', ['trial.dat']);
  return 'dup.policy';
}

/**
 * Makes a duplicable RSA key in `from`, duplicates it with an AES inner wrap (the caller's key,
 * or one the TPM makes) to a new `parentAlg` parent of `to` known to `from` by its public area
 * only, imports it into `to` and checks that the loaded key has the original Name. With
 * 'null-check' it only tries Duplicate with a password and returns the failure.
 */
async function duplicateAcross(from: Target, to: Target, parentAlg: string, innerKey: 'caller' | 'tpm' | 'null-check'): Promise<ToolResult> {
  await run(to, 'flushcontext', ['-t']);
  await run(to, 'createprimary', ['-C', 'o', '-G', parentAlg, '-c', 'to-np.ctx', '-Q']);
  await run(to, 'readpublic', ['-c', 'to-np.ctx', '-o', 'np.pub', '-Q']);
  await primary(from, 'from-prim.ctx', 'ecc');
  await createAndLoad(from, 'from-prim.ctx', 'dk', ['-G', 'rsa', '-L', await duplicationPolicy(from), '-a', 'sensitivedataorigin|userwithauth|decrypt|sign']);
  const name = await nameOf(from, 'dk.ctx');
  // Every tool loads the contexts it names again: transient slots (three in swtpm) are flushed before each.
  await run(from, 'flushcontext', ['-t']);
  await run(from, 'loadexternal', ['-C', 'o', '-u', 'np.pub', '-c', 'from-np.ctx', '-Q']);
  if (innerKey === 'null-check') return fails(from, 'duplicate', ['-C', 'from-np.ctx', '-c', 'dk.ctx', '-G', 'null', '-r', 'x.dpriv', '-s', 'x.seed']);
  await write(from, 'inner.key', randomBytes(16));
  const keyArgs = innerKey === 'caller' ? ['-i', 'inner.key'] : ['-o', 'inner.key'];
  await run(from, 'startauthsession', ['--policy-session', '-S', 'dup.dat']);
  await run(from, 'policycommandcode', ['-S', 'dup.dat', 'TPM2_CC_Duplicate']);
  await run(from, 'duplicate', ['-C', 'from-np.ctx', '-c', 'dk.ctx', '-G', 'aes', ...keyArgs, '-p', 'session:dup.dat', '-r', 'dk.dpriv', '-s', 'dk.seed']);
  await run(from, 'flushcontext', ['dup.dat']);
  await run(to, 'flushcontext', ['-t']);
  await run(to, 'import', ['-C', 'to-np.ctx', '-G', 'aes', '-k', 'inner.key', '-u', 'dk.pub', '-i', 'dk.dpriv', '-s', 'dk.seed', '-r', 'dk-imported.priv']);
  await run(to, 'flushcontext', ['-t']);
  await run(to, 'load', ['-C', 'to-np.ctx', '-u', 'dk.pub', '-r', 'dk-imported.priv', '-c', 'dk-imported.ctx', '-Q']);
  assert.equal(await nameOf(to, 'dk-imported.ctx'), name, `${parentAlg} parent, ${innerKey}'s inner key`);
  return { code: 0, stdout: '', stderr: '' };
}

type Case = [name: string, run: (t: Target) => Promise<void>];

const cases: Case[] = [
  ['tpm2_startup', async (t) => void (await run(t, 'startup', ['-c']))],
  ['seals with tpm2_create -i, unseals with the password, and a wrong password is TPM_RC_AUTH_FAIL', async (t) => {
    await primary(t, 'prim.ctx');
    const secret = randomBytes(40);
    await write(t, 'secret.bin', secret);
    const seal = await createAndLoad(t, 'prim.ctx', 'seal', ['-i', 'secret.bin', '-p', 'sealpw']);
    await run(t, 'unseal', ['-c', seal, '-p', 'sealpw', '-o', 'unsealed.bin']);
    assert.deepEqual(await readFile(file(t, 'unsealed.bin')), secret);
    const wrong = await fails(t, 'unseal', ['-c', seal, '-p', 'wrong']);
    assert.match(wrong.stderr, new RegExp(RC.authFail, 'i'));
  }],
  ['tpm2_changeauth gives a new private area: loaded, it unseals with the new password only', async (t) => {
    await run(t, 'changeauth', ['-c', 'seal.ctx', '-C', 'prim.ctx', '-p', 'sealpw', '-r', 'seal-new.priv', 'newpass']);
    await run(t, 'load', ['-C', 'prim.ctx', '-u', 'seal.pub', '-r', 'seal-new.priv', '-c', 'seal-new.ctx', '-Q']);
    await run(t, 'unseal', ['-c', 'seal-new.ctx', '-p', 'newpass', '-o', 'unsealed-new.bin']);
    assert.deepEqual(await readFile(file(t, 'unsealed-new.bin')), await readFile(file(t, 'secret.bin')));
    assert.match((await fails(t, 'unseal', ['-c', 'seal-new.ctx', '-p', 'sealpw'])).stderr, new RegExp(RC.authFail, 'i'));
    // Two dictionary-attack failures so far (maxTries is 3): start the cases below from none.
    await run(t, 'dictionarylockout', ['--clear-lockout']);
  }],
  ['tpm2_encryptdecrypt round-trips with generated AES keys; a mode other than the key\'s is TPM_RC_MODE', async (t) => {
    await primary(t, 'prim.ctx');
    const plain = randomBytes(2000);
    await write(t, 'plain.bin', plain);
    for (const [alg, mode] of [['aes128cfb', 'cfb'], ['aes256cbc', 'cbc'], ['aes192ctr', 'ctr']] as const) {
      const key = await createAndLoad(t, 'prim.ctx', alg, ['-G', alg]);
      await write(t, 'iv.bin', randomBytes(16));
      await run(t, 'encryptdecrypt', ['-c', key, '-t', 'iv.bin', '-o', `${alg}.enc`, 'plain.bin']);
      assert.notDeepEqual(await readFile(file(t, `${alg}.enc`)), plain);
      await run(t, 'encryptdecrypt', ['-d', '-c', key, '-t', 'iv.bin', '-o', `${alg}.dec`, `${alg}.enc`]);
      assert.deepEqual(await readFile(file(t, `${alg}.dec`)), plain, `${alg} round trip`);
      const other = mode === 'cfb' ? 'ofb' : 'cfb';
      assert.match((await fails(t, 'encryptdecrypt', ['-c', key, '-G', other, '-t', 'iv.bin', '-o', 'x.enc', 'plain.bin'])).stderr, new RegExp(RC.modeParam3, 'i'));
      // Transient slots are few: start the next key from a fresh (identical) primary.
      await primary(t, 'prim.ctx');
    }
  }],
  ['tpm2_encryptdecrypt with an imported AES key equals openssl enc in every mode, across 1024-byte chunks', async (t) => {
    await primary(t, 'prim.ctx');
    const key = randomBytes(16);
    const iv = randomBytes(16);
    await write(t, 'aes.key', key);
    await write(t, 'iv.bin', iv);
    await run(t, 'import', ['-C', 'prim.ctx', '-G', 'aes', '-i', 'aes.key', '-u', 'aes.pub', '-r', 'aes.priv', '-Q']);
    await run(t, 'load', ['-C', 'prim.ctx', '-u', 'aes.pub', '-r', 'aes.priv', '-c', 'aes.ctx', '-Q']);
    const plain = randomBytes(3008);
    await write(t, 'plain.bin', plain);
    for (const mode of ['cfb', 'ofb', 'ctr', 'cbc', 'ecb']) {
      await run(t, 'encryptdecrypt', ['-c', 'aes.ctx', '-G', mode, '-t', 'iv.bin', '-o', `${mode}.enc`, 'plain.bin']);
      const expected = await opensslEnc(`aes-128-${mode}`, key, mode === 'ecb' ? undefined : iv, plain);
      assert.deepEqual(await readFile(file(t, `${mode}.enc`)), expected, `aes-128-${mode}`);
    }
  }],
  ['tpm2_hmac of a generated key works; of an imported key equals node\'s HMAC (one shot and sequence)', async (t) => {
    await primary(t, 'prim.ctx');
    const generated = await createAndLoad(t, 'prim.ctx', 'hgen', ['-G', 'hmac']);
    await write(t, 'msg.bin', 'hello world');
    assert.equal((await run(t, 'hmac', ['-c', generated, '--hex', 'msg.bin'])).trim().length, 64);
    const key = randomBytes(32);
    await write(t, 'hmac.key', key);
    await run(t, 'import', ['-C', 'prim.ctx', '-G', 'hmac', '-i', 'hmac.key', '-u', 'hk.pub', '-r', 'hk.priv', '-Q']);
    await run(t, 'load', ['-C', 'prim.ctx', '-u', 'hk.pub', '-r', 'hk.priv', '-c', 'hk.ctx', '-Q']);
    // Over 1024 bytes tpm2_hmac uses HMAC_Start / SequenceUpdate / SequenceComplete.
    for (const size of [11, 3000]) {
      const data = randomBytes(size);
      await write(t, 'data.bin', data);
      await run(t, 'hmac', ['-c', 'hk.ctx', '-o', 'out.hmac', 'data.bin']);
      assert.deepEqual(await readFile(file(t, 'out.hmac')), createHmac('sha256', key).update(data).digest(), `HMAC of ${size} bytes`);
    }
  }],
  ['tpm2_import of RSA and ECC PEM keys: loaded, their public areas are the PEMs\' keys', async (t) => {
    await primary(t, 'prim.ctx');
    const keys = {
      rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
      ecc: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    };
    for (const [alg, pair] of Object.entries(keys)) {
      await write(t, `${alg}.pem`, pair.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
      await run(t, 'import', ['-C', 'prim.ctx', '-G', alg, '-i', `${alg}.pem`, '-u', `${alg}-k.pub`, '-r', `${alg}-k.priv`, '-Q']);
      await run(t, 'load', ['-C', 'prim.ctx', '-u', `${alg}-k.pub`, '-r', `${alg}-k.priv`, '-c', `${alg}-k.ctx`, '-Q']);
      const pem = pair.publicKey.export({ format: 'pem', type: 'spki' }) as string;
      assert.ok(samePublicKey(await publicPem(t, `${alg}-k.ctx`), pem), `${alg} public key`);
    }
  }],
  ['tpm2_loadexternal of a public PEM and of a private PEM (NULL hierarchy)', async (t) => {
    await run(t, 'flushcontext', ['-t']);
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pub = pair.publicKey.export({ format: 'pem', type: 'spki' }) as string;
    await write(t, 'ext-pub.pem', pub);
    await write(t, 'ext-priv.pem', pair.privateKey.export({ format: 'pem', type: 'pkcs1' }) as string);
    await run(t, 'loadexternal', ['-C', 'o', '-G', 'rsa', '-u', 'ext-pub.pem', '-c', 'ext.ctx']);
    assert.ok(samePublicKey(await publicPem(t, 'ext.ctx'), pub));
    await run(t, 'loadexternal', ['-G', 'rsa', '-r', 'ext-priv.pem', '-c', 'ext2.ctx']);
    assert.ok(samePublicKey(await publicPem(t, 'ext2.ctx'), pub));
  }],
  ['tpm2_duplicate under a PolicyCommandCode(Duplicate) policy, then tpm2_import under the new parent', async (t) => {
    await run(t, 'flushcontext', ['-t']);
    assert.match((await duplicateAcross(t, t, 'rsa', 'null-check')).stderr, new RegExp(RC.authUnavailable, 'i'), 'DUP role needs a policy');
    for (const parentAlg of ['rsa', 'ecc']) {
      for (const innerKey of ['caller', 'tpm'] as const) await duplicateAcross(t, t, parentAlg, innerKey);
    }
  }],
  ['objects sealed to tpm2_policypassword / tpm2_policyauthvalue unseal through a policy session with the password only', async (t) => {
    await primary(t, 'prim.ctx');
    for (const policy of ['policypassword', 'policyauthvalue']) {
      await run(t, 'startauthsession', ['-S', 'trial.dat']);
      await run(t, policy, ['-S', 'trial.dat', '-L', `${policy}.dat`]);
      await run(t, 'flushcontext', ['trial.dat']);
      await write(t, 'pw-secret.bin', `sealed under ${policy}`);
      // Without userwithauth only the policy can authorize the object's use.
      await createAndLoad(t, 'prim.ctx', policy, ['-i', 'pw-secret.bin', '-p', 'pw', '-L', `${policy}.dat`, '-a', 'fixedtpm|fixedparent']);
      for (const [password, ok] of [['pw', true], ['nope', false]] as const) {
        await run(t, 'startauthsession', ['--policy-session', '-S', 'use.dat']);
        await run(t, policy, ['-S', 'use.dat']);
        const args = ['-c', `${policy}.ctx`, '-p', `session:use.dat+${password}`];
        if (ok) assert.equal(await run(t, 'unseal', args), `sealed under ${policy}`);
        else assert.match((await fails(t, 'unseal', args)).stderr, new RegExp(RC.authFail, 'i'), `${policy}, wrong password`);
        await run(t, 'flushcontext', ['use.dat']);
      }
    }
    await run(t, 'dictionarylockout', ['--clear-lockout']);
  }],
  ['clevis tpm2 pin bound to PCR 23: decrypts, and no longer after tpm2_pcrextend', async (t) => {
    await run(t, 'flushcontext', ['-t']);
    const secret = randomBytes(24);
    const enc = await clevis(t, ['encrypt', 'tpm2', '{"pcr_bank":"sha256","pcr_ids":"23"}'], secret);
    assert.equal(enc.code, 0, `clevis encrypt: ${enc.stderr}`);
    const dec = await clevis(t, ['decrypt'], enc.stdout);
    assert.equal(dec.code, 0, `clevis decrypt: ${dec.stderr}`);
    assert.deepEqual(dec.stdout, secret);
    await run(t, 'pcrextend', [`23:sha256=${'ab'.repeat(32)}`]);
    const after = await clevis(t, ['decrypt'], enc.stdout);
    assert.notEqual(after.code, 0);
    assert.match(after.stderr, new RegExp(RC.policyFailSession1, 'i'));
  }],
];

for (const [label, target] of MRTPM_TCTIS) {
  describeInterop(`keys and objects via ${label}`, () => target('mrtpm-objects'), (t) => {
    for (const [name, body] of cases) it(name, () => body(t()));
  }, 120000);
}

describe('duplication between mrtpm and swtpm: each imports what the other duplicated', function () {
  this.timeout(120000);
  let servers: [MrtpmServer, SwtpmServer] | undefined;
  let dir = '';
  before(async function () {
    await requireInteropTools(this);
    dir = await makeTempDir('mrtpm-objects-dup');
    servers = [await startMrtpm({ protocol: 'mssim' }), await startSwtpm()];
    await tpm2(servers[0].tcti, 'startup', ['-c']);
  });
  after(async () => {
    for (const s of servers ?? []) await s.stop();
    if (dir) await removeDir(dir);
  });
  for (const [from, to] of [[0, 1], [1, 0]] as const) {
    const names = ['mrtpm', 'swtpm'];
    for (const parentAlg of ['rsa', 'ecc']) {
      it(`${names[from]} duplicates to a ${parentAlg} parent of ${names[to]}, which imports it`, async () => {
        assert.ok(servers, 'setup failed');
        await duplicateAcross({ tcti: servers[from].tcti, dir }, { tcti: servers[to].tcti, dir }, parentAlg, 'tpm');
      });
    }
  }
});
