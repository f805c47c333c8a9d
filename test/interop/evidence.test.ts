/**
 * Hardware-bound evidence end to end through mssim, on tdx-sim and on cca-sim: tpm2-tools extends
 * PCRs of a serving mrtpm, `mrtpm attest` collects the bundle, `mrtpm verify` passes it; then each
 * forgery the issue names makes verify fail, with the check named: a flipped quote bit, a wrong
 * nonce, a PCR extend after the quote, a foreign register extend, the hardware report of another
 * quote, a truncated MR log; and an IMA list measured through the vTPM replays to PCR 10 until an
 * entry is changed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireInteropTools } from '../helpers/interop-prereqs.js';
import { MRTPM_MAIN, startMrtpm, type MrtpmServer } from '../helpers/mrtpm.js';
import { tpm2 } from '../helpers/tpm2-tools.js';
import { openTdxSim } from '../../src/mr/tdx-sim.js';
import { openCcaSim } from '../../src/mr/cca-sim.js';

const run = promisify(execFile);

interface Bundle { quote: { attest: string; signature: string }; mrLog: string; hardware: { report: string } }
interface Verdict { ok: boolean; checks: { check: string; result: string; detail: string }[] }

const PLATFORMS = [
  { mr: 'tdx-sim' as const, register: 'rtmr3', open: openTdxSim },
  { mr: 'cca-sim' as const, register: 'rem3', open: openCcaSim },
];

for (const platform of PLATFORMS) {
  describe(`evidence: mrtpm attest + verify through mssim with ${platform.mr}`, function () {
    this.timeout(120000);
    let server: MrtpmServer | undefined;
    const file = (name: string): string => join(server!.stateDir, name);
    const attest = async (nonce: string, out: string): Promise<Bundle> => {
      await run(process.execPath, [MRTPM_MAIN, 'attest', '--state', server!.stateDir, '--mr', platform.mr, '--port', String(server!.port), '--nonce', nonce, '--out', file(out)]);
      return JSON.parse(await readFile(file(out), 'utf8')) as Bundle;
    };
    const verify = async (bundle: Bundle | string, nonce: string): Promise<Verdict> => {
      const path = typeof bundle === 'string' ? file(bundle) : file('forged.json');
      if (typeof bundle !== 'string') await writeFile(path, JSON.stringify(bundle));
      const args = [MRTPM_MAIN, 'verify', path, '--nonce', nonce, '--json', '--ak-ca', file('ca.pem'), '--hw-key', file(`${platform.mr}.registers.attest-key.pub.pem`)];
      const r = await run(process.execPath, args).catch((e: { stdout: string; code: number }) => {
        assert.equal(e.code, 1, 'verify exits 1 when evidence does not hold');
        return e;
      });
      return JSON.parse(r.stdout) as Verdict;
    };
    const failed = (v: Verdict): string[] => v.checks.filter((c) => c.result === 'fail').map((c) => c.check);

    before(async function () {
      this.timeout(60000);
      await requireInteropTools(this);
      server = await startMrtpm({ protocol: 'mssim', extraArgs: ['--mr', platform.mr] });
      await tpm2(server.tcti, 'startup', ['-c']);
      await tpm2(server.tcti, 'pcrextend', [`16:sha256=${'11'.repeat(32)}`]);
      await writeFile(file('event.txt'), 'an event for PCR 10');
      await tpm2(server.tcti, 'pcrevent', ['9', file('event.txt')]);
      // IMA on PCR 10, through the serving vTPM: the bundle carries the list, verify replays it.
      await run(process.execPath, [MRTPM_MAIN, 'ima', 'measure', '--state', server.stateDir, '--port', String(server.port), file('event.txt')]);
      await run(process.execPath, [MRTPM_MAIN, 'ca', '--state', server.stateDir, '--out', file('ca.pem')]);
    });
    after(async () => server?.stop());

    it('verify passes every check of a fresh bundle (none skipped: CA, hardware key and a policy given)', async () => {
      const nonce = randomBytes(20).toString('hex');
      const bundle = await attest(nonce, 'good.json');
      const pcr16 = (bundle as unknown as { pcrs: { bank: string; pcr: number; value: string }[] }).pcrs.find((p) => p.pcr === 16)!;
      await writeFile(file('policy.json'), JSON.stringify({ pcrs: { 'sha256:16': pcr16.value } }));
      const args = [MRTPM_MAIN, 'verify', file('good.json'), '--nonce', nonce, '--json', '--ak-ca', file('ca.pem'),
        '--hw-key', file(`${platform.mr}.registers.attest-key.pub.pem`), '--policy', file('policy.json')];
      const v = JSON.parse((await run(process.execPath, args)).stdout) as Verdict;
      assert.ok(v.ok, JSON.stringify(v.checks, null, 2));
      assert.deepEqual(v.checks.filter((c) => c.result !== 'pass'), []);
      assert.ok(v.checks.length >= 13);
      assert.ok(v.checks.some((c) => c.check === 'IMA list replays to PCR 10' && c.result === 'pass'));
      const text = (await run(process.execPath, args.filter((a) => a !== '--json'))).stdout;
      assert.match(text, /^quote signature +PASS/m);
    });

    it('forgeries fail, each with its check named', async () => {
      const nonce = randomBytes(20).toString('hex');
      const good: Bundle = await attest(nonce, 'base.json');
      assert.ok((await verify('base.json', nonce)).ok);

      const flipped: Bundle = structuredClone(good);
      const quoted = Buffer.from(flipped.quote.attest, 'base64');
      quoted[quoted.length - 1]! ^= 1;
      flipped.quote.attest = quoted.toString('base64');
      assert.ok(failed(await verify(flipped, nonce)).includes('quote signature'), 'flipped quote bit');

      assert.deepEqual(failed(await verify(good, randomBytes(20).toString('hex'))), ['nonce'], 'wrong nonce');

      // A PCR extend between the quote and the MR log read: the log no longer replays to the quoted PCRs.
      await tpm2(server!.tcti, 'pcrextend', [`16:sha256=${'22'.repeat(32)}`]);
      const later = await attest(nonce, 'later.json');
      assert.deepEqual(failed(await verify({ ...good, mrLog: later.mrLog }, nonce)).sort(),
        ['PCR values replay from the MR log', 'registers replay from CCEL + the MR log'].sort(), 'extend after the quote');
      assert.deepEqual(failed(await verify({ ...good, hardware: later.hardware }, nonce)).sort(),
        ['REPORTDATA binds the quote and the AK', 'registers replay from CCEL + the MR log'].sort(), 'the report of another quote');

      const ima = (good as unknown as { ima: { list: string } }).ima;
      const list = Buffer.from(ima.list, 'base64');
      list[list.length - 1]! ^= 1;
      assert.deepEqual(failed(await verify({ ...good, ima: { ...ima, list: list.toString('base64') } } as Bundle, nonce)), ['IMA list replays to PCR 10'], 'a changed IMA entry');

      const cut = Buffer.from(good.mrLog, 'base64');
      assert.ok(failed(await verify({ ...good, mrLog: cut.subarray(0, cut.length - 7).toString('base64') }, nonce)).includes('MR log'), 'truncated log');

      // Another agent extends the register behind the vTPM's back: the register no longer replays.
      const backend = platform.open(file(`${platform.mr}.registers`));
      try {
        backend.extend(platform.register, randomBytes(backend.register(platform.register)!.size));
      } finally {
        backend.close();
      }
      assert.deepEqual(failed(await verify(await attest(nonce, 'foreign.json'), nonce)), ['registers replay from CCEL + the MR log'], 'foreign extend');
    });
  });
}
