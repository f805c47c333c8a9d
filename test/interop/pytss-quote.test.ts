/**
 * tpm2-pytss (Debian's python3-tpm2-pytss over libtss2-esys) against mrtpm through the mssim and
 * cmd TCTIs: ESAPI.quote with an ECC restricted signing key, as an attestation agent written in
 * Python does it. The script checks the signature with pytss; this test checks the TPMS_ATTEST and
 * the signature again with node:crypto, and the PCR digest against values it extended itself.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describeInterop, type InteropFixture } from '../helpers/interop-suite.js';
import { mrtpmCmdTcti, startMrtpm } from '../helpers/mrtpm.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';
import { tpm2 } from '../helpers/tpm2-tools.js';

const SCRIPT = fileURLToPath(new URL('../../../test/fixtures/pytss-quote.py', import.meta.url));
/** Debian's interpreter, where python3-tpm2-pytss installs (a python3 earlier on PATH may be another). */
const PYTHON = '/usr/bin/python3';
const TPM_GENERATED_VALUE = 0xff544347;
const TPM_ST_ATTEST_QUOTE = 0x8018;
const TPM_ALG_ECDSA = 0x0018;

interface PytssQuote {
  attest: string;
  signature: string;
  publicPem: string;
  pcrValues: string[];
}

/** The TPMS_ATTEST fields this test checks (Part 2 §10.12.12), read in wire order. */
function readQuoteAttest(b: Buffer): { magic: number; type: number; extraData: Buffer; pcrDigest: Buffer } {
  let at = 0;
  const u16 = (): number => { const v = b.readUInt16BE(at); at += 2; return v; };
  const tpm2b = (): Buffer => { const n = u16(); const v = b.subarray(at, at + n); at += n; return v; };
  const magic = b.readUInt32BE(0);
  at = 4;
  const type = u16();
  tpm2b(); // qualifiedSigner
  const extraData = tpm2b();
  at += 17 + 8; // clockInfo, firmwareVersion
  const count = b.readUInt32BE(at);
  at += 4;
  for (let i = 0; i < count; i++) at += 3 + b[at + 2]!; // hash, sizeofSelect, pcrSelect
  return { magic, type, extraData, pcrDigest: tpm2b() };
}

/** An ECDSA TPMT_SIGNATURE as r || s, the IEEE P1363 form node:crypto verifies. */
function ecdsaP1363(signature: Buffer): Buffer {
  assert.equal(signature.readUInt16BE(0), TPM_ALG_ECDSA, 'sigAlg');
  const rSize = signature.readUInt16BE(4);
  const r = signature.subarray(6, 6 + rSize);
  const s = signature.subarray(8 + rSize, 8 + rSize + signature.readUInt16BE(6 + rSize));
  return Buffer.concat([r, s]);
}

function describeWith(label: string, setup: () => Promise<InteropFixture<string>>): void {
  describeInterop(`tpm2-pytss ESAPI.quote via ${label}`, setup, (tcti) => {
    it('the quote carries the nonce and the PCR digest, and node:crypto verifies its ECDSA signature', async () => {
      const extended = randomBytes(32);
      await tpm2(tcti(), 'startup', ['-c']);
      await tpm2(tcti(), 'pcrextend', [`16:sha256=${extended.toString('hex')}`]);
      const nonce = randomBytes(16);
      const { stdout } = await promisify(execFile)(PYTHON, [SCRIPT, tcti(), nonce.toString('hex'), 'sha256:0,1,16'], { timeout: 60000 });
      const quote = JSON.parse(stdout) as PytssQuote;
      const attest = Buffer.from(quote.attest, 'hex');
      const fields = readQuoteAttest(attest);
      assert.equal(fields.magic, TPM_GENERATED_VALUE);
      assert.equal(fields.type, TPM_ST_ATTEST_QUOTE);
      assert.deepEqual(fields.extraData, nonce);
      const pcr16 = createHash('sha256').update(Buffer.alloc(32)).update(extended).digest();
      assert.equal(quote.pcrValues[2], pcr16.toString('hex'), 'PCR 16 as pytss read it');
      const values = quote.pcrValues.map((v) => Buffer.from(v, 'hex'));
      assert.deepEqual(fields.pcrDigest, createHash('sha256').update(Buffer.concat(values)).digest());
      const key = createPublicKey(quote.publicPem);
      const signature = ecdsaP1363(Buffer.from(quote.signature, 'hex'));
      assert.ok(verify('sha256', attest, { key, dsaEncoding: 'ieee-p1363' }, signature), 'signature');
      const tampered = Buffer.from(attest);
      tampered[tampered.length - 1]! ^= 1;
      assert.ok(!verify('sha256', tampered, { key, dsaEncoding: 'ieee-p1363' }, signature), 'a changed quote does not verify');
    });
  }, 120000);
}

describeWith('mssim TCTI (mrtpm serve)', async () => {
  const server = await startMrtpm({ protocol: 'mssim' });
  return { target: server.tcti, teardown: async () => { await server.stop(); } };
});

describeWith('cmd TCTI (mrtpm stdio, one process per ESAPI context)', async () => {
  const stateDir = await makeTempDir('mrtpm-pytss-state');
  return { target: mrtpmCmdTcti(stateDir), teardown: () => removeDir(stateDir) };
});
