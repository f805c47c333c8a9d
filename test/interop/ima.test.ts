/**
 * `mrtpm ima measure` against a running `mrtpm serve --mr tdx-sim` (mssim), then the real evmctl
 * (ima-evm-utils) verifies the binary list against PCR files made from tpm2_pcrread, evmctl's
 * boot_aggregate equals the list's, `mrtpm ima replay` agrees with the TPM, and `mrtpm mr replay`
 * still finds RTMR2 matching (the mirror carried IMA's PCR 10 extends into it). Then the same
 * without a server (the state opened in-process), a foreign PCR 10 extend that both evmctl and
 * `ima replay` must catch, and evmctl on the kernel-format fixture list. Last, a kernel that
 * extends SHA-384 with padded SHA-1 template hashes: `ima replay`, `mrtpm verify` of evidence
 * quoting that bank, and RTMR2 agree, and a foreign digest fails both.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { EVMCTL_MATCHED, evmctlPcrFile } from '../helpers/evmctl.js';
import { requireInteropTools } from '../helpers/interop-prereqs.js';
import { assertMrtpmBuilt, runMrtpm, startMrtpm } from '../helpers/mrtpm.js';
import { runCommand } from '../helpers/processes.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';
import { parsePcrRead } from '../helpers/tool-output.js';
import { parseBinaryList } from '../../src/ima/ima-list.js';
import { templateHash } from '../../src/ima/ima-template.js';
import { tpm2 } from '../helpers/tpm2-tools.js';

const exec = promisify(execFile);
const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/ima/', import.meta.url));

const run = runCommand;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const mrtpm = runMrtpm;


describe('IMA lists with evmctl (mrtpm serve, mssim)', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  before(async function () {
    await requireInteropTools(this);
    assertMrtpmBuilt();
  });
  after(async () => { await Promise.all(dirs.map(removeDir)); });

  it('measure through the server, evmctl verifies the list against tpm2_pcrread, RTMR2 replays; then in-process; a foreign extend is caught', async () => {
    const state = await makeTempDir('mrtpm-ima');
    dirs.push(state);
    const files = join(state, 'files');
    await exec('mkdir', ['-p', files]);
    const measured = [join(files, 'config file.txt'), join(files, 'big.bin'), join(files, 'empty')];
    writeFileSync(measured[0]!, 'key = value\n');
    writeFileSync(measured[1]!, randomBytes(3 << 20));
    writeFileSync(measured[2]!, '');
    const list = join(state, 'ima', 'binary_runtime_measurements');

    const server = await startMrtpm({ stateDir: state, pcrBanks: ['sha1', 'sha256', 'sha384'], extraArgs: ['--mr', 'tdx-sim'] });
    const t = server.tcti;
    try {
      await tpm2(t, 'startup', ['-c']);
      // Firmware and boot loader measurements, so that boot_aggregate covers something.
      await tpm2(t, 'pcrextend', [`0:sha256=${randomBytes(32).toString('hex')}`]);
      await tpm2(t, 'pcrextend', [`4:sha1=${randomBytes(20).toString('hex')},sha256=${randomBytes(32).toString('hex')}`]);
      await tpm2(t, 'pcrextend', [`9:sha256=${randomBytes(32).toString('hex')}`]);

      const measure = await mrtpm(['ima', 'measure', '--state', state, '--port', String(server.port), ...measured]);
      assert.equal(measure.code, 0, measure.stderr);
      const ascii = readFileSync(join(state, 'ima', 'ascii_runtime_measurements'), 'utf8').split('\n').filter(Boolean);
      assert.equal(ascii.length, 4);
      assert.match(ascii[0]!, /^10 [0-9a-f]{40} ima-ng sha256:[0-9a-f]{64} boot_aggregate$/);
      assert.ok(ascii[1]!.endsWith(`${files}/config_file.txt`), 'spaces in a path become underscores');
      assert.equal(measure.stdout, `${ascii.join('\n')}\n`);

      const read = parsePcrRead(await tpm2(t, 'pcrread', ['sha1:all+sha256:all']));
      const sha1 = evmctlPcrFile(join(state, 'pcrs-sha1'), read.get('sha1')!);
      const sha256 = evmctlPcrFile(join(state, 'pcrs-sha256'), read.get('sha256')!);
      const evm = await run('evmctl', ['ima_measurement', '--pcrs', `sha1,${sha1}`, '--pcrs', `sha256,${sha256}`, list]);
      assert.equal(evm.code, 0, evm.stdout + evm.stderr);
      assert.ok(evm.stderr.includes(EVMCTL_MATCHED), evm.stdout + evm.stderr);

      const aggregate = await run('evmctl', ['ima_boot_aggregate', '--pcrs', `sha256,${sha256}`]);
      assert.equal(aggregate.code, 0, aggregate.stderr);
      assert.equal(aggregate.stdout.match(/sha256:[0-9a-f]{64}/)?.[0], ascii[0]!.split(' ')[3]);

      const replay = await mrtpm(['ima', 'replay', '--port', String(server.port), '--state', state, list]);
      assert.equal(replay.code, 0, replay.stdout + replay.stderr);
      for (const bank of ['sha1', 'sha256', 'sha384']) assert.match(replay.stdout, new RegExp(`^${bank}:10 [0-9a-f]+ matches the TPM$`, 'm'));
    } finally {
      await server.stop();
    }

    const mr = await mrtpm(['mr', 'replay', '--state', state]);
    assert.equal(mr.code, 0, mr.stdout + mr.stderr);
    assert.match(mr.stdout, /^rtmr2 +matches (?!0{96})[0-9a-f]{96}$/m);

    // No server: the state directory opened in this process, its MR mirror with it.
    const more = join(files, 'later');
    writeFileSync(more, 'measured without a server');
    const inProcess = await mrtpm(['ima', 'measure', '--state', state, more]);
    assert.equal(inProcess.code, 0, inProcess.stderr);
    assert.match(inProcess.stdout, new RegExp(`^10 [0-9a-f]{40} ima-ng sha256:[0-9a-f]{64} ${more}\\n$`));
    const replayed = await mrtpm(['ima', 'replay', '--state', state]);
    assert.equal(replayed.code, 0, replayed.stdout + replayed.stderr);
    assert.match(replayed.stdout, /^5 entries, 0 violations$/m);
    assert.match((await mrtpm(['mr', 'replay', '--state', state])).stdout, /^rtmr2 +matches /m);

    // An extend of PCR 10 that is not in the list: both verifiers must notice.
    const again = await startMrtpm({ stateDir: state, pcrBanks: ['sha1', 'sha256', 'sha384'], extraArgs: ['--mr', 'tdx-sim'] });
    try {
      await tpm2(again.tcti, 'pcrextend', [`10:sha1=${randomBytes(20).toString('hex')},sha256=${randomBytes(32).toString('hex')},sha384=${randomBytes(48).toString('hex')}`]);
      const bad = await mrtpm(['ima', 'replay', '--port', String(again.port), '--state', state]);
      assert.equal(bad.code, 1, bad.stdout);
      assert.match(bad.stdout, /^sha256:10 [0-9a-f]{64} DIFFERS: TPM [0-9a-f]{64}$/m);
      const read = parsePcrRead(await tpm2(again.tcti, 'pcrread', ['sha256:all']));
      const evm = await run('evmctl', ['ima_measurement', '--pcrs', `sha256,${evmctlPcrFile(join(state, 'pcrs-after'), read.get('sha256')!)}`, list]);
      assert.notEqual(evm.code, 0, evm.stdout);
      assert.ok(!evm.stderr.includes(EVMCTL_MATCHED), evm.stderr);
    } finally {
      await again.stop();
    }
  });

  it('a TPM without Startup refuses the measurement and the list stays empty; after Startup it starts with boot_aggregate', async () => {
    const state = await makeTempDir('mrtpm-ima-init');
    dirs.push(state);
    const file = join(state, 'f');
    writeFileSync(file, 'x');
    const server = await startMrtpm({ stateDir: state, extraArgs: ['--mr', 'none'] });
    try {
      const refused = await mrtpm(['ima', 'measure', '--state', state, '--port', String(server.port), file]);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /TPM_RC_INITIALIZE/);
      await tpm2(server.tcti, 'startup', ['-c']);
      await tpm2(server.tcti, 'pcrextend', [`10:sha256=${randomBytes(32).toString('hex')}`]);
      const measured = await mrtpm(['ima', 'measure', '--state', state, '--port', String(server.port), file]);
      assert.equal(measured.code, 0, measured.stderr);
      const lines = readFileSync(join(state, 'ima', 'ascii_runtime_measurements_sha256'), 'utf8').split('\n').filter(Boolean);
      assert.deepEqual(lines.map((l) => l.split(' ').at(-1)), ['boot_aggregate', file]);
      assert.match(lines[0]!, /^10 [0-9a-f]{64} ima-ng /, 'the _sha256 file shows the SHA-256 template hash');
      // PCR 10 was extended before IMA started: the list cannot replay to it.
      const replay = await mrtpm(['ima', 'replay', '--port', String(server.port), '--state', state]);
      assert.equal(replay.code, 1, replay.stdout);
    } finally {
      await server.stop();
    }
  });

  it('evmctl accepts the kernel-format fixture list against its expected PCRs, as mrtpm ima replay computes them', async () => {
    const dir = await makeTempDir('mrtpm-ima-fixture');
    dirs.push(dir);
    const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as { bootPcrsSha256: string[]; pcr10: Record<string, string> };
    const pcrs = new Map(Array.from({ length: 24 }, (_, i) => [i, i < 10 ? expected.bootPcrsSha256[i]! : i === 10 ? expected.pcr10.sha256! : '0'.repeat(64)]));
    const file = evmctlPcrFile(join(dir, 'pcrs'), pcrs);
    const list = join(FIXTURES, 'binary_runtime_measurements');
    // --ignore-violations: extend violations as the kernel does (all-ones), not as zeros.
    const evm = await run('evmctl', ['ima_measurement', '--ignore-violations', '--pcrs', `sha256,${file}`, list]);
    assert.equal(evm.code, 0, evm.stdout + evm.stderr);
    assert.ok(evm.stderr.includes(EVMCTL_MATCHED), evm.stdout + evm.stderr);
    const replay = await mrtpm(['ima', 'replay', '--banks', 'sha256', list]);
    assert.equal(replay.code, 0, replay.stderr);
    assert.match(replay.stdout, new RegExp(`^sha256:10 ${expected.pcr10.sha256}$`, 'm'));
  });

  it('a kernel without SHA-384 (padded SHA-1 in that bank, as Debian\'s from a bare initramfs): ima replay, evidence verify and RTMR2 agree; a foreign digest fails both', async () => {
    const state = await makeTempDir('mrtpm-ima-padded');
    dirs.push(state);
    const list = join(FIXTURES, 'binary_runtime_measurements');
    const entries = parseBinaryList(readFileSync(list));
    const server = await startMrtpm({ stateDir: state, pcrBanks: ['sha1', 'sha256', 'sha384'], extraArgs: ['--mr', 'tdx-sim'] });
    const t = server.tcti;
    let pcr10 = '';
    try {
      await tpm2(t, 'startup', ['-c']);
      // PCR 10 as that kernel extends it: SHA-1 and SHA-256 template hashes, SHA-384 = SHA-1 padded.
      for (const e of entries) {
        const violation = e.templateHash.every((b) => b === 0);
        const sha256 = violation ? 'ff'.repeat(32) : hex(templateHash('sha256', e.templateName, e.templateData!));
        const sha384 = violation ? 'ff'.repeat(48) : hex(e.templateHash) + '00'.repeat(28);
        await tpm2(t, 'pcrextend', [`10:sha1=${violation ? 'ff'.repeat(20) : hex(e.templateHash)},sha256=${sha256},sha384=${sha384}`]);
      }
      const replay = await mrtpm(['ima', 'replay', list, '--port', String(server.port), '--state', state]);
      assert.equal(replay.code, 0, replay.stdout + replay.stderr);
      assert.match(replay.stdout, /^sha256:10 [0-9a-f]{64} matches the TPM$/m);
      assert.match(replay.stdout, /^sha384:10 [0-9a-f]{96} matches the TPM with padded SHA-1 template hashes$/m);
      // (evmctl 1.4's --pcrs knows only sha1 and sha256 banks: "Unknown algorithm 'sha384'".)
      // The state's list in evidence quoting both banks: verify accepts the padded sha384 bank.
      mkdirSync(join(state, 'ima'), { recursive: true });
      copyFileSync(list, join(state, 'ima', 'binary_runtime_measurements'));
      const imaCheck = async (): Promise<{ result: string; detail: string }> => {
        const nonce = randomBytes(16).toString('hex');
        const bundle = join(state, `evidence-${nonce}.json`);
        const attest = await mrtpm(['attest', '--state', state, '--port', String(server.port), '--nonce', nonce, '--pcrs', 'sha256:10,sha384:10', '--out', bundle]);
        assert.equal(attest.code, 0, attest.stderr);
        const verify = await mrtpm(['verify', bundle, '--nonce', nonce, '--json']);
        const checks = (JSON.parse(verify.stdout) as { checks: { check: string; result: string; detail: string }[] }).checks;
        return checks.find((c) => c.check === 'IMA list replays to PCR 10')!;
      };
      assert.deepEqual(await imaCheck(), { check: 'IMA list replays to PCR 10', result: 'pass', detail: `${entries.length} entries replay in sha256, sha384 (sha384 with padded SHA-1)` });
      // One more SHA-384 digest the list does not explain: neither way replays.
      await tpm2(t, 'pcrextend', [`10:sha384=${'ab'.repeat(48)}`]);
      const forged = await mrtpm(['ima', 'replay', list, '--port', String(server.port), '--state', state]);
      assert.equal(forged.code, 1, forged.stdout);
      assert.match(forged.stdout, /^sha384:10 [0-9a-f]{96} DIFFERS: TPM [0-9a-f]{96}$/m);
      assert.deepEqual(await imaCheck(), { check: 'IMA list replays to PCR 10', result: 'fail', detail: 'differs in sha384' });
      pcr10 = parsePcrRead(await tpm2(t, 'pcrread', ['sha384:10'])).get('sha384')!.get(10)!;
    } finally {
      await server.stop();
    }
    // RTMR2 went through the same padded digests (and the foreign one) as the sha384 bank.
    const mr = await mrtpm(['mr', 'replay', '--state', state]);
    assert.match(mr.stdout, new RegExp(`^rtmr2 +matches ${pcr10}$`, 'm'), mr.stdout);
  });
});
