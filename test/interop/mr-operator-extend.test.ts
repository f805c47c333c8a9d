/**
 * `mrtpm mr extend` while `mrtpm serve` runs: the operator's extend goes through the running
 * vTPM's control socket, in order with tpm2-tools' PCR extends, and the history still replays.
 * Also the socket itself: mode 0600, bad requests answered, an endless line closes only that
 * connection, and a socket left by a killed vTPM neither blocks `mr extend` nor the next start.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireInteropTools } from '../helpers/interop-prereqs.js';
import { assertMrtpmBuilt, MRTPM_MAIN, startMrtpm } from '../helpers/mrtpm.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';
import { tpm2 } from '../helpers/tpm2-tools.js';
import { mrControlRequest } from '../../src/server/mr-control.js';

const run = promisify(execFile);
const mrtpm = async (args: string[]): Promise<string> => (await run(process.execPath, [MRTPM_MAIN, ...args])).stdout;
const failure = async (args: string[]): Promise<{ code: number; stderr: string }> => {
  const err = await run(process.execPath, [MRTPM_MAIN, ...args]).then(() => assert.fail(`mrtpm ${args.join(' ')} succeeded`), (e: unknown) => e);
  return err as { code: number; stderr: string };
};
const sha384 = (...parts: Buffer[]): Buffer => parts.reduce((h, p) => h.update(p), createHash('sha384')).digest();

interface LogJson { events: { mrIndex: number; mrtpm?: { kind: string; register?: string; pcr?: number } }[] }
interface ReplayJson { registers: { register: string; match: boolean; live: string }[] }

/** Raw bytes to the control socket, for what the CLI never sends; ends after `answers` lines, or when the vTPM closes. */
function talk(path: string, payload: string, answers: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let text = '';
    const lines = (): string[] => text.split('\n').slice(0, -1);
    const socket = net.connect({ path }, () => socket.write(payload));
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (answers > 0 && lines().length >= answers) socket.end();
    });
    socket.on('close', () => resolve(lines()));
  });
}

describe('mrtpm mr extend through a running vTPM', function () {
  this.timeout(120_000);
  let state: string;

  before(async function () {
    await requireInteropTools(this);
    assertMrtpmBuilt();
  });
  beforeEach(async () => { state = await makeTempDir('mrtpm-opx'); });
  afterEach(async () => { await removeDir(state); });

  it('is logged between the PCR extends around it, and the registers still replay', async () => {
    const server = await startMrtpm({ protocol: 'mssim', stateDir: state, extraArgs: ['--mr', 'tdx-sim'] });
    try {
      const t = server.tcti;
      await tpm2(t, 'startup', ['-c']);
      const [a, op, b] = [randomBytes(48), randomBytes(48), randomBytes(48)];
      await tpm2(t, 'pcrextend', [`23:sha384=${a.toString('hex')}`]);
      const before = Buffer.from((JSON.parse(await mrtpm(['mr', 'read', '--json', '--state', state])) as { name: string; value: string }[]).find((r) => r.name === 'rtmr3')!.value, 'hex');
      const printed = await mrtpm(['mr', 'extend', 'rtmr3', op.toString('hex'), '--state', state]);
      assert.equal(printed.trim(), `rtmr3 ${sha384(before, op).toString('hex')}`);
      await tpm2(t, 'pcrextend', [`23:sha384=${b.toString('hex')}`]);

      const log = JSON.parse(await mrtpm(['mr', 'log', '--json', '--state', state])) as LogJson;
      const kinds = log.events.slice(1).map((e) => e.mrtpm?.kind === 'operator-extend' ? e.mrtpm.register : `${e.mrtpm?.kind}:${e.mrtpm?.pcr ?? ''}`);
      assert.deepEqual(kinds.slice(-3), ['extend:23', 'rtmr3', 'extend:23']);
      const replay = JSON.parse(await mrtpm(['mr', 'replay', '--json', '--state', state])) as ReplayJson;
      assert.ok(replay.registers.every((r) => r.match), JSON.stringify(replay.registers));
      assert.equal(replay.registers.find((r) => r.register === 'rtmr3')!.live, sha384(sha384(before, op), b).toString('hex'));

      const refused = await failure(['mr', 'extend', 'mrtd', op.toString('hex'), '--state', state]);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /running vTPM refused: .*mrtd is not an extendable register/);
      assert.match((await failure(['mr', 'extend', 'rtmr3', 'abcd', '--state', state])).stderr, /48-byte digests/);
    } finally {
      await server.stop();
    }
  });

  it('answers bad requests, closes only a connection that sends an endless line, and is 0600', async () => {
    const server = await startMrtpm({ protocol: 'mssim', stateDir: state, extraArgs: ['--mr', 'tdx-sim'] });
    const path = join(state, 'tdx-sim.log', 'control.sock');
    try {
      assert.equal(statSync(path).mode & 0o777, 0o600);
      const digest = randomBytes(48).toString('hex');
      const lines = await talk(path, `not json\n{"op":"reset"}\n{"op":"extend","register":"rtmr3","digest":"xyz"}\n{"op":"extend","register":"rtmr3","digest":"${digest}"}\n`, 4);
      const answers = lines.map((l) => JSON.parse(l) as { ok: boolean; error?: string });
      assert.deepEqual(answers.map((r) => r.ok), [false, false, false, true]);
      assert.match(answers[1]!.error!, /unknown request "reset"/);
      assert.deepEqual(await talk(path, 'x'.repeat(64 * 1024), 0), []);
      const after = await mrControlRequest(path, { op: 'extend', register: 'rtmr2', digest });
      assert.equal(after.ok, true);
    } finally {
      await server.stop();
    }
  });

  it('a socket left by a killed vTPM: mr extend opens the registers itself, and the next serve starts', async () => {
    const first = await startMrtpm({ protocol: 'mssim', stateDir: state, extraArgs: ['--mr', 'tdx-sim'] });
    await first.stop('SIGKILL');
    assert.ok(statSync(join(state, 'tdx-sim.log', 'control.sock')).isSocket());
    const digest = randomBytes(48);
    const printed = await mrtpm(['mr', 'extend', 'rtmr3', digest.toString('hex'), '--state', state]);
    assert.equal(printed.trim(), `rtmr3 ${sha384(Buffer.alloc(48), digest).toString('hex')}`);
    const second = await startMrtpm({ protocol: 'mssim', stateDir: state, extraArgs: ['--mr', 'tdx-sim'] });
    try {
      const again = await mrtpm(['mr', 'extend', 'rtmr3', digest.toString('hex'), '--state', state]);
      assert.equal(again.trim(), `rtmr3 ${sha384(sha384(Buffer.alloc(48), digest), digest).toString('hex')}`);
    } finally {
      await second.stop();
    }
  });
});
