/**
 * A log append that fails (here: the file-size limit, so writes come up short as on a full disk)
 * fails the PCR_Extend with TPM_RC_FAILURE and undoes itself: no torn record stays in the log, the
 * register does not move, the PCR does not move, and the vTPM keeps serving. A real `mrtpm serve`
 * under `ulimit -f`; Node ignores SIGXFSZ, so writes past the limit fail with EFBIG.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MRTPM_MAIN } from '../helpers/mrtpm.js';
import { LOOPBACK } from '../helpers/ports.js';
import { spawnServingOnFreePorts, stopChild } from '../helpers/processes.js';
import { SwtpmDataClient } from '../helpers/raw-client.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';
import { commands, parsePcrRead, responseCode, TPM_RC_SUCCESS } from '../helpers/tpm-commands.js';
import { readMrEventLog } from '../../src/mr/mr-event-log-file.js';
import { readRegisterFile } from '../../src/mr/register-file.js';
import { checkRegisters } from '../../src/mr/register-check.js';
import { decodeMirrorEvent } from '../../src/mr/mirror-events.js';

const run = promisify(execFile);
const TPM_RC_FAILURE = 0x101;
/**
 * `ulimit -f` counts 1024-byte blocks and limits each file: room for the state journal (zero-filled
 * ahead in 256 KiB steps) and some thousand MR log records.
 */
const LIMIT_BLOCKS = 320;
const MAX_EXTENDS = 5000;

describe('mr/mirror: an MR log that cannot grow', function () {
  this.timeout(60_000);
  let state: string;
  beforeEach(async () => { state = await makeTempDir('mrtpm-logfull'); });
  afterEach(async () => { await removeDir(state); });

  it('fails the extend with TPM_RC_FAILURE and leaves log, register and PCR as they were; the vTPM keeps serving', async () => {
    const serve = (port: number): string[] => [MRTPM_MAIN, 'serve', '--state', state, '--protocol', 'swtpm', '--bind', LOOPBACK, '--port', String(port), '--ctrl-port', String(port + 1), '--log-level', 'error'];
    const { child, port } = await spawnServingOnFreePorts('mrtpm serve (ulimit -f)', 'bash', (p) => ['-c', `ulimit -f ${LIMIT_BLOCKS} && exec "$0" "$@"`, process.execPath, ...serve(p)]);
    const logPath = join(state, 'tdx-sim.log', 'events.log');
    const client = await SwtpmDataClient.connect(port);
    try {
      assert.equal(responseCode(await client.transmit(commands.startup())), TPM_RC_SUCCESS);
      let pcr = Buffer.alloc(48);
      let acknowledged = 0;
      let failed = 0;
      for (let i = 0; i < MAX_EXTENDS && failed < 2; i++) {
        const digest = createHash('sha384').update(`extend ${i}`).digest();
        const sizeBefore = statSync(logPath).size;
        const code = responseCode(await client.transmit(commands.pcrExtend(16, [{ hash: 'sha384', digest }])));
        if (code === TPM_RC_SUCCESS) {
          acknowledged++;
          pcr = createHash('sha384').update(pcr).update(digest).digest();
          continue;
        }
        assert.equal(code, TPM_RC_FAILURE);
        assert.equal(statSync(logPath).size, sizeBefore, 'the failed append was cut off again');
        failed++;
      }
      assert.equal(failed, 2, 'the log reached the size limit');
      assert.ok(acknowledged > 5);
      const read = parsePcrRead(await client.transmit(commands.pcrRead([{ hash: 'sha384', pcrs: [16] }])));
      assert.deepEqual(read.digests[0], pcr, 'PCR 16 holds exactly the acknowledged extends');

      const log = readMrEventLog(logPath);
      assert.equal(log.validLength, statSync(logPath).size, 'no torn record');
      assert.equal(log.events.filter((e) => decodeMirrorEvent(e.event)?.kind === 'extend').length, acknowledged);
      const checks = checkRegisters(readRegisterFile(join(state, 'tdx-sim.registers')), log.events);
      assert.ok(checks.every((c) => c.match), 'the registers replay from the log: the failed extends moved none');
    } finally {
      client.close();
      await stopChild(child);
    }
    const replay = await run(process.execPath, [MRTPM_MAIN, 'mr', 'replay', '--state', state]);
    assert.match(replay.stdout, /^rtmr3 +matches/m);
  });
});
