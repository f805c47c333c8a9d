/**
 * Signing, verification, RSA encryption and ECDH with real peers: tpm2-tools through the mssim and
 * cmd TCTIs, plain openssl checking what the TPM signed and encrypting what it decrypts, node
 * computing the ECDH secret the TPM must agree with, and the tpm2-openssl provider using mrtpm
 * as its TPM.
 */
import assert from 'node:assert/strict';
import { createECDH, createPublicKey, diffieHellman, createPrivateKey, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describeInterop, type InteropFixture } from '../helpers/interop-suite.js';
import { mrtpmCmdTcti, startMrtpm } from '../helpers/mrtpm.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';
import { openssl } from '../helpers/openssl.js';
import { tpm2, tpm2Fails } from '../helpers/tpm2-tools.js';

interface Target {
  tcti: string;
  dir: string;
}

type Case = [name: string, run: (t: Target) => Promise<void>];

const TPM_ST_VERIFIED = 0x8022;
const TPM_RH_OWNER = 0x40000001;
const KEY_ATTRIBUTES = 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth';

const file = (t: Target, name: string): string => path.join(t.dir, name);
const tool = (t: Target, name: string, args: string[]): Promise<string> => tpm2(t.tcti, name, args, { cwd: t.dir });
const fails = (t: Target, name: string, args: string[]) => tpm2Fails(t.tcti, name, args, { cwd: t.dir });
const ssl = (t: Target, args: string[]): Promise<string> => openssl(args, { cwd: t.dir });

/** A loaded child key of the primary, its context in `<name>.ctx` and its public key in `<name>.pem`. */
async function childKey(t: Target, name: string, alg: string, attributes: string): Promise<void> {
  await tool(t, 'create', ['-C', 'primary.ctx', '-G', alg, '-a', attributes, '-u', `${name}.pub`, '-r', `${name}.priv`, '-Q']);
  await tool(t, 'load', ['-C', 'primary.ctx', '-u', `${name}.pub`, '-r', `${name}.priv`, '-c', `${name}.ctx`, '-Q']);
  await tool(t, 'readpublic', ['-c', `${name}.ctx`, '-o', `${name}.pem`, '-f', 'pem', '-Q']);
}

/**
 * Signs a message with `scheme`, verifies it with the TPM (ticket of the owner hierarchy) and with
 * openssl, and checks that both refuse it for another message.
 */
async function checkSignature(t: Target, key: string, scheme: string, sigopts: string[]): Promise<void> {
  const message = randomBytes(100);
  await writeFile(file(t, 'message'), message);
  await writeFile(file(t, 'other'), Buffer.concat([message, Buffer.of(1)]));
  await tool(t, 'sign', ['-c', `${key}.ctx`, '-g', 'sha256', '-s', scheme, '-o', `${scheme}.sig`, 'message']);
  await tool(t, 'verifysignature', ['-c', `${key}.ctx`, '-g', 'sha256', '-m', 'message', '-s', `${scheme}.sig`, '-t', `${scheme}.tk`]);
  const ticket = await readFile(file(t, `${scheme}.tk`));
  assert.equal(ticket.readUInt16BE(0), TPM_ST_VERIFIED);
  assert.equal(ticket.readUInt32BE(2), TPM_RH_OWNER);
  assert.equal(ticket.readUInt16BE(6), 64, 'the ticket is an HMAC with the hierarchy proof (SHA-512)');
  const refused = await fails(t, 'verifysignature', ['-c', `${key}.ctx`, '-g', 'sha256', '-m', 'other', '-s', `${scheme}.sig`]);
  assert.match(refused.stderr, /0x2db\b|0x2DB\b/i, 'TPM_RC_SIGNATURE, parameter 2');

  await tool(t, 'sign', ['-c', `${key}.ctx`, '-g', 'sha256', '-s', scheme, '-f', 'plain', '-o', `${scheme}.plain`, 'message']);
  const verify = ['dgst', '-sha256', '-verify', `${key}.pem`, ...sigopts, '-signature', `${scheme}.plain`];
  assert.match(await ssl(t, [...verify, 'message']), /Verified OK/);
  await assert.rejects(ssl(t, [...verify, 'other']), /Verification failure/);
}

/** TPM2B_ECC_POINT as tpm2_ecdhzgen reads it. */
function eccPointFile(x: Buffer, y: Buffer): Buffer {
  const point = Buffer.concat([Buffer.from([x.length >> 8, x.length & 0xff]), x, Buffer.from([y.length >> 8, y.length & 0xff]), y]);
  return Buffer.concat([Buffer.from([point.length >> 8, point.length & 0xff]), point]);
}

/** The x coordinate of a TPM2B_ECC_POINT file. */
function eccPointX(bytes: Buffer): Buffer {
  const size = bytes.readUInt16BE(2);
  return bytes.subarray(4, 4 + size);
}

const cases: Case[] = [
  ['tpm2_startup -c, tpm2_createprimary', async (t) => {
    await tool(t, 'startup', ['-c']);
    await tool(t, 'createprimary', ['-C', 'o', '-c', 'primary.ctx', '-Q']);
  }],
  ['RSA signing key: tpm2_sign rsassa, tpm2_verifysignature, openssl dgst -verify', async (t) => {
    await childKey(t, 'rsa', 'rsa2048', `sign|${KEY_ATTRIBUTES}`);
    await checkSignature(t, 'rsa', 'rsassa', []);
  }],
  ['RSA signing key: rsapss, verified by the TPM and by openssl (-sigopt rsa_padding_mode:pss)', async (t) => {
    await checkSignature(t, 'rsa', 'rsapss', ['-sigopt', 'rsa_padding_mode:pss']);
  }],
  ['ECC signing key: ecdsa, verified by the TPM and by openssl', async (t) => {
    await childKey(t, 'ecc', 'ecc256', `sign|${KEY_ATTRIBUTES}`);
    await checkSignature(t, 'ecc', 'ecdsa', []);
  }],
  ['tpm2_sign with a decrypt-only key fails with TPM_RC_KEY (handle 1)', async (t) => {
    await childKey(t, 'rsaenc', 'rsa2048:null', `decrypt|${KEY_ATTRIBUTES}`);
    await writeFile(file(t, 'message'), randomBytes(10));
    const refused = await fails(t, 'sign', ['-c', 'rsaenc.ctx', '-g', 'sha256', '-s', 'rsassa', '-o', 'x.sig', 'message']);
    assert.match(refused.stderr, /0x19c\b/i);
  }],
  ['tpm2_rsaencrypt / tpm2_rsadecrypt round trip (oaep, rsaes)', async (t) => {
    const message = randomBytes(40);
    await writeFile(file(t, 'plain'), message);
    for (const scheme of ['oaep', 'rsaes']) {
      await tool(t, 'rsaencrypt', ['-c', 'rsaenc.ctx', '-s', scheme, '-o', `${scheme}.ct`, 'plain']);
      const cipher = await readFile(file(t, `${scheme}.ct`));
      assert.equal(cipher.length, 256);
      assert.notDeepEqual(cipher.subarray(0, 40), message);
      await tool(t, 'rsadecrypt', ['-c', 'rsaenc.ctx', '-s', scheme, '-o', `${scheme}.pt`, `${scheme}.ct`]);
      assert.deepEqual(await readFile(file(t, `${scheme}.pt`)), message, scheme);
    }
  }],
  ['openssl encrypts with the exported public key (OAEP-SHA256, PKCS#1 v1.5), tpm2_rsadecrypt decrypts', async (t) => {
    const message = randomBytes(33);
    await writeFile(file(t, 'plain'), message);
    const padding: Record<string, string[]> = {
      oaep: ['-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256'],
      rsaes: ['-pkeyopt', 'rsa_padding_mode:pkcs1'],
    };
    for (const [scheme, opts] of Object.entries(padding)) {
      await ssl(t, ['pkeyutl', '-encrypt', '-pubin', '-inkey', 'rsaenc.pem', ...opts, '-in', 'plain', '-out', `ossl-${scheme}.ct`]);
      await tool(t, 'rsadecrypt', ['-c', 'rsaenc.ctx', '-s', scheme, '-o', `ossl-${scheme}.pt`, `ossl-${scheme}.ct`]);
      assert.deepEqual(await readFile(file(t, `ossl-${scheme}.pt`)), message, scheme);
    }
    // A cipher text under the wrong padding does not decrypt.
    await fails(t, 'rsadecrypt', ['-c', 'rsaenc.ctx', '-s', 'oaep', '-o', 'wrong.pt', 'ossl-rsaes.ct']);
  }],
  ['tpm2_ecdhkeygen and tpm2_ecdhzgen agree, and agree with node', async (t) => {
    await childKey(t, 'ecdh', 'ecc256:ecdh', `decrypt|${KEY_ATTRIBUTES}`);
    await tool(t, 'ecdhkeygen', ['-c', 'ecdh.ctx', '-u', 'ephemeral.pub', '-o', 'keygen.z']);
    await tool(t, 'ecdhzgen', ['-c', 'ecdh.ctx', '-u', 'ephemeral.pub', '-o', 'zgen.z']);
    assert.deepEqual(await readFile(file(t, 'zgen.z')), await readFile(file(t, 'keygen.z')), 'd_key * P_eph = d_eph * Q_key');

    const mine = createECDH('prime256v1');
    const pub = mine.generateKeys();
    await writeFile(file(t, 'node.pub'), eccPointFile(pub.subarray(1, 33), pub.subarray(33)));
    await tool(t, 'ecdhzgen', ['-c', 'ecdh.ctx', '-u', 'node.pub', '-o', 'node.z']);
    const keyPem = await readFile(file(t, 'ecdh.pem'), 'utf8');
    const myKey = createPrivateKey({
      key: { kty: 'EC', crv: 'P-256', d: mine.getPrivateKey().toString('base64url'), x: pub.subarray(1, 33).toString('base64url'), y: pub.subarray(33).toString('base64url') },
      format: 'jwk',
    });
    const z = diffieHellman({ privateKey: myKey, publicKey: createPublicKey(keyPem) });
    assert.deepEqual(eccPointX(await readFile(file(t, 'node.z'))), z);

    await writeFile(file(t, 'bad.pub'), eccPointFile(pub.subarray(1, 33), Buffer.alloc(32, 1)));
    const refused = await fails(t, 'ecdhzgen', ['-c', 'ecdh.ctx', '-u', 'bad.pub', '-o', 'bad.z']);
    assert.match(refused.stderr, /0x1e7\b/i, 'TPM_RC_ECC_POINT, parameter 1');
  }],
  ['tpm2-openssl provider: RSA key generated in the TPM signs, plain openssl verifies', async (t) => {
    await providerSignature(t, ['-algorithm', 'RSA', '-pkeyopt', 'bits:2048'], 'rsa');
  }],
  ['tpm2-openssl provider: EC P-256 key generated in the TPM signs, plain openssl verifies (its TPM2_ECC_Parameters query is TPM_RC_COMMAND_CODE; it carries on)', async (t) => {
    await providerSignature(t, ['-algorithm', 'EC', '-pkeyopt', 'group:P-256'], 'ec');
  }],
];

/** genpkey in the TPM, the public key exported, a SHA-256 signature by the TPM, checked by openssl alone. */
async function providerSignature(t: Target, genpkey: string[], name: string): Promise<void> {
  const env = { TPM2OPENSSL_TCTI: t.tcti };
  const provider = ['-provider', 'tpm2', '-provider', 'base'];
  const message = randomBytes(64);
  await writeFile(file(t, `${name}.msg`), message);
  await openssl(['genpkey', ...provider, ...genpkey, '-out', `${name}-tpm.pem`], { cwd: t.dir, env });
  assert.match(await readFile(file(t, `${name}-tpm.pem`), 'utf8'), /BEGIN TSS2 PRIVATE KEY/);
  await openssl(['pkey', ...provider, '-in', `${name}-tpm.pem`, '-pubout', '-out', `${name}-pub.pem`], { cwd: t.dir, env });
  await openssl(['pkeyutl', ...provider, '-sign', '-inkey', `${name}-tpm.pem`, '-rawin', '-digest', 'sha256', '-in', `${name}.msg`, '-out', `${name}.sig`], { cwd: t.dir, env });
  assert.match(await ssl(t, ['dgst', '-sha256', '-verify', `${name}-pub.pem`, '-signature', `${name}.sig`, `${name}.msg`]), /Verified OK/);
}

function describeWith(label: string, setup: () => Promise<InteropFixture<Target>>): void {
  describeInterop(`keys: sign, verify, encrypt, ECDH via ${label}`, setup, (target) => {
    for (const [name, run] of cases) it(name, () => run(target()));
  }, 120000);
}

describeWith('mssim TCTI (mrtpm serve)', async () => {
  const server = await startMrtpm({ protocol: 'mssim' });
  const dir = await makeTempDir('mrtpm-keys');
  return { target: { tcti: server.tcti, dir }, teardown: async () => { await server.stop(); await removeDir(dir); } };
});

describeWith('cmd TCTI (mrtpm stdio, one process per tool)', async () => {
  const stateDir = await makeTempDir('mrtpm-keys-state');
  const dir = await makeTempDir('mrtpm-keys');
  return { target: { tcti: mrtpmCmdTcti(stateDir), dir }, teardown: async () => { await removeDir(dir); await removeDir(stateDir); } };
});
