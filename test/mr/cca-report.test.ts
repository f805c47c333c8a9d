/**
 * cca-sim's hardware report: a CCA realm token, COSE_Sign1 (ES384) over the realm claims. Decoded
 * with the CBOR library, and its signature checked a second way: the Sig_structure of RFC 9052
 * §4.4 serialized by hand here and verified with node:crypto.
 */
import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, encode, Tag } from 'cbor2';
import { ccaSimReportSource } from '../../src/mr/cca-sim-report.js';
import { openCcaSim } from '../../src/mr/cca-sim.js';
import { parseCcaEvidence } from '../../src/mr/cca-token.js';
import { readHardwareReport, verifyHardwareReport } from '../../src/mr/hardware-report-formats.js';
import type { MrBackend } from '../../src/mr/mr-backend.js';
import { attestationPublicKeyPath } from '../../src/mr/sim-attestation-key.js';
import { TPM_ALG } from '../../src/tpm/spec/constants.js';

const fill = (n: number, value: number): Uint8Array => new Uint8Array(n).fill(value);

/** A CBOR head (RFC 8949 §3): major type and length, in the shortest form. */
function head(major: number, length: number): Buffer {
  const m = major << 5;
  if (length < 24) return Buffer.of(m | length);
  if (length < 0x100) return Buffer.of(m | 24, length);
  if (length < 0x10000) return Buffer.of(m | 25, length >> 8, length & 0xff);
  throw new RangeError('longer than this test needs');
}
const bstr = (bytes: Uint8Array): Buffer => Buffer.concat([head(2, bytes.length), bytes]);
const tstr = (text: string): Buffer => Buffer.concat([head(3, Buffer.byteLength(text)), Buffer.from(text)]);
/** Sig_structure = ["Signature1", body_protected, external_aad, payload] (RFC 9052 §4.4). */
const sigStructure = (protectedHeader: Uint8Array, payload: Uint8Array): Buffer =>
  Buffer.concat([head(4, 4), tstr('Signature1'), bstr(protectedHeader), bstr(new Uint8Array(0)), bstr(payload)]);

/** Realm claim keys (Arm RMM spec A7.2.3.1, as TF-RMM's attestation_defs_priv.h numbers them). */
const CLAIM = { challenge: 10, rpv: 44235, hashAlgId: 44236, publicKey: 44237, rim: 44238, rems: 44239, pubKeyHashAlgId: 44240, profile: 265 };

describe('mr/cca-report: cca-sim realm token', () => {
  let dir: string;
  let file: string;
  let mr: MrBackend;
  afterEach(() => {
    mr.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [hash, alg, size, name] of [['sha256', TPM_ALG.SHA256, 32, 'sha-256'], ['sha512', TPM_ALG.SHA512, 64, 'sha-512']] as const) {
    describe(`realm hash ${hash}`, () => {
      const rim = fill(size, 0x52);
      beforeEach(() => {
        dir = mkdtempSync(join(tmpdir(), 'mrtpm-cca-'));
        file = join(dir, 'cca-sim.registers');
        mr = openCcaSim(file, { hashAlg: alg, init: { rim } });
        [0, 1, 2, 3].forEach((n) => mr.extend(`rem${n}`, fill(size, 0x30 + n)));
      });

      it('is a tagged COSE_Sign1 with alg ES384 whose payload holds the challenge, RIM, REMs, hash id and RAK', async () => {
        const challenge = Uint8Array.from({ length: 64 }, (_, i) => 255 - i);
        const report = await ccaSimReportSource(file).report(challenge);
        assert.equal(report.format, 'cca-token');
        const top = decode(report.raw, { preferMap: true });
        assert.ok(top instanceof Tag && top.tag === 18, 'tag 18 (COSE_Sign1)');
        const [protectedHeader, unprotected, payload, signature] = top.contents as [Uint8Array, Map<number, unknown>, Uint8Array, Uint8Array];
        assert.deepEqual(decode(protectedHeader, { preferMap: true }), new Map([[1, -35]]));
        assert.ok(unprotected instanceof Map);
        assert.equal(signature.length, 96);
        const claims = decode(payload, { preferMap: true }) as Map<number, unknown>;
        assert.deepEqual(claims.get(CLAIM.challenge), challenge);
        assert.deepEqual(claims.get(CLAIM.rpv), new Uint8Array(64));
        assert.equal(claims.get(CLAIM.hashAlgId), name);
        assert.equal(claims.get(CLAIM.pubKeyHashAlgId), 'sha-256');
        assert.equal(claims.get(CLAIM.profile), 'tag:arm.com,2023:realm#1.0.0');
        assert.deepEqual(claims.get(CLAIM.rim), rim);
        assert.deepEqual(claims.get(CLAIM.rems), [0, 1, 2, 3].map((n) => mr.read(`rem${n}`)));
        const spki = createPublicKey(readFileSync(attestationPublicKeyPath(file))).export({ format: 'der', type: 'spki' });
        assert.deepEqual(Buffer.from(claims.get(CLAIM.publicKey) as Uint8Array), spki.subarray(spki.length - 97), 'the RAK as an uncompressed P-384 point');
        assert.deepEqual(report.reportData, challenge);
        assert.deepEqual(report.registers.get('rem3'), mr.read('rem3'));
      });

      it('its signature verifies over a Sig_structure serialized by hand', async () => {
        const report = await ccaSimReportSource(file).report(fill(64, 7));
        const [protectedHeader, , payload, signature] = (decode(report.raw) as Tag).contents as Uint8Array[];
        const key = createPublicKey(readFileSync(attestationPublicKeyPath(file)));
        assert.equal(verify('sha384', sigStructure(protectedHeader!, payload!), { key, dsaEncoding: 'ieee-p1363' }, signature!), true);
        assert.equal(verify('sha384', sigStructure(protectedHeader!, Buffer.concat([payload!, Buffer.of(0)])), { key, dsaEncoding: 'ieee-p1363' }, signature!), false);
        assert.equal(await verifyHardwareReport(report, key), true);
      });
    });
  }

  describe('tampering and the CCA token collection', () => {
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'mrtpm-cca-'));
      file = join(dir, 'cca-sim.registers');
      mr = openCcaSim(file);
      mr.extend('rem3', createHash('sha256').update('x').digest());
    });

    it('a changed REM, challenge or signature, or another key, fails verification', async () => {
      const report = await ccaSimReportSource(file).report(fill(64, 9));
      const key = createPublicKey(readFileSync(attestationPublicKeyPath(file)));
      const rem3 = Buffer.from(mr.read('rem3'));
      const raw = Buffer.from(report.raw);
      for (const [what, find] of [['rem3', rem3], ['challenge', Buffer.from(fill(64, 9))]] as const) {
        const tampered = Buffer.from(raw);
        tampered[tampered.indexOf(find) + 5]! ^= 0x80;
        assert.equal(await verifyHardwareReport({ format: 'cca-token', raw: tampered }, key), false, what);
      }
      const badSignature = Buffer.from(raw);
      badSignature[badSignature.length - 1]! ^= 1;
      assert.equal(await verifyHardwareReport({ format: 'cca-token', raw: badSignature }, key), false, 'signature');
      assert.equal(await verifyHardwareReport(report, generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey), false, 'another key');
    });

    it('reads a realm token inside a tag-399 collection beside a platform token', async () => {
      const report = await ccaSimReportSource(file).report(fill(64, 0x44));
      const platformToken = Uint8Array.from([0xd2, 0x84, 0x40, 0xa0, 0x40, 0x40]);
      const collection = encode(new Tag(399, new Map([[44234, platformToken], [44241, new Uint8Array(report.raw)]])));
      const evidence = await parseCcaEvidence(collection);
      assert.deepEqual(evidence.platformToken, platformToken);
      assert.deepEqual(evidence.claims.challenge, fill(64, 0x44));
      const read = await readHardwareReport('arm_cca_guest', 'cca-token', collection);
      assert.deepEqual(read.registers, report.registers);
      assert.equal(await verifyHardwareReport(read, createPublicKey(readFileSync(attestationPublicKeyPath(file)))), true);
    });

    it('refuses a token without the REMs', async () => {
      const claims = new Map<number, unknown>([[10, fill(64, 0)]]);
      const token = encode(new Tag(18, [encode(new Map([[1, -35]])), new Map(), encode(claims), fill(96, 0)]));
      await assert.rejects(parseCcaEvidence(token), /extensible measurements \(44239\)/);
    });
  });
});
