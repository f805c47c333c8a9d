/**
 * tdx-sim's hardware report: a TDREPORT_STRUCT whose fields sit at the TDX module spec's offsets
 * (the layout below is written from the spec, independently of src/mr/tdreport.ts), stating the
 * register file as extended, signed by the simulated attestation key kept beside it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readHardwareReport, verifyHardwareReport } from '../../src/mr/hardware-report-formats.js';
import type { MrBackend } from '../../src/mr/mr-backend.js';
import { attestationKeyPath, attestationPublicKeyPath, readPublicKey } from '../../src/mr/sim-attestation-key.js';
import { openTdxSim } from '../../src/mr/tdx-sim.js';
import { parseTdxSimReport, tdxSimReportSource } from '../../src/mr/tdx-sim-report.js';

const fill = (n: number, value: number): Uint8Array => new Uint8Array(n).fill(value);
const sha384 = (data: Uint8Array): Buffer => createHash('sha384').update(data).digest();

/** TDREPORT_STRUCT, TDX module ABI: [field, offset, size]; TDINFO_STRUCT starts at 512. */
const SPEC_LAYOUT: readonly [string, number, number][] = [
  ['REPORTTYPE', 0, 4], ['RESERVED1', 4, 12], ['CPUSVN', 16, 16], ['TEE_TCB_INFO_HASH', 32, 48], ['TEE_INFO_HASH', 80, 48],
  ['REPORTDATA', 128, 64], ['RESERVED2', 192, 32], ['MAC', 224, 32],
  ['TEE_TCB_INFO', 256, 239], ['RESERVED', 495, 17],
  ['ATTRIBUTES', 512, 8], ['XFAM', 520, 8], ['MRTD', 528, 48], ['MRCONFIGID', 576, 48], ['MROWNER', 624, 48], ['MROWNERCONFIG', 672, 48],
  ['RTMR0', 720, 48], ['RTMR1', 768, 48], ['RTMR2', 816, 48], ['RTMR3', 864, 48], ['SERVTD_HASH', 912, 48], ['RESERVED_TDINFO', 960, 64],
];
const at = (raw: Uint8Array, name: string): Uint8Array => {
  const [, offset, size] = SPEC_LAYOUT.find(([n]) => n === name)!;
  return raw.subarray(offset, offset + size);
};

describe('mr/hardware-report: tdx-sim TDREPORT', () => {
  let dir: string;
  let file: string;
  let mr: MrBackend;
  const init = { mrtd: fill(48, 0xd0), mrconfigid: fill(48, 0xc0), mrowner: fill(48, 0x0e), mrownerconfig: fill(48, 0x0c) };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mrtpm-hwr-'));
    file = join(dir, 'tdx-sim.registers');
    mr = openTdxSim(file, { init });
    [0, 1, 2, 3].forEach((n) => mr.extend(`rtmr${n}`, fill(48, 0x10 + n)));
  });
  afterEach(() => {
    mr.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the spec layout tiles the 1024 octets exactly', () => {
    let next = 0;
    for (const [name, offset, size] of SPEC_LAYOUT) {
      assert.equal(offset, next, name);
      next = offset + size;
    }
    assert.equal(next, 1024);
  });

  it('puts REPORTDATA, MRTD, the config registers and RTMR0-3 at the spec offsets, with the module\'s hashes', async () => {
    const reportData = Uint8Array.from({ length: 64 }, (_, i) => i + 1);
    const report = await tdxSimReportSource(file).report(reportData);
    const raw = report.raw;
    assert.equal(report.provider, 'tdx-sim');
    assert.equal(report.format, 'tdx-sim-tdreport');
    assert.equal(raw.length, 1024 + 96);
    assert.deepEqual(at(raw, 'REPORTTYPE'), Uint8Array.of(0x81, 0, 1, 0), 'TDX, subtype 0, version 1 (SERVTD_HASH present)');
    assert.deepEqual(at(raw, 'REPORTDATA'), reportData);
    for (const [name, value] of Object.entries(init)) assert.deepEqual(at(raw, name.toUpperCase()), value, name);
    for (const n of [0, 1, 2, 3]) assert.deepEqual(at(raw, `RTMR${n}`), mr.read(`rtmr${n}`), `rtmr${n}`);
    assert.deepEqual(Buffer.from(at(raw, 'TEE_INFO_HASH')), sha384(raw.subarray(512, 1024)), 'TEE_INFO_HASH = SHA-384(TDINFO)');
    assert.deepEqual(Buffer.from(at(raw, 'TEE_TCB_INFO_HASH')), sha384(at(raw, 'TEE_TCB_INFO')));
    for (const zero of ['RESERVED1', 'RESERVED2', 'MAC', 'RESERVED', 'SERVTD_HASH', 'RESERVED_TDINFO']) {
      assert.deepEqual(at(raw, zero), new Uint8Array(at(raw, zero).length), `${zero} is zero`);
    }
  });

  it('reads back REPORTDATA and the registers, equal to the register file after further extends', async () => {
    const source = tdxSimReportSource(file);
    const first = await source.report(fill(64, 0xaa));
    mr.extend('rtmr3', fill(48, 0x99));
    const reportData = fill(64, 0xbb);
    const second = await readHardwareReport('tdx-sim', 'tdx-sim-tdreport', (await source.report(reportData)).raw);
    assert.deepEqual(second.reportData, reportData);
    assert.deepEqual([...second.registers.keys()], ['mrtd', 'mrconfigid', 'mrowner', 'mrownerconfig', 'rtmr0', 'rtmr1', 'rtmr2', 'rtmr3']);
    for (const r of mr.registers) assert.deepEqual(second.registers.get(r.name), mr.read(r.name), r.name);
    assert.notDeepEqual(first.registers.get('rtmr3'), second.registers.get('rtmr3'));
    assert.equal(parseTdxSimReport(second.raw).teeInfoHashMatches, true);
  });

  it('signs with ECDSA P-384 over the 1024 octets; the public key is exported as SPKI PEM', async () => {
    const report = await tdxSimReportSource(file).report(fill(64, 1));
    const pem = readFileSync(attestationPublicKeyPath(file), 'utf8');
    assert.match(pem, /^-----BEGIN PUBLIC KEY-----/);
    const key = createPublicKey(pem);
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'secp384r1');
    assert.equal(verify('sha384', report.raw.subarray(0, 1024), { key, dsaEncoding: 'ieee-p1363' }, report.raw.subarray(1024)), true);
    assert.equal(statSync(attestationKeyPath(file)).mode & 0o777, 0o600, 'the private key is 0600');
  });

  it('verification fails for a flipped register bit, a flipped signature bit and another key', async () => {
    const report = await tdxSimReportSource(file).report(fill(64, 2));
    const key = readPublicKey(attestationPublicKeyPath(file));
    assert.equal(await verifyHardwareReport(report, key), true);
    for (const offset of [870 /* RTMR3 */, 130 /* REPORTDATA */, 530 /* MRTD */, 1024 + 10 /* signature */]) {
      const raw = Uint8Array.from(report.raw);
      raw[offset]! ^= 0x01;
      assert.equal(await verifyHardwareReport({ format: report.format, raw }, key), false, `offset ${offset}`);
    }
    const other = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey;
    assert.equal(await verifyHardwareReport(report, other), false);
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    await assert.rejects(verifyHardwareReport(report, p256), /P-384/);
  });

  it('keeps the attestation key across a TD reboot (--mr-reset), which resets the registers', async () => {
    await tdxSimReportSource(file).report(fill(64, 3));
    const pem = readFileSync(attestationPublicKeyPath(file), 'utf8');
    mr.close();
    mr = openTdxSim(file, { reset: true, init });
    const report = await tdxSimReportSource(file).report(fill(64, 4));
    assert.equal(readFileSync(attestationPublicKeyPath(file), 'utf8'), pem);
    assert.deepEqual(report.registers.get('rtmr0'), new Uint8Array(48));
    assert.equal(await verifyHardwareReport(report, createPublicKey(pem)), true);
  });

  it('processes that make the key at once all end up with the same one', async () => {
    const module = new URL('../../src/mr/sim-attestation-key.js', import.meta.url).href;
    const script = `const { openSimAttestationKey } = await import(${JSON.stringify(module)});
      process.stdout.write(openSimAttestationKey(${JSON.stringify(file)}).publicKey.export({ format: 'pem', type: 'spki' }));`;
    const pems = await Promise.all([1, 2, 3, 4].map(async () => (await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script])).stdout));
    assert.equal(new Set(pems).size, 1);
    assert.equal(pems[0], readFileSync(attestationPublicKeyPath(file), 'utf8'));
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.new')), [], 'no temp key left behind');
  });

  it('refuses report data that is not 64 octets', async () => {
    await assert.rejects(tdxSimReportSource(file).report(fill(32, 0)), RangeError);
    await assert.rejects(tdxSimReportSource(file).report(fill(65, 0)), RangeError);
  });
});
