/**
 * The configfs-tsm report source against a report entry laid out like the kernel's, its outblob
 * answered by an in-test kernel (helpers/fake-configfs-tsm.ts): the TDX quote and the CCA token
 * are read back, and a racing writer (generation moving by more than our one write) is retried,
 * then refused with EBUSY.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openConfigfsTsm } from '../../src/mr/configfs-tsm.js';
import { encode, Tag } from 'cbor2';
import { encodeRealmClaims } from '../../src/mr/cca-token.js';
import { signCoseSign1 } from '../../src/mr/cose-sign1.js';
import { verifyHardwareReport } from '../../src/mr/hardware-report-formats.js';
import { MrError } from '../../src/mr/mr-backend.js';
import { FakeTsmKernel, type FakeTsmOptions } from './helpers/fake-configfs-tsm.js';

const fill = (n: number, value: number): Uint8Array => new Uint8Array(n).fill(value);
const TD_REGISTERS = ['mrtd', 'mrconfigid', 'mrowner', 'mrownerconfig', 'rtmr0', 'rtmr1', 'rtmr2', 'rtmr3'];
const tdValue = (i: number): Uint8Array => fill(48, 0xa0 + i);

/**
 * A TDX quote as DCAP's format has it: 48-octet header (version, attestation key type 2, TEE type
 * 0x81), for v5 a body descriptor (type 2 = TDX 1.0, size 584), the TD quote body with MRTD at
 * 0x88, MRCONFIGID 0xB8, MROWNER 0xE8, MROWNERCONFIG 0x118, RTMR0-3 from 0x148 and REPORTDATA at
 * 0x208, then a signature-data length and dummy signature data.
 */
function tdxQuote(version: 4 | 5, reportData: Uint8Array): Uint8Array {
  const header = Buffer.alloc(48);
  header.writeUInt16LE(version, 0);
  header.writeUInt16LE(2, 2);
  header.writeUInt32LE(0x81, 4);
  const body = Buffer.alloc(584);
  [0x88, 0xb8, 0xe8, 0x118, 0x148, 0x178, 0x1a8, 0x1d8].forEach((offset, i) => body.set(tdValue(i), offset));
  body.set(reportData, 0x208);
  const descriptor = Buffer.alloc(version === 5 ? 6 : 0);
  if (version === 5) {
    descriptor.writeUInt16LE(2, 0);
    descriptor.writeUInt32LE(584, 2);
  }
  const signature = Buffer.alloc(4 + 64, 0x5e);
  signature.writeUInt32LE(64, 0);
  return Buffer.concat([header, descriptor, body, signature]);
}

describe('mr/configfs-tsm', function () {
  this.timeout(10_000);
  let root: string;
  let kernel: FakeTsmKernel | undefined;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mrtpm-tsm-report-'));
  });
  afterEach(async () => {
    await kernel?.stop();
    kernel = undefined;
    rmSync(root, { recursive: true, force: true });
  });
  const entry = (options: FakeTsmOptions): FakeTsmKernel => (kernel = new FakeTsmKernel(join(root, 'mrtpm'), options));

  for (const version of [4, 5] as const) {
    it(`tdx_guest: writes inblob, reads the quote (v${version}) from outblob and its TD body back`, async () => {
      const fake = entry({ provider: 'tdx_guest', evidence: (inblob) => tdxQuote(version, inblob) });
      const source = await openConfigfsTsm({ root, entry: 'mrtpm' });
      assert.equal(source.provider, 'tdx_guest');
      const reportData = Uint8Array.from({ length: 64 }, (_, i) => i * 3);
      const report = await source.report(reportData);
      assert.equal(report.format, 'tdx-quote');
      assert.deepEqual(report.reportData, reportData);
      assert.deepEqual(report.raw, new Uint8Array(tdxQuote(version, reportData)));
      assert.deepEqual([...report.registers.keys()], TD_REGISTERS);
      TD_REGISTERS.forEach((name, i) => assert.deepEqual(report.registers.get(name), tdValue(i), name));
      assert.equal(fake.requests, 1);
      assert.equal(readFileSync(join(root, 'mrtpm', 'generation'), 'latin1'), '1\n');
      await source.close();
      assert.ok(existsSync(join(root, 'mrtpm')), 'a named entry is kept');
      await assert.rejects(verifyHardwareReport(report, generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey), /DCAP/);
    });
  }

  it('a writer racing once (generation moved by 2) is retried, and the report is of our data', async () => {
    const fake = entry({ provider: 'tdx_guest', evidence: (inblob) => tdxQuote(4, inblob), racers: 1 });
    const source = await openConfigfsTsm({ root, entry: 'mrtpm' });
    const reportData = fill(64, 0x42);
    const report = await source.report(reportData);
    assert.deepEqual(report.reportData, reportData);
    assert.equal(fake.requests, 3, 'ours, the racer\'s, ours again');
    assert.equal(readFileSync(join(root, 'mrtpm', 'generation'), 'latin1'), '3\n');
  });

  it('a writer racing on every try is EBUSY after the attempts', async () => {
    entry({ provider: 'tdx_guest', evidence: (inblob) => tdxQuote(4, inblob), racers: 100 });
    const source = await openConfigfsTsm({ root, entry: 'mrtpm', attempts: 2 });
    await assert.rejects(source.report(fill(64, 1)), (err: unknown) => err instanceof MrError && err.code === 'EBUSY' && /moved by 2, 2 instead of 1/.test(err.message));
  });

  it('arm_cca_guest: reads the realm token out of the CCA token collection; the RAK verifies it', async () => {
    const rak = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const rems = [0, 1, 2, 3].map((n) => fill(32, 0x70 + n));
    entry({
      provider: 'arm_cca_guest',
      evidence: async (challenge) => {
        const payload = await encodeRealmClaims({
          challenge, personalizationValue: fill(64, 0), hashAlgId: 'sha-256', publicKey: fill(97, 4), publicKeyHashAlgId: 'sha-256', rim: fill(32, 0x61), rems,
        });
        const realm = await signCoseSign1(rak.privateKey, payload);
        return encode(new Tag(399, new Map([[44234, Uint8Array.of(0xd2, 0x84, 0x40, 0xa0, 0x40, 0x40)], [44241, realm]])));
      },
    });
    const source = await openConfigfsTsm({ root, entry: 'mrtpm' });
    const challenge = fill(64, 0xcc);
    const report = await source.report(challenge);
    assert.equal(report.provider, 'arm_cca_guest');
    assert.equal(report.format, 'cca-token');
    assert.deepEqual(report.reportData, challenge);
    assert.deepEqual(report.registers.get('rim'), fill(32, 0x61));
    rems.forEach((v, n) => assert.deepEqual(report.registers.get(`rem${n}`), v));
    assert.equal(await verifyHardwareReport(report, rak.publicKey), true);
  });

  it('another provider\'s evidence is returned unparsed', async () => {
    entry({ provider: 'sev_guest', evidence: (inblob) => Uint8Array.from([...inblob, 0xee]) });
    const report = await (await openConfigfsTsm({ root, entry: 'mrtpm' })).report(fill(64, 3));
    assert.equal(report.format, 'opaque');
    assert.equal(report.reportData, undefined);
    assert.deepEqual(report.raw, Uint8Array.from([...fill(64, 3), 0xee]));
  });

  it('refuses report data that is not 64 octets, before writing anything', async () => {
    const fake = entry({ provider: 'tdx_guest', evidence: (inblob) => tdxQuote(4, inblob) });
    const source = await openConfigfsTsm({ root, entry: 'mrtpm' });
    await assert.rejects(source.report(fill(32, 0)), RangeError);
    assert.equal(fake.requests, 0);
  });

  it('an entry of its own under a root with no provider has no attributes: ENOENT, and the entry is removed again', async () => {
    await assert.rejects(openConfigfsTsm({ root }), (err: unknown) => err instanceof MrError && err.code === 'ENOENT' && /provider/.test(err.message));
    assert.deepEqual(readdirSync(root), []);
    await assert.rejects(openConfigfsTsm({ root: join(root, 'missing') }), (err: unknown) => err instanceof MrError && err.code === 'ENOENT');
  });
});
