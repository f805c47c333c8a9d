/**
 * EK certificates in NV with the real tpm2-tools 5.4 and Debian's openssl, through the mssim TCTI
 * (a TPM made by `mrtpm manufacture --ek-cert`) and the cmd TCTI (a TPM made on first start):
 * tpm2_nvread gives certificates the exported CA verifies, tpm2_getekcertificate (NV path, no URL)
 * writes both, and they certify the keys tpm2_createek derives. Beside swtpm_setup --create-ek-cert:
 * the same NV attributes and the same certificate shape (critical extensions, subjectAltName ASN.1,
 * tpmSpecification).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describeInterop, type InteropFixture } from '../helpers/interop-suite.js';
import { MRTPM_MAIN, mrtpmCmdTcti, startMrtpm } from '../helpers/mrtpm.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';
import { openssl } from '../helpers/openssl.js';
import { tpm2, tpm2Fails } from '../helpers/tpm2-tools.js';
import { startSwtpm, swtpmLocalCaDir } from '../helpers/swtpm.js';

const run = promisify(execFile);

interface Target {
  tcti: string;
  dir: string;
  stateDir: string;
}
type Case = [name: string, check: (t: Target) => Promise<void>];

const EKS = [
  { alg: 'rsa', index: '0x01c00002', usage: 'Key Encipherment' },
  { alg: 'ecc', index: '0x01c0000a', usage: 'Key Agreement' },
] as const;

const file = (t: Target, name: string): string => path.join(t.dir, name);
const tool = (t: Target, name: string, args: string[]): Promise<string> => tpm2(t.tcti, name, args, { cwd: t.dir });
/** The certificate in `der` as PEM, through openssl. */
const toPem = (t: Target, der: string): Promise<string> => openssl(['x509', '-inform', 'DER', '-in', file(t, der)]);

const cases: Case[] = [
  ['tpm2_startup -c', async (t) => {
    await tool(t, 'startup', ['-c']);
  }],
  ['mrtpm ca --out writes the CA certificate; it is a self-signed CA', async (t) => {
    await run(process.execPath, [MRTPM_MAIN, 'ca', '--state', t.stateDir, '--out', file(t, 'ca.pem')]);
    const text = await openssl(['x509', '-in', file(t, 'ca.pem'), '-noout', '-text']);
    assert.match(text, /Issuer: CN = mrtpm local EK CA, O = mrtpm\n/);
    assert.match(text, /Subject: CN = mrtpm local EK CA, O = mrtpm\n/);
    assert.match(text, /CA:TRUE/);
  }],
  ...EKS.map(({ alg, index, usage }): Case => [
    `tpm2_nvreadpublic / tpm2_nvread ${index}: attributes 0x62072001, a DER certificate openssl verify accepts with the CA`, async (t) => {
      assert.match(await tool(t, 'nvreadpublic', [index]), /friendly: ppwrite\|writedefine\|ppread\|ownerread\|authread\|no_da\|written\|platformcreate\n\s*value: 0x62072001\n/);
      await tool(t, 'nvread', [index, '-o', file(t, `${alg}.der`)]);
      const pem = await toPem(t, `${alg}.der`);
      await writeFile(file(t, `${alg}.pem`), pem);
      assert.match(await openssl(['verify', '-CAfile', file(t, 'ca.pem'), file(t, `${alg}.pem`)]), /: OK\n/);
      const text = await openssl(['x509', '-in', file(t, `${alg}.pem`), '-noout', '-text']);
      assert.match(text, /Subject Alternative Name: critical\n\s*DirName:\/2\.23\.133\.2\.1=id:4D525450\/2\.23\.133\.2\.2=mrtpm\/2\.23\.133\.2\.3=id:[0-9A-F]{8}\n/);
      assert.match(text, new RegExp(`Key Usage: critical\\n\\s*${usage}\\n`));
    }]),
  ['the certificate indexes are the platform\'s: an owner-authorized NV_Write is refused (TPM_RC_NV_AUTHORIZATION)', async (t) => {
    const r = await tpm2Fails(t.tcti, 'nvwrite', ['0x01c00002', '-C', 'o', '-i', file(t, 'ca.pem')], { cwd: t.dir });
    assert.match(r.stderr, /0x149\b/);
  }],
  ['tpm2_getekcertificate -o -o (NV, no URL) writes the RSA then the ECC certificate, as NV holds them', async (t) => {
    await tool(t, 'getekcertificate', ['-o', file(t, 'got-rsa.der'), '-o', file(t, 'got-ecc.der')]);
    for (const { alg } of EKS) assert.deepEqual(await readFile(file(t, `got-${alg}.der`)), await readFile(file(t, `${alg}.der`)), alg);
  }],
  ...EKS.map(({ alg }): Case => [`tpm2_createek -G ${alg}: the EK's public key is the one its certificate certifies`, async (t) => {
    await tool(t, 'createek', ['-c', file(t, `ek-${alg}.ctx`), '-G', alg, '-u', file(t, `ek-${alg}.pem`), '-f', 'pem']);
    const certified = await openssl(['x509', '-in', file(t, `${alg}.pem`), '-noout', '-pubkey']);
    assert.equal(certified, await readFile(file(t, `ek-${alg}.pem`), 'utf8'));
  }]),
];

function describeWith(label: string, setup: () => Promise<InteropFixture<Target>>): void {
  describeInterop(`EK certificates via ${label}`, setup, (target) => {
    for (const [name, check] of cases) it(name, () => check(target()));
  }, 120000);
}

describeWith('mssim TCTI (mrtpm manufacture --ek-cert, then serve)', async () => {
  const stateDir = await makeTempDir('mrtpm-ekcert-state');
  const dir = await makeTempDir('mrtpm-ekcert');
  await run(process.execPath, [MRTPM_MAIN, 'manufacture', '--state', stateDir, '--ek-cert']);
  const server = await startMrtpm({ stateDir });
  return {
    target: { tcti: server.tcti, dir, stateDir },
    teardown: async () => { await server.stop(); await removeDir(dir); await removeDir(stateDir); },
  };
});

describeWith('cmd TCTI (mrtpm stdio, certificates made on first start)', async () => {
  const stateDir = await makeTempDir('mrtpm-ekcert-state');
  const dir = await makeTempDir('mrtpm-ekcert');
  return {
    target: { tcti: mrtpmCmdTcti(stateDir), dir, stateDir },
    teardown: async () => { await removeDir(dir); await removeDir(stateDir); },
  };
});

describe('mrtpm ca without a local CA', () => {
  it('exits 1 and says how one is made', async () => {
    const stateDir = await makeTempDir('mrtpm-ekcert-none');
    try {
      await assert.rejects(run(process.execPath, [MRTPM_MAIN, 'ca', '--state', stateDir]), (e: { code?: number; stderr?: string }) =>
        e.code === 1 && /no local CA in .*manufacture --ek-cert/.test(e.stderr ?? ''));
    } finally {
      await removeDir(stateDir);
    }
  });
});

/** The critical extensions openssl names in `text` (`openssl x509 -text`). */
const criticalExtensions = (text: string): string[] => [...text.matchAll(/X509v3 (.+): critical\n/g)].map((m) => m[1]!).sort();

/** An extension's value as openssl asn1parse shows it, without offsets and lengths. */
async function extensionAsn1(der: string, name: string): Promise<string[]> {
  const outer = await openssl(['asn1parse', '-inform', 'DER', '-in', der]);
  const at = new RegExp(`${name}\\n(?:.*BOOLEAN.*\\n)?\\s*(\\d+):d=\\d+.*OCTET STRING`).exec(outer)?.[1];
  assert.ok(at, `no ${name} in ${der}`);
  const inner = await openssl(['asn1parse', '-inform', 'DER', '-in', der, '-strparse', at]);
  return inner.trim().split('\n').map((line) => line.replace(/^\s*\d+:(d=\d+)\s+hl=\d+\s+l=\s*\d+\s+/, '$1 ').trim());
}

/** The subjectAltName's structure: types and OIDs, the UTF8String values left out (they name the TPM). */
const sanShape = async (der: string): Promise<string[]> =>
  (await extensionAsn1(der, 'X509v3 Subject Alternative Name')).map((line) => line.replace(/(UTF8STRING)\s*:.*$/, '$1'));

describeInterop('EK certificates beside swtpm_setup --create-ek-cert (swtpm_localca)', async () => {
  const swtpm = await startSwtpm({ ekCertificates: true });
  const stateDir = await makeTempDir('mrtpm-ekcert-state');
  const dir = await makeTempDir('mrtpm-ekcert-diff');
  const mrtpm = mrtpmCmdTcti(stateDir);
  await tpm2(mrtpm, 'startup', ['-c'], { cwd: dir });
  return {
    target: { swtpm: swtpm.tcti, swtpmCa: swtpmLocalCaDir(swtpm.stateDir), mrtpm, stateDir, dir },
    teardown: async () => { await swtpm.stop(); await removeDir(dir); await removeDir(stateDir); },
  };
}, (target) => {
  it('the RSA EK certificate index: the same attributes, both certificates verify with their CA', async () => {
    const t = target();
    await run(process.execPath, [MRTPM_MAIN, 'ca', '--state', t.stateDir, '--out', path.join(t.dir, 'ca.pem')]);
    // swtpm_localca signs with an intermediate (issuercert.pem) under its root; mrtpm's CA signs directly.
    const chains = {
      swtpm: ['-CAfile', path.join(t.swtpmCa, 'swtpm-localca-rootca-cert.pem'), '-untrusted', path.join(t.swtpmCa, 'issuercert.pem')],
      mrtpm: ['-CAfile', path.join(t.dir, 'ca.pem')],
    };
    const attributes: string[] = [];
    for (const who of ['swtpm', 'mrtpm'] as const) {
      const pub = await tpm2(t[who], 'nvreadpublic', ['0x01c00002'], { cwd: t.dir });
      attributes.push(/attributes:\n.*\n\s*value: (0x[0-9a-f]+)/.exec(pub)?.[1] ?? pub);
      await tpm2(t[who], 'nvread', ['0x01c00002', '-o', path.join(t.dir, `${who}.der`)], { cwd: t.dir });
      await writeFile(path.join(t.dir, `${who}.pem`), await openssl(['x509', '-inform', 'DER', '-in', path.join(t.dir, `${who}.der`)]));
      assert.match(await openssl(['verify', ...chains[who], path.join(t.dir, `${who}.pem`)]), /: OK\n/, who);
    }
    assert.deepEqual(attributes, ['0x62072001', '0x62072001']);
  });

  it('the same critical extensions and the same subjectAltName structure (three UTF8String RDNs)', async () => {
    const t = target();
    const text = async (who: string): Promise<string> => openssl(['x509', '-in', path.join(t.dir, `${who}.pem`), '-noout', '-text']);
    assert.deepEqual(criticalExtensions(await text('mrtpm')), criticalExtensions(await text('swtpm')));
    assert.deepEqual(criticalExtensions(await text('mrtpm')), ['Basic Constraints', 'Key Usage', 'Subject Alternative Name']);
    const shape = await sanShape(path.join(t.dir, 'mrtpm.der'));
    assert.deepEqual(shape, await sanShape(path.join(t.dir, 'swtpm.der')));
    assert.equal(shape.filter((l) => l.endsWith('UTF8STRING')).length, 3, shape.join('\n'));
  });

  it('the same tcg-at-tpmSpecification (family 2.0, level 0, revision 164) in subjectDirectoryAttributes', async () => {
    const t = target();
    const attributes = await extensionAsn1(path.join(t.dir, 'mrtpm.der'), 'X509v3 Subject Directory Attributes');
    assert.deepEqual(attributes, await extensionAsn1(path.join(t.dir, 'swtpm.der'), 'X509v3 Subject Directory Attributes'));
    assert.ok(attributes.some((l) => /OBJECT\s+:2\.23\.133\.2\.16$/.test(l)), attributes.join('\n'));
  });
}, 120000);
