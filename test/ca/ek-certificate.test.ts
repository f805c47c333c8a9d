/**
 * EK certificates from the local CA: checked with node:crypto and Debian's openssl (parse, chain,
 * the TCG subjectAltName attributes), against the EKs CreatePrimary gives for the profile templates,
 * and stored at the TCG NV indexes with swtpm's attributes.
 */
import assert from 'node:assert/strict';
import { X509Certificate, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manufactureTpm } from '../../src/cli/manufacture.js';
import { TPM_DESCRIPTION, issueEkCertificates } from '../../src/ca/issue-ek-certificates.js';
import { openLocalCa } from '../../src/ca/local-ca.js';
import { makeEkCertificate } from '../../src/ca/ek-certificate.js';
import { LocalCaFiles } from '../../src/store/local-ca-files.js';
import { EK_TEMPLATES, type EkKind } from '../../src/tpm/objects/ek-templates.js';
import type { PersistentState } from '../../src/tpm/state/tpm-state.js';
import { RH, commands as c, hierarchyTpm, primaryOut } from '../tpm/helpers/hierarchy-cmd.js';
import { nv, readOut, readPublicOut } from '../tpm/helpers/nv-cmd.js';
import { openssl } from '../helpers/openssl.js';

const b64u = (b: Buffer): string => b.toString('base64url');
/** The EK's key from CreatePrimary's outPublic, read from its unique field (the template's layout). */
const EK_KEY: Record<EkKind, (outPublic: Buffer) => KeyObject> = {
  rsa2048: (p) => createPublicKey({ key: { kty: 'RSA', n: b64u(p.subarray(p.length - 256)), e: 'AQAB' }, format: 'jwk' }),
  ecc256: (p) => createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: b64u(p.subarray(p.length - 66, p.length - 34)), y: b64u(p.subarray(p.length - 32)) }, format: 'jwk',
  }),
};
const spki = (k: KeyObject): Buffer => k.export({ type: 'spki', format: 'der' });
const KINDS: EkKind[] = ['rsa2048', 'ecc256'];
const ATTRIBUTES_SWTPM = 0x62072001;

/** The certificate NV_Read gives from `index` (authorized by the index itself), read in 512-octet chunks. */
function nvCertificate(t: ReturnType<typeof hierarchyTpm>, index: number): { attributes: number; der: Buffer } {
  const { nvPublic, attributes } = readPublicOut(t.ok(nv.readPublic(index)));
  const size = nvPublic.readUInt16BE(nvPublic.length - 2);
  const parts: Buffer[] = [];
  for (let at = 0; at < size; at += 512) parts.push(readOut(t.ok(nv.read(index, index, Math.min(512, size - at), at))));
  return { attributes, der: Buffer.concat(parts) };
}

describe('EK certificates (TCG EK Credential Profile, local CA)', function () {
  this.timeout(20000);
  let dir: string;
  let persistent: PersistentState;
  let caPem: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mrtpm-ekcert-'));
    persistent = manufactureTpm([0x000b]);
    await issueEkCertificates(persistent, new LocalCaFiles(dir));
    caPem = readFileSync(join(dir, 'ek-ca-cert.pem'), 'utf8');
    writeFileSync(join(dir, 'ca.pem'), caPem);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the CA key and certificate in the state directory with mode 0600; the CA certificate is a CA', () => {
    for (const f of ['ek-ca-key.pem', 'ek-ca-cert.pem']) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
    const ca = new X509Certificate(caPem);
    assert.ok(ca.ca);
    assert.ok(ca.verify(ca.publicKey), 'self-signed');
    assert.equal(ca.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  });

  for (const kind of KINDS) {
    it(`${kind}: NV ${EK_TEMPLATES[kind].certificateIndex.toString(16)} holds a CA-signed certificate of the EK CreatePrimary gives, attributes 0x62072001`, () => {
      const t = hierarchyTpm(structuredClone(persistent));
      const { attributes, der } = nvCertificate(t, EK_TEMPLATES[kind].certificateIndex);
      assert.equal(attributes >>> 0, ATTRIBUTES_SWTPM);
      const cert = new X509Certificate(der);
      assert.ok(cert.verify(new X509Certificate(caPem).publicKey), 'signed by the local CA');
      assert.ok(cert.checkIssued(new X509Certificate(caPem)));
      const { handle, outPublic } = primaryOut(t.ok(c.createPrimary(RH.ENDORSEMENT, EK_TEMPLATES[kind].template)));
      t.ok(c.flush(handle));
      assert.deepEqual(spki(cert.publicKey), spki(EK_KEY[kind](outPublic)));
      assert.equal(cert.subject, undefined, 'empty subject');
      assert.equal(cert.ca, false);
    });
  }

  it('openssl shows the TCG attributes in a critical subjectAltName, CA:FALSE, the key usages, and verifies the chain', async () => {
    const t = hierarchyTpm(structuredClone(persistent));
    const usage: Record<EkKind, string> = { rsa2048: 'Key Encipherment', ecc256: 'Key Agreement' };
    for (const kind of KINDS) {
      const file = join(dir, `${kind}.der`);
      writeFileSync(file, nvCertificate(t, EK_TEMPLATES[kind].certificateIndex).der);
      const text = await openssl(['x509', '-inform', 'DER', '-in', file, '-noout', '-text']);
      assert.match(text, /X509v3 Subject Alternative Name: critical\n\s*DirName:\/2\.23\.133\.2\.1=id:4D525450\/2\.23\.133\.2\.2=mrtpm\/2\.23\.133\.2\.3=id:00000001\n/);
      assert.match(text, /X509v3 Basic Constraints: critical\n\s*CA:FALSE\n/);
      assert.match(text, new RegExp(`X509v3 Key Usage: critical\\n\\s*${usage[kind]}\\n`));
      assert.match(text, /X509v3 Extended Key Usage: \n\s*2\.23\.133\.8\.1\n/);
      assert.match(text, /Issuer: CN = mrtpm local EK CA, O = mrtpm\n/);
      assert.match(text, /X509v3 Subject Directory Attributes: \n/);
      // The values are UTF8Strings (tag 0x0c after each OID), as swtpm_cert writes them.
      const asn1 = await openssl(['asn1parse', '-inform', 'DER', '-in', file]);
      const san = /Subject Alternative Name\n.*\n.*\[HEX DUMP\]:([0-9A-F]+)\n/.exec(asn1)?.[1] ?? '';
      for (const [oid, value] of [['01', 'id:4D525450'], ['02', 'mrtpm'], ['03', 'id:00000001']] as const) {
        const utf8 = Buffer.from(value);
        assert.ok(san.includes(`060567810502${oid}0C${utf8.length.toString(16).padStart(2, '0')}${utf8.toString('hex')}`.toUpperCase()), `${oid}: ${san}`);
      }
      const pem = await openssl(['x509', '-inform', 'DER', '-in', file, '-out', `${file}.pem`]);
      assert.equal(pem, '');
      assert.match(await openssl(['verify', '-CAfile', join(dir, 'ca.pem'), `${file}.pem`]), /: OK\n/);
    }
  });

  it('issues later certificates from the same CA; a key without its certificate makes a new CA', async () => {
    const files = new LocalCaFiles(dir);
    const again = await openLocalCa(files);
    assert.equal(again.certificate.toString('pem').trim(), caPem.trim());
    const other = mkdtempSync(join(tmpdir(), 'mrtpm-ekcert-'));
    try {
      writeFileSync(join(other, 'ek-ca-key.pem'), readFileSync(join(dir, 'ek-ca-key.pem')));
      const made = await openLocalCa(new LocalCaFiles(other));
      assert.notEqual(made.certificate.toString('pem').trim(), caPem.trim());
      assert.notDeepEqual(readFileSync(join(other, 'ek-ca-key.pem')), readFileSync(join(dir, 'ek-ca-key.pem')));
      assert.equal(new LocalCaFiles(other).load()?.certificate.trim(), made.certificate.toString('pem').trim());
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('refuses a key type the profile has no EK certificate for', async () => {
    const ca = await openLocalCa(new LocalCaFiles(dir));
    const { publicKey } = generateKeyPairSync('ed25519');
    await assert.rejects(makeEkCertificate(ca, publicKey, TPM_DESCRIPTION), /ed25519/);
  });
});
