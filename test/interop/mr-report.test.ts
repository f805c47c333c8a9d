/**
 * `mrtpm mr report` beside a running vTPM: tpm2-tools extends PCR 23 through `mrtpm serve`, the
 * mirror extends RTMR3/REM3, and the hardware report taken meanwhile (the register file held
 * open by the server) states the registers `mr read` shows, signed by the simulated key.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { requireInteropTools } from '../helpers/interop-prereqs.js';
import { assertMrtpmBuilt, MRTPM_MAIN, startMrtpm } from '../helpers/mrtpm.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';
import { tpm2 } from '../helpers/tpm2-tools.js';

const run = promisify(execFile);
const mrtpm = async (args: string[]): Promise<string> => (await run(process.execPath, [MRTPM_MAIN, ...args])).stdout;

describe('mrtpm mr report while mrtpm serve mirrors PCR extends', function () {
  this.timeout(120_000);
  let state: string;
  before(async function () {
    await requireInteropTools(this);
    assertMrtpmBuilt();
  });
  beforeEach(async () => { state = await makeTempDir('mrtpm-hwr-serve'); });
  afterEach(async () => { await removeDir(state); });

  for (const [backend, register, bank] of [['tdx-sim', 'rtmr3', 'sha384'], ['cca-sim', 'rem3', 'sha256']] as const) {
    it(`${backend}: the report states the live ${register}, and its signature holds`, async () => {
      const server = await startMrtpm({ protocol: 'mssim', stateDir: state, extraArgs: ['--mr', backend] });
      try {
        await tpm2(server.tcti, 'startup', ['-c']);
        await tpm2(server.tcti, 'pcrextend', [`23:${bank}=${randomBytes(bank === 'sha384' ? 48 : 32).toString('hex')}`]);
        const nonce = randomBytes(64).toString('hex');
        const report = JSON.parse(await mrtpm(['mr', 'report', '--json', '--state', state, '--mr', backend, '--report-data', nonce])) as {
          reportData: string; registers: Record<string, string>; signature: { valid: boolean };
        };
        const read = JSON.parse(await mrtpm(['mr', 'read', '--json', '--state', state, '--mr', backend])) as { name: string; value: string }[];
        assert.equal(report.reportData, nonce);
        assert.deepEqual(report.registers, Object.fromEntries(read.map((r) => [r.name, r.value])));
        assert.notEqual(report.registers[register], '00'.repeat(report.registers[register]!.length / 2), `${register} was extended`);
        assert.equal(report.signature.valid, true);
      } finally {
        await server.stop();
      }
    });
  }
});
