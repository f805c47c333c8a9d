/**
 * Attestation and credentials with real tpm2-tools through the mssim and cmd TCTIs: quotes that
 * tpm2_checkquote and openssl accept (and refuse when tampered), certify and gettime signatures
 * checked by openssl, and the keylime-style enrolment: tpm2_createek, tpm2_createak (PolicySecret
 * on the EK), tpm2_makecredential -T none, tpm2_activatecredential.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MRTPM_TCTIS, describeInterop, type ToolTarget } from '../helpers/interop-suite.js';
import { openssl } from '../helpers/openssl.js';
import { tpm2, tpm2Fails } from '../helpers/tpm2-tools.js';

type Target = ToolTarget;

type Case = [name: string, run: (t: Target) => Promise<void>];

const TPM_GENERATED_VALUE = 0xff544347;
const TPM_ST_ATTEST_QUOTE = 0x8018;
const AK_ATTRIBUTES = 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign';

const file = (t: Target, name: string): string => path.join(t.dir, name);
const tool = (t: Target, name: string, args: string[]): Promise<string> => tpm2(t.tcti, name, args, { cwd: t.dir });
const ssl = (t: Target, args: string[]): Promise<string> => openssl(args, { cwd: t.dir });

/** A restricted signing key (an AK as tpm2_createak makes one) in `<name>.ctx`, its public key in `<name>.pem`. */
async function attestationKey(t: Target, name: string, hierarchy: string, alg: string): Promise<void> {
  await tool(t, 'createprimary', ['-C', hierarchy, '-G', alg, '-a', AK_ATTRIBUTES, '-c', `${name}.ctx`, '-Q']);
  await tool(t, 'readpublic', ['-c', `${name}.ctx`, '-o', `${name}.pem`, '-f', 'pem', '-Q']);
}

/** Quotes PCRs 0, 1, 16 with a fresh nonce; tpm2_checkquote and openssl accept it, and refuse a changed one. */
async function checkQuote(t: Target, key: string): Promise<void> {
  const nonce = randomBytes(20).toString('hex');
  await tool(t, 'pcrextend', ['16:sha256=' + randomBytes(32).toString('hex')]);
  await tool(t, 'quote', ['-c', `${key}.ctx`, '-l', 'sha256:0,1,16', '-q', nonce, '-m', 'quote.msg', '-s', 'quote.sig', '-o', 'quote.pcrs', '-g', 'sha256']);
  const message = await readFile(file(t, 'quote.msg'));
  assert.equal(message.readUInt32BE(0), TPM_GENERATED_VALUE, 'magic');
  assert.equal(message.readUInt16BE(4), TPM_ST_ATTEST_QUOTE, 'type');
  assert.ok(message.includes(Buffer.from(nonce, 'hex')), 'extraData carries the nonce');
  await tool(t, 'checkquote', ['-u', `${key}.pem`, '-m', 'quote.msg', '-s', 'quote.sig', '-f', 'quote.pcrs', '-g', 'sha256', '-q', nonce]);
  const tampered = Buffer.from(message);
  tampered[tampered.length - 1]! ^= 1;
  await writeFile(file(t, 'tampered.msg'), tampered);
  const refused = await tpm2Fails(t.tcti, 'checkquote', ['-u', `${key}.pem`, '-m', 'tampered.msg', '-s', 'quote.sig', '-f', 'quote.pcrs', '-g', 'sha256', '-q', nonce], { cwd: t.dir });
  assert.ok(refused.code !== 0);
  // The same quote again, with a plain signature openssl checks on the TPMS_ATTEST bytes.
  await tool(t, 'quote', ['-c', `${key}.ctx`, '-l', 'sha256:0,1,16', '-q', nonce, '-m', 'quote2.msg', '-s', 'quote2.sig', '-f', 'plain', '-g', 'sha256']);
  assert.match(await ssl(t, ['dgst', '-sha256', '-verify', `${key}.pem`, '-signature', 'quote2.sig', 'quote2.msg']), /Verified OK/);
}

const cases: Case[] = [
  ['tpm2_startup -c', async (t) => void await tool(t, 'startup', ['-c'])],
  ['tpm2_quote + tpm2_checkquote with an RSA AK (endorsement hierarchy)', async (t) => {
    await attestationKey(t, 'rsa-ak', 'e', 'rsa:rsassa-sha256:null');
    await checkQuote(t, 'rsa-ak');
  }],
  ['tpm2_quote + tpm2_checkquote with an ECC AK (owner hierarchy)', async (t) => {
    await attestationKey(t, 'ecc-ak', 'o', 'ecc:ecdsa-sha256:null');
    await checkQuote(t, 'ecc-ak');
  }],
  ['tpm2_certify: the AK certifies a key; openssl verifies the signature', async (t) => {
    await tool(t, 'createprimary', ['-C', 'o', '-c', 'subject.ctx', '-Q']);
    await tool(t, 'certify', ['-c', 'subject.ctx', '-C', 'rsa-ak.ctx', '-g', 'sha256', '-o', 'certify.msg', '-s', 'certify.sig', '-f', 'plain']);
    const message = await readFile(file(t, 'certify.msg'));
    assert.equal(message.readUInt32BE(0), TPM_GENERATED_VALUE);
    assert.match(await ssl(t, ['dgst', '-sha256', '-verify', 'rsa-ak.pem', '-signature', 'certify.sig', 'certify.msg']), /Verified OK/);
  }],
  ['tpm2_gettime: a signed TPMS_TIME_ATTEST_INFO openssl verifies', async (t) => {
    await tool(t, 'gettime', ['-c', 'ecc-ak.ctx', '-q', 'aabbcc', '-o', 'time.sig', '--attestation', 'time.msg', '-f', 'plain']);
    assert.match(await ssl(t, ['dgst', '-sha256', '-verify', 'ecc-ak.pem', '-signature', 'time.sig', 'time.msg']), /Verified OK/);
  }],
  ['enrolment: tpm2_createek, tpm2_createak, tpm2_makecredential -T none, tpm2_activatecredential recovers the secret', async (t) => {
    await tool(t, 'createek', ['-c', 'ek.ctx', '-G', 'rsa', '-u', 'ek.pub']);
    await tool(t, 'createak', ['-C', 'ek.ctx', '-c', 'ak.ctx', '-G', 'rsa', '-s', 'rsassa', '-g', 'sha256', '-u', 'ak.pub', '-n', 'ak.name']);
    const secret = randomBytes(32);
    await writeFile(file(t, 'secret'), secret);
    const name = (await readFile(file(t, 'ak.name'))).toString('hex');
    await tpm2('none', 'makecredential', ['-T', 'none', '-u', 'ek.pub', '-s', 'secret', '-n', name, '-o', 'cred.out'], { cwd: t.dir });
    // The EK's policy is PolicySecret(endorsement): without the policy session its use is AUTH_UNAVAILABLE.
    const refused = await tpm2Fails(t.tcti, 'activatecredential', ['-c', 'ak.ctx', '-C', 'ek.ctx', '-i', 'cred.out', '-o', 'recovered'], { cwd: t.dir });
    assert.match(refused.stderr, /0x12f\b/i);
    await tool(t, 'startauthsession', ['--policy-session', '-S', 'ek-session.ctx']);
    await tool(t, 'policysecret', ['-S', 'ek-session.ctx', '-c', 'e']);
    await tool(t, 'activatecredential', ['-c', 'ak.ctx', '-C', 'ek.ctx', '-i', 'cred.out', '-o', 'recovered', '-P', 'session:ek-session.ctx']);
    await tool(t, 'flushcontext', ['ek-session.ctx']);
    assert.deepEqual(await readFile(file(t, 'recovered')), secret);
  }],
];

for (const [label, target] of MRTPM_TCTIS) {
  describeInterop(`attestation and credentials via ${label}`, () => target('mrtpm-attest'), (t) => {
    for (const [name, run] of cases) it(name, () => run(t()));
  }, 120000);
}
