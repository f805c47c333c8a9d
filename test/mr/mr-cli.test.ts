/**
 * The simulators' creation options through the CLI: --mr-init values are read-only afterwards,
 * --mr-reset (a TD reboot) re-creates the registers and starts a new MR log, --mr-hash picks the
 * realm hash; `mrtpm mr extend` is logged like any extend.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { MRTPM_MAIN } from '../helpers/mrtpm.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';

const run = promisify(execFile);
const mrtpm = async (args: string[]): Promise<string> => (await run(process.execPath, [MRTPM_MAIN, ...args])).stdout;
const registers = async (args: string[]): Promise<Record<string, string>> =>
  Object.fromEntries((JSON.parse(await mrtpm(['mr', 'read', '--json', ...args])) as { name: string; value: string }[]).map((r) => [r.name, r.value]));
const extendOf = (alg: string, old: Buffer, data: Buffer): string => createHash(alg).update(old).update(data).digest('hex');

describe('mrtpm mr with the simulators\' creation options', function () {
  this.timeout(30_000);
  let state: string;
  beforeEach(async () => { state = await makeTempDir('mrtpm-mrcli'); });
  afterEach(async () => { await removeDir(state); });

  it('tdx-sim: --mr-init sets MRTD at creation only; --mr-reset re-creates registers and log', async () => {
    const digest = createHash('sha384').update('operator').digest();
    const mrtdA = 'aa'.repeat(48);
    await mrtpm(['mr', 'extend', 'rtmr3', digest.toString('hex'), '--state', state, '--mr-init', `mrtd=${mrtdA}`]);
    let regs = await registers(['--state', state]);
    assert.equal(regs.mrtd, mrtdA);
    assert.equal(regs.rtmr3, extendOf('sha384', Buffer.alloc(48), digest));

    await assert.rejects(run(process.execPath, [MRTPM_MAIN, 'mr', 'extend', 'rtmr3', digest.toString('hex'), '--state', state, '--mr-init', `mrtd=${'bb'.repeat(48)}`]),
      (err: { code: number; stderr: string }) => err.code === 2 && /read-only after creation/.test(err.stderr));

    await mrtpm(['mr', 'extend', 'rtmr3', digest.toString('hex'), '--state', state, '--mr-reset', '--mr-init', `mrtd=${'bb'.repeat(48)}`]);
    regs = await registers(['--state', state]);
    assert.equal(regs.mrtd, 'bb'.repeat(48));
    assert.equal(regs.rtmr3, extendOf('sha384', Buffer.alloc(48), digest), 'a reset register, extended once');
    const log = JSON.parse(await mrtpm(['mr', 'log', '--json', '--state', state])) as { events: { mrtpm: { kind: string; register: string; values: { old: string; expected: string } } }[] };
    assert.deepEqual(log.events.map((e) => `${e.mrtpm.kind} ${e.mrtpm.register}`), ['operator-extend rtmr3']);
    assert.deepEqual(log.events[0]!.mrtpm.values, { old: '00'.repeat(48), expected: regs.rtmr3 }, 'the record says what rtmr3 held before and after, in hex');
    assert.match(await mrtpm(['mr', 'replay', '--state', state]), /^rtmr3 +matches/m);
  });

  it('cca-sim: --mr-hash sha512 gives 64-byte REMs; a wrong-size digest is refused', async () => {
    const digest = createHash('sha512').update('realm').digest();
    await mrtpm(['mr', 'extend', 'rem3', digest.toString('hex'), '--state', state, '--mr', 'cca-sim', '--mr-hash', 'sha512']);
    const regs = await registers(['--state', state, '--mr', 'cca-sim']);
    assert.deepEqual(Object.keys(regs), ['rim', 'rem0', 'rem1', 'rem2', 'rem3']);
    assert.equal(regs.rem3, extendOf('sha512', Buffer.alloc(64), digest));
    await assert.rejects(run(process.execPath, [MRTPM_MAIN, 'mr', 'extend', 'rem3', 'ab'.repeat(32), '--state', state, '--mr', 'cca-sim']),
      (err: { code: number; stderr: string }) => err.code === 2 && /EINVAL/.test(err.stderr));
  });

  it('two simulators in one state directory keep separate histories', async () => {
    await mrtpm(['mr', 'extend', 'rtmr3', 'cd'.repeat(48), '--state', state]);
    await mrtpm(['mr', 'extend', 'rem3', 'ef'.repeat(32), '--state', state, '--mr', 'cca-sim']);
    assert.match(await mrtpm(['mr', 'replay', '--state', state]), /^rtmr3 +matches/m);
    assert.match(await mrtpm(['mr', 'replay', '--state', state, '--mr', 'cca-sim']), /^rem3 +matches/m);
  });
});
