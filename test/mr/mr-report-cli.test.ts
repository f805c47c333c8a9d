/** `mrtpm mr report`: the hardware report of --mr, its provider and registers printed, the raw evidence written with --out. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MRTPM_MAIN } from '../helpers/mrtpm.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';

const run = promisify(execFile);
const mrtpm = async (args: string[]): Promise<string> => (await run(process.execPath, [MRTPM_MAIN, ...args])).stdout;
const failure = async (args: string[]): Promise<{ code: number; stderr: string }> =>
  run(process.execPath, [MRTPM_MAIN, ...args]).then(() => assert.fail('expected a failure'), (err: { code: number; stderr: string }) => err);

interface ReportJson {
  provider: string;
  format: string;
  size: number;
  reportData: string;
  registers: Record<string, string>;
  signature: { valid: boolean; publicKey: string };
}

describe('mrtpm mr report', function () {
  this.timeout(30_000);
  let state: string;
  beforeEach(async () => { state = await makeTempDir('mrtpm-mr-report'); });
  afterEach(async () => { await removeDir(state); });
  const reportData = '5a'.repeat(64);

  it('tdx-sim: prints the TDREPORT\'s registers, equal to mr read; --out holds the signed report', async () => {
    await mrtpm(['mr', 'extend', 'rtmr3', 'c3'.repeat(48), '--state', state]);
    const out = join(state, 'report.bin');
    const report = JSON.parse(await mrtpm(['mr', 'report', '--state', state, '--report-data', reportData, '--out', out, '--json'])) as ReportJson;
    const read = JSON.parse(await mrtpm(['mr', 'read', '--json', '--state', state])) as { name: string; value: string }[];
    assert.equal(report.provider, 'tdx-sim');
    assert.equal(report.format, 'tdx-sim-tdreport');
    assert.equal(report.reportData, reportData);
    assert.deepEqual(report.registers, Object.fromEntries(read.map((r) => [r.name, r.value])));
    assert.equal(report.signature.valid, true);
    const raw = readFileSync(out);
    assert.equal(raw.length, report.size);
    assert.equal(raw.subarray(128, 192).toString('hex'), reportData, 'REPORTDATA at offset 128');
    assert.equal(raw.subarray(864, 912).toString('hex'), report.registers.rtmr3, 'RTMR3 at offset 864');
    const key = createPublicKey(readFileSync(report.signature.publicKey));
    assert.equal(verify('sha384', raw.subarray(0, 1024), { key, dsaEncoding: 'ieee-p1363' }, raw.subarray(1024)), true);

    const text = await mrtpm(['mr', 'report', '--state', state, '--report-data', reportData]);
    assert.match(text, /^provider +tdx-sim$/m);
    assert.match(text, new RegExp(`^rtmr3 +${report.registers.rtmr3}$`, 'm'));
    assert.match(text, /^signature +valid under .*tdx-sim\.registers\.attest-key\.pub\.pem$/m);
  });

  it('cca-sim: a realm token with the 64-octet REMs of a sha512 realm', async () => {
    await mrtpm(['mr', 'extend', 'rem3', 'e1'.repeat(64), '--state', state, '--mr', 'cca-sim', '--mr-hash', 'sha512']);
    const report = JSON.parse(await mrtpm(['mr', 'report', '--state', state, '--mr', 'cca-sim', '--report-data', reportData, '--json'])) as ReportJson;
    assert.equal(report.format, 'cca-token');
    assert.deepEqual(Object.keys(report.registers), ['rim', 'rem0', 'rem1', 'rem2', 'rem3']);
    assert.equal(report.registers.rem3!.length, 128);
    assert.equal(report.reportData, reportData);
    assert.equal(report.signature.valid, true);
  });

  it('refuses report data of another size, a missing register file and a tsm-mr root without a provider', async () => {
    const short = await failure(['mr', 'report', '--state', state, '--report-data', 'ab'.repeat(32)]);
    assert.match(short.stderr, /must be 64 octets/);
    const missing = await failure(['mr', 'report', '--state', state, '--report-data', reportData]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no tdx-sim register file/);
    const tsm = await failure(['mr', 'report', '--state', state, '--mr', 'tsm-mr', '--tsm-report-root', state, '--report-data', reportData]);
    assert.equal(tsm.code, 2);
    assert.match(tsm.stderr, /ENOENT: .*provider/);
  });
});
