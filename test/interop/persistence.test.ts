/**
 * State survives the process: tcti-cmd runs one `mrtpm stdio` per tool, and `serve` restarted
 * with SIGTERM keeps its PCRs; `--reset` is a power cycle (PCRs cleared, Startup needed again).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { requireInteropTools } from '../helpers/interop-prereqs.js';
import { assertMrtpmBuilt, mrtpmCmdTcti, startMrtpm, type MrtpmServer } from '../helpers/mrtpm.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';
import { parsePcrRead } from '../helpers/tool-output.js';
import { tpm2, tpm2Fails } from '../helpers/tpm2-tools.js';

async function pcr16(tcti: string): Promise<string> {
  const value = parsePcrRead(await tpm2(tcti, 'pcrread', ['sha256:16'])).get('sha256')?.get(16);
  assert.ok(value, 'pcrread printed no sha256 PCR 16');
  return value;
}

async function extend16(tcti: string): Promise<string> {
  const old = Buffer.from(await pcr16(tcti), 'hex');
  const digest = randomBytes(32);
  await tpm2(tcti, 'pcrextend', [`16:sha256=${digest.toString('hex')}`]);
  return createHash('sha256').update(old).update(digest).digest('hex');
}

const ZERO = '0'.repeat(64);

describe('persistence across processes', function () {
  this.timeout(60000);
  const dirs: string[] = [];
  const servers: MrtpmServer[] = [];

  before(async function () {
    await requireInteropTools(this);
    assertMrtpmBuilt();
  });

  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await Promise.all(dirs.map(removeDir));
  });

  async function stateDir(): Promise<string> {
    const dir = await makeTempDir('mrtpm-persist');
    dirs.push(dir);
    return dir;
  }

  async function serve(dir: string, reset = false): Promise<MrtpmServer> {
    const server = await startMrtpm({ protocol: 'swtpm', stateDir: dir, reset });
    servers.push(server);
    return server;
  }

  it('cmd TCTI: a fresh state needs Startup, then an extend in one process is read by the next', async () => {
    const tcti = mrtpmCmdTcti(await stateDir());
    const before = await tpm2Fails(tcti, 'pcrread', ['sha256:16']);
    assert.match(before.stderr, /0x100\b/, `pcrread before Startup must fail with TPM_RC_INITIALIZE:\n${before.stderr}`);
    await tpm2(tcti, 'startup', ['-c']);
    assert.equal(await pcr16(tcti), ZERO);
    const expected = await extend16(tcti);
    assert.equal(await pcr16(tcti), expected);
    const again = await extend16(tcti);
    assert.equal(await pcr16(tcti), again, 'a second extend chains on the persisted value');
  });

  it('serve: restarted after SIGTERM keeps PCRs and needs no Startup', async () => {
    const dir = await stateDir();
    const first = await serve(dir);
    await tpm2(first.tcti, 'startup', ['-c']);
    const expected = await extend16(first.tcti);
    const status = await first.stop('SIGTERM');
    assert.equal(status.code, 0, `serve exits 0 on SIGTERM (got ${JSON.stringify(status)}); stderr:\n${first.child.stderr()}`);

    const second = await serve(dir);
    assert.equal(await pcr16(second.tcti), expected, 'PCR 16 survived the restart');
    await second.stop('SIGTERM');
  });

  it('serve --reset: PCRs back to zero and Startup needed again', async () => {
    const dir = await stateDir();
    const first = await serve(dir);
    await tpm2(first.tcti, 'startup', ['-c']);
    await extend16(first.tcti);
    await first.stop('SIGTERM');

    const second = await serve(dir, true);
    const before = await tpm2Fails(second.tcti, 'pcrread', ['sha256:16']);
    assert.match(before.stderr, /0x100\b/, `pcrread after --reset must fail with TPM_RC_INITIALIZE:\n${before.stderr}`);
    await tpm2(second.tcti, 'startup', ['-c']);
    assert.equal(await pcr16(second.tcti), ZERO);
    await second.stop('SIGTERM');
  });

  it('cmd TCTI and serve share one state directory (one after the other)', async () => {
    const dir = await stateDir();
    const tcti = mrtpmCmdTcti(dir);
    await tpm2(tcti, 'startup', ['-c']);
    const expected = await extend16(tcti);
    const server = await serve(dir);
    assert.equal(await pcr16(server.tcti), expected, 'serve sees what the stdio processes left');
    const next = await extend16(server.tcti);
    await server.stop('SIGTERM');
    assert.equal(await pcr16(tcti), next, 'stdio sees what serve left');
  });
});
