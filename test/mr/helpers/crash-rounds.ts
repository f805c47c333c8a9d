/**
 * The crash drill: a child `mrtpm serve --mr tdx-sim` gets a stream of mirrored PCR_Extends and
 * is killed with SIGKILL at a random moment; after each restart, replay(MR log) must equal the
 * register file and every extend the TPM acknowledged must be in the log.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { startMrtpm } from '../../helpers/mrtpm.js';
import { SwtpmDataClient } from '../../helpers/raw-client.js';
import { commands, responseCode, TPM_RC_SUCCESS } from '../../helpers/tpm-commands.js';
import { makeTempDir, removeDir } from '../../helpers/state-dirs.js';
import { Prng } from '../../helpers/prng.js';
import { readRegisterFile } from '../../../src/mr/register-file.js';
import { readMrEventLog } from '../../../src/mr/mr-event-log-file.js';
import { decodeMirrorEvent } from '../../../src/mr/mirror-events.js';
import { checkRegisters } from '../../../src/mr/register-check.js';

const PCRS = [8, 16, 23];
/** Commands sent back to back before reading answers, so the server is busy (not idle) when killed. */
const PIPELINE = 16;

export interface CrashReport {
  acknowledged: number;
  /** How recovery at each restart settled the intent the kill left (from the vTPM's warnings). */
  recoveries: Record<string, number>;
}

/** Checks the files a (running, idle) vTPM left: registers replay, every acknowledged digest is logged. */
function checkHistory(stateDir: string, acknowledged: readonly string[]): void {
  const snapshot = readRegisterFile(join(stateDir, 'tdx-sim.registers'));
  const { events } = readMrEventLog(join(stateDir, 'tdx-sim.log', 'events.log'));
  const checks = checkRegisters(snapshot, events);
  for (const c of checks) assert.ok(c.match, `${c.register} does not replay from the log`);
  const logged = new Set(events.filter((e) => decodeMirrorEvent(e.event)?.kind === 'extend').map((e) => Buffer.from(e.digests[0]!.digest).toString('hex')));
  const missing = acknowledged.filter((d) => !logged.has(d));
  assert.deepEqual(missing, [], 'acknowledged extends missing from the MR log');
}

export async function crashRounds(kills: number, seed: number): Promise<CrashReport> {
  const prng = new Prng(seed);
  const stateDir = await makeTempDir('mrtpm-crash');
  const acknowledged: string[] = [];
  const recoveries: Record<string, number> = {};
  let counter = 0;
  try {
    for (let round = 0; round <= kills; round++) {
      const server = await startMrtpm({ protocol: 'swtpm', stateDir, pcrBanks: ['sha256', 'sha384'], extraArgs: ['--mr', 'tdx-sim'] });
      checkHistory(stateDir, acknowledged);
      for (const m of server.child.stderr().matchAll(/"outcome":"(\w+)"/g)) recoveries[m[1]!] = (recoveries[m[1]!] ?? 0) + 1;
      if (round === kills) {
        await server.stop();
        break;
      }
      const client = await SwtpmDataClient.connect(server.port);
      // After a crash the TPM is as after a power loss: Startup(CLEAR), itself a logged marker.
      assert.equal(responseCode(await client.transmit(commands.startup())), TPM_RC_SUCCESS);
      const timer = setTimeout(() => server.child.process.kill('SIGKILL'), prng.int(2, 60));
      try {
        for (;;) {
          const digests = Array.from({ length: PIPELINE }, () => createHash('sha384').update(`extend ${seed} ${counter++}`).digest());
          client.send(Buffer.concat(digests.map((digest) => commands.pcrExtend(prng.pick(PCRS), [{ hash: 'sha384', digest }]))));
          for (const digest of digests) {
            assert.equal(responseCode(await client.receive()), TPM_RC_SUCCESS);
            acknowledged.push(digest.toString('hex'));
          }
        }
      } catch (err) {
        if (!server.child.hasExited() && !(err instanceof Error && /closed|ECONNRESET|EPIPE|end/i.test(err.message))) throw err;
      } finally {
        clearTimeout(timer);
        client.close();
      }
      await server.child.exited;
    }
  } finally {
    await removeDir(stateDir);
  }
  return { acknowledged: acknowledged.length, recoveries };
}
