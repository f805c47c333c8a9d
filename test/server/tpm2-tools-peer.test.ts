import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createLogger } from '../../src/server/logger.js';
import { MssimServer } from '../../src/server/mssim-server.js';
import { SwtpmServer } from '../../src/server/swtpm-server.js';
import { FakeDevice } from './fake-device.js';
import { requireInteropTools } from '../helpers/interop-prereqs.js';

const run = promisify(execFile);
/** TPM2_Startup success: 80 01 | 0000000a | TPM_RC_SUCCESS */
const STARTUP_OK = Buffer.from('80010000000a00000000', 'hex');
/** TPM2_Startup(TPM_SU_CLEAR) as tpm2_startup -c sends it. */
const STARTUP_CLEAR = '80010000000c000001440000';

async function startup(tcti: string): Promise<void> {
  await run('tpm2_startup', ['-c', '-T', tcti], { timeout: 10_000 });
}

/** The real tpm2-tss TCTIs (libtss2 3.2.1) against our servers, with a fake TPM behind them. */
describe('server transports against tpm2_startup', function () {
  this.timeout(20_000);

  before(async function () {
    await requireInteropTools(this);
  });

  it('mssim: tcti-mssim powers on, turns NV on and sends Startup', async () => {
    const device = new FakeDevice();
    device.poweredOn = false;
    device.respond = () => STARTUP_OK;
    const server = new MssimServer({ device, endpoint: { port: 0 } });
    const { tpm } = await server.start();
    try {
      assert.ok(tpm.kind === 'tcp');
      await startup(`mssim:host=127.0.0.1,port=${tpm.port}`);
      assert.deepEqual(device.signals, ['powerOn', 'nvOn']);
      assert.deepEqual(device.executed.map((e) => [e.command.toString('hex'), e.locality]), [[STARTUP_CLEAR, 0]]);
      assert.deepEqual(device.opened, [1]);
    } finally {
      await server.close();
    }
    assert.deepEqual(device.closed, [1]);
  });

  it('swtpm: tcti-swtpm probes the data port, sets locality 0 and sends Startup', async () => {
    const device = new FakeDevice();
    device.respond = () => STARTUP_OK;
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', sink: { write: (l: string) => lines.push(l) } });
    const server = new SwtpmServer({ device, endpoint: { port: 0 }, logger });
    const { data } = await server.start();
    try {
      assert.ok(data?.kind === 'tcp');
      const tcti = `swtpm:host=127.0.0.1,port=${data.port}`;
      await startup(tcti);
      const events = lines.map((l) => JSON.parse(l) as { msg: string; command?: string; reply?: string });
      const probe = events.findIndex((e) => e.msg === 'swtpm empty data connection: new client context');
      const locality = events.findIndex((e) => e.command === 'SET_LOCALITY');
      assert.ok(probe >= 0, 'empty sanity-check connection seen');
      assert.ok(locality > probe, 'SET_LOCALITY after the sanity check');
      assert.equal(events[locality]!.reply, '00000000');
      assert.deepEqual(device.executed.map((e) => [e.command.toString('hex'), e.locality, e.client]), [[STARTUP_CLEAR, 0, 1]]);
      // A second tool run is a new TCTI context: its sanity check ends client 1.
      await startup(tcti);
      assert.deepEqual(device.closed, [1]);
      assert.deepEqual(device.executed.map((e) => e.client), [1, 2]);
    } finally {
      await server.close();
    }
    assert.deepEqual(device.closed, [1, 2]);
  });

  it('cmd: tcti-cmd runs the stdio server as a child and ends it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mrtpm-stdio-'));
    try {
      const record = join(dir, 'commands');
      const child = join(dirname(fileURLToPath(import.meta.url)), 'stdio-fake-tpm.js');
      await startup(`cmd:exec ${process.execPath} ${child} ${record}`);
      const lines = (await readFile(record, 'utf8')).trim().split('\n');
      assert.equal(lines[0], STARTUP_CLEAR);
      // tcti-cmd's finalize sends SIGTERM; the child's handler closes the session.
      assert.match(lines[1] ?? '', /^end (closed|eof)$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
