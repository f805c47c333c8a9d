/**
 * A long run of tpm2-tools key workflows against one `mrtpm serve` (mssim): createprimary, create,
 * load, quote, 50 times (200 tool runs), with no tpm2_flushcontext anywhere. Every tool is its own client and
 * leaves its objects loaded; the resource-manager view must flush them when the client disconnects,
 * or the 16 transient slots would run out after a few workflows (TPM_RC_OBJECT_MEMORY).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { requireInteropTools } from '../helpers/interop-prereqs.js';
import { startMrtpm, type MrtpmServer } from '../helpers/mrtpm.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';
import { parseHandles, parseProperties } from '../helpers/tool-output.js';
import { tpm2 } from '../helpers/tpm2-tools.js';

const WORKFLOWS = 50;
const TPM_GENERATED_VALUE = 0xff544347;
/** Child key algorithms in turn: ECC keeps the run short, RSA shows prime generation holds up too. */
const CHILD_ALGS = ['ecc', 'ecc', 'ecc', 'ecc', 'rsa'];

describe('tpm2-tools key workflows in a row (mssim, no flushcontext)', function () {
  this.timeout(180000);
  let server: MrtpmServer | undefined;
  let dir: string | undefined;

  before(async function () {
    await requireInteropTools(this);
    server = await startMrtpm({ protocol: 'mssim' });
    dir = await makeTempDir('key-workflows');
    await tpm2(server.tcti, 'startup', ['-c']);
  });

  after(async () => {
    await server?.stop();
    if (dir) await removeDir(dir);
  });

  const transientAvailable = async (tcti: string): Promise<number | undefined> =>
    parseProperties(await tpm2(tcti, 'getcap', ['properties-variable'])).get('TPM2_PT_HR_TRANSIENT_AVAIL');

  it(`runs ${WORKFLOWS} createprimary / create / load / quote workflows (4 tool runs each) and leaves no object behind`, async () => {
    assert.ok(server && dir, 'setup failed');
    const { tcti } = server;
    const run = (tool: string, args: string[]): Promise<string> => tpm2(tcti, tool, args, { cwd: dir });
    const availableBefore = await transientAvailable(tcti);
    const fixed = parseProperties(await tpm2(tcti, 'getcap', ['properties-fixed']));
    assert.ok(availableBefore !== undefined && availableBefore >= fixed.get('TPM2_PT_HR_TRANSIENT_MIN')!, 'all transient slots free at the start');

    const started = Date.now();
    for (let i = 0; i < WORKFLOWS; i++) {
      const alg = CHILD_ALGS[i % CHILD_ALGS.length]!;
      await run('createprimary', ['-Q', '-C', 'o', '-c', 'p.ctx']);
      await run('create', ['-Q', '-G', alg, '-C', 'p.ctx', '-u', 'k.pub', '-r', 'k.priv']);
      await run('load', ['-Q', '-C', 'p.ctx', '-u', 'k.pub', '-r', 'k.priv', '-c', 'k.ctx']);
      await run('quote', ['-Q', '-c', 'k.ctx', '-l', 'sha256:0,16', '-q', (i + 1).toString(16).padStart(8, '0'), '-m', 'q.msg', '-s', 'q.sig', '-o', 'q.pcrs']);
      const quoted: Buffer = await readFile(path.join(dir, 'q.msg'));
      assert.equal(quoted.readUInt32BE(0), TPM_GENERATED_VALUE, `workflow ${i}: the ${alg} key signed a TPMS_ATTEST`);
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(`      ${WORKFLOWS} workflows in ${seconds.toFixed(1)} s`);

    assert.deepEqual(parseHandles(await tpm2(tcti, 'getcap', ['handles-transient'])), [], 'no transient object left for a new client');
    assert.equal(await transientAvailable(tcti), availableBefore, 'TPM_PT_HR_TRANSIENT_AVAIL back to its maximum');
  });
});
