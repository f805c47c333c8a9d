/**
 * Dictionary-attack protection and the clock commands with real tpm2-tools 5.4 through the mssim
 * and cmd TCTIs: tpm2_dictionarylockout --setup-parameters / --clear-lockout, TPM_PT_LOCKOUT_COUNTER
 * and TPMA_PERMANENT.inLockout in tpm2_getcap moving with wrong passwords on a DA-protected sealed
 * object, TPM_RC_LOCKOUT at maxTries, noDA objects exempt, the lockout hierarchy's rule, the
 * failure a power cycle without Shutdown costs, healing with time (mssim), tpm2_setclock,
 * tpm2_clockrateadjust and tpm2_readclock; and the same sequence against swtpm, code for code.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeInterop } from '../helpers/interop-suite.js';
import { mrtpmCmdTcti, startMrtpm, startPowerCyclableMrtpm } from '../helpers/mrtpm.js';
import { startSwtpm } from '../helpers/swtpm.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';
import { blockFields, parseFlatYaml, parseProperties } from '../helpers/tool-output.js';
import { runTool, tpm2, tpm2Fails, type ToolResult } from '../helpers/tpm2-tools.js';

interface Target {
  tcti: string;
  dir: string;
  /** Power cycle (volatile state lost) and Startup(CLEAR); tpm2_shutdown first when orderly. */
  powerCycle(orderly: boolean): Promise<void>;
  /** Whether TPM time runs between tool runs (a serving process) or only while one runs (tcti-cmd). */
  timeRunsBetweenTools: boolean;
}
type Case = [name: string, run: (t: Target) => Promise<void>];

const RC = { authFail: '0x98e', badAuth: '0x9a2', lockout: '0x921', valueParam1: '0x1c4' } as const;
const SEALED_NO_DA = 'fixedtpm|fixedparent|userwithauth|noda';

const file = (t: Target, name: string): string => path.join(t.dir, name);
const tool = (t: Target, name: string, args: string[] = []): Promise<string> => tpm2(t.tcti, name, args, { cwd: t.dir });
const fails = (t: Target, name: string, args: string[]): Promise<ToolResult> => tpm2Fails(t.tcti, name, args, { cwd: t.dir });

/** The TPM response code a failing tool reports (libtss2's "ErrorCode (0x...)"). */
const rcIn = (result: ToolResult): string => /ErrorCode \((0x[0-9a-f]+)\)/i.exec(result.stderr)?.[1]?.replace(/^0x0+/, '0x') ?? `exit ${result.code}`;
const failsWith = async (t: Target, name: string, args: string[], rc: string, why: string): Promise<void> =>
  assert.equal(rcIn(await fails(t, name, args)), rc, why);

async function daProperties(t: Target): Promise<{ counter: number; maxTries: number; interval: number; recovery: number; inLockout: string }> {
  const out = await tool(t, 'getcap', ['properties-variable']);
  const p = parseProperties(out);
  return {
    counter: p.get('TPM2_PT_LOCKOUT_COUNTER')!,
    maxTries: p.get('TPM2_PT_MAX_AUTH_FAIL')!,
    interval: p.get('TPM2_PT_LOCKOUT_INTERVAL')!,
    recovery: p.get('TPM2_PT_LOCKOUT_RECOVERY')!,
    inLockout: blockFields(out, 'TPM2_PT_PERMANENT').get('inLockout')!,
  };
}
const counter = async (t: Target): Promise<number> => (await daProperties(t)).counter;

/** A sealed object under a fresh primary with authValue `pw` (DA-protected unless attributes say noda), loaded as name.ctx. */
async function sealedObject(t: Target, name: string, pw: string, attributes?: string): Promise<string> {
  await writeFile(file(t, 'secret'), 'sealed secret');
  await tool(t, 'createprimary', ['-c', 'primary.ctx', '-Q']);
  await tool(t, 'create', ['-C', 'primary.ctx', '-p', pw, '-i', 'secret', '-u', `${name}.pub`, '-r', `${name}.priv`,
    ...(attributes ? ['-a', attributes] : []), '-Q']);
  await tool(t, 'load', ['-C', 'primary.ctx', '-u', `${name}.pub`, '-r', `${name}.priv`, '-c', `${name}.ctx`, '-Q']);
  return `${name}.ctx`;
}
const clockOf = async (t: Target): Promise<bigint> => BigInt(parseFlatYaml(await tool(t, 'readclock')).get('clock')!);

const cases: Case[] = [
  ['tpm2_startup -c', async (t) => {
    await tool(t, 'startup', ['-c']);
  }],
  ['tpm2_getcap properties-variable reports the manufacture DA parameters: 0 failures, 3 tries, 1000 s, 1000 s', async (t) => {
    assert.deepEqual(await daProperties(t), { counter: 0, maxTries: 3, interval: 1000, recovery: 1000, inLockout: '0' });
  }],
  ['tpm2_dictionarylockout --setup-parameters sets maxTries, recoveryTime and lockoutRecovery', async (t) => {
    await tool(t, 'dictionarylockout', ['--setup-parameters', '--max-tries=4', '--recovery-time=900', '--lockout-recovery-time=800']);
    assert.deepEqual(await daProperties(t), { counter: 0, maxTries: 4, interval: 900, recovery: 800, inLockout: '0' });
  }],
  ['wrong passwords on a DA-protected key move TPM_PT_LOCKOUT_COUNTER; at maxTries TPM_RC_LOCKOUT even for the right one', async (t) => {
    // The noDA key for the next case is made now: in lockout its (DA-protected) parent cannot be used.
    await sealedObject(t, 'noda', 'nodapw', SEALED_NO_DA);
    const key = await sealedObject(t, 'da', 'goodpw');
    assert.equal(await tool(t, 'unseal', ['-c', key, '-p', 'goodpw']), 'sealed secret');
    await failsWith(t, 'unseal', ['-c', key, '-p', 'bad'], RC.authFail, 'first failure');
    assert.equal(await counter(t), 1);
    for (let i = 2; i <= 4; i++) await failsWith(t, 'unseal', ['-c', key, '-p', 'bad'], RC.authFail, `failure ${i}`);
    assert.deepEqual(await daProperties(t), { counter: 4, maxTries: 4, interval: 900, recovery: 800, inLockout: '1' });
    await failsWith(t, 'unseal', ['-c', key, '-p', 'goodpw'], RC.lockout, 'in lockout the right password is refused too');
    assert.equal(await counter(t), 4, 'nothing counted in lockout');
  }],
  ['in lockout a noDA key still works, its wrong password is TPM_RC_BAD_AUTH and not counted; the owner hierarchy is exempt', async (t) => {
    const key = 'noda.ctx';
    assert.equal(await tool(t, 'unseal', ['-c', key, '-p', 'nodapw']), 'sealed secret');
    await failsWith(t, 'create', ['-C', 'primary.ctx', '-i', 'secret', '-u', 'y.pub', '-r', 'y.priv'], RC.lockout, 'the parent is DA-protected');
    await failsWith(t, 'unseal', ['-c', key, '-p', 'bad'], RC.badAuth, 'noDA: BAD_AUTH on session 1');
    await failsWith(t, 'createprimary', ['-C', 'o', '-P', 'bad', '-c', 'x.ctx'], RC.badAuth, 'owner hierarchy');
    assert.equal(await counter(t), 4);
  }],
  ['tpm2_dictionarylockout --clear-lockout ends the lockout', async (t) => {
    await tool(t, 'dictionarylockout', ['--clear-lockout']);
    assert.equal((await daProperties(t)).inLockout, '0');
    assert.equal(await counter(t), 0);
    assert.equal(await tool(t, 'unseal', ['-c', 'da.ctx', '-p', 'goodpw']), 'sealed secret');
  }],
  ['a power cycle without tpm2_shutdown after a DA-protected authorization costs one failure; an orderly one costs none', async (t) => {
    await t.powerCycle(false);
    assert.equal(await counter(t), 1, 'charged, as libtpms (USE_DA_USED)');
    await sealedObject(t, 'da', 'goodpw');
    await t.powerCycle(true);
    assert.equal(await counter(t), 1);
    await tool(t, 'dictionarylockout', ['--clear-lockout']);
  }],
  ['a wrong lockout password disables lockoutAuth (TPM_RC_LOCKOUT); with lockoutRecovery 0 until the next Startup', async (t) => {
    await tool(t, 'changeauth', ['-c', 'lockout', 'lockpw']);
    await tool(t, 'dictionarylockout', ['-s', '-n', '4', '-t', '900', '-l', '0', '-p', 'lockpw']);
    await failsWith(t, 'dictionarylockout', ['--clear-lockout', '-p', 'wrong'], RC.authFail, 'wrong lockoutAuth');
    await failsWith(t, 'dictionarylockout', ['--clear-lockout', '-p', 'lockpw'], RC.lockout, 'lockoutAuth disabled');
    assert.equal(await counter(t), 0, 'lockout failures do not count in failedTries');
    await t.powerCycle(true);
    await tool(t, 'dictionarylockout', ['--clear-lockout', '-p', 'lockpw']);
    await tool(t, 'dictionarylockout', ['-s', '-n', '4', '-t', '900', '-l', '800', '-p', 'lockpw']);
    await tool(t, 'changeauth', ['-c', 'lockout', '-p', 'lockpw']);
  }],
  ['failedTries heals with TPM time: one per recoveryTime seconds; with tcti-cmd TPM time runs only while a tool runs', async (t) => {
    await tool(t, 'dictionarylockout', ['-s', '-n', '4', '-t', '3', '-l', '800']);
    const key = await sealedObject(t, 'da', 'goodpw');
    await failsWith(t, 'unseal', ['-c', key, '-p', 'bad'], RC.authFail, 'failure');
    assert.equal(await counter(t), 1);
    if (t.timeRunsBetweenTools) {
      let left = 1;
      for (let waited = 0; left !== 0 && waited < 12000; waited += 500) {
        await sleep(500);
        left = await counter(t);
      }
      assert.equal(left, 0, 'healed without DictionaryAttackLockReset');
    } else {
      await sleep(3500);
      assert.equal(await counter(t), 1, 'no process ran the TPM while the host clock moved on');
      await tool(t, 'dictionarylockout', ['--clear-lockout']);
    }
    await tool(t, 'dictionarylockout', ['-s', '-n', '4', '-t', '900', '-l', '800']);
  }],
  ['tpm2_setclock moves Clock forward (tpm2_readclock shows it), refuses going back (TPM_RC_VALUE, parameter 1)', async (t) => {
    const before = await clockOf(t);
    const target = before + 1_000_000_000n;
    await tool(t, 'setclock', [String(target)]);
    const after = await clockOf(t);
    assert.ok(after >= target && after < target + 60_000n, `clock ${after} after setting ${target}`);
    await failsWith(t, 'setclock', [String(target - 1n)], RC.valueParam1, 'backwards');
    await failsWith(t, 'setclock', ['0xFFFF000000000001'], RC.valueParam1, 'past 0xFFFF000000000000');
    await tool(t, 'setclock', ['-c', 'platform', String(after + 1_000_000n)]);
    assert.ok((await clockOf(t)) >= after + 1_000_000n);
  }],
  ['tpm2_clockrateadjust accepts every adjuster, with owner and platform authorization; Clock keeps moving forward', async (t) => {
    const before = await clockOf(t);
    for (const adjuster of ['s', 'ss', 'sss', 'f', 'ff', 'fff']) await tool(t, 'clockrateadjust', [adjuster]);
    // TPM_CLOCK_NO_CHANGE: an empty adjuster (tpm2-tools 5.4 segfaults when the argument is missing).
    await tool(t, 'clockrateadjust', ['']);
    await tool(t, 'clockrateadjust', ['-c', 'platform', 'fff']);
    assert.ok((await clockOf(t)) >= before);
  }],
];

function describeWith(label: string, setup: () => Promise<{ target: Target; teardown(): Promise<void> }>): void {
  describeInterop(`Dictionary-attack protection and clock via ${label}`, setup, (target) => {
    for (const [name, run] of cases) it(name, () => run(target()));
  }, 120000);
}

describeWith('mssim TCTI (mrtpm serve)', async () => {
  const stateDir = await makeTempDir('mrtpm-da-state');
  const dir = await makeTempDir('mrtpm-da');
  const server = await startPowerCyclableMrtpm(stateDir);
  const target: Target = {
    tcti: server.tcti, dir, timeRunsBetweenTools: true,
    powerCycle: async (orderly) => {
      if (orderly) await tool(target, 'shutdown', ['-c']);
      target.tcti = await server.powerCycle();
      await tool(target, 'startup', ['-c']);
    },
  };
  return { target, teardown: async () => { await server.stop(); await removeDir(dir); await removeDir(stateDir); } };
});

describeWith('cmd TCTI (mrtpm stdio, one process per tool)', async () => {
  const stateDir = await makeTempDir('mrtpm-da-state');
  const dir = await makeTempDir('mrtpm-da');
  const target: Target = {
    tcti: mrtpmCmdTcti(stateDir), dir, timeRunsBetweenTools: false,
    powerCycle: async (orderly) => {
      if (orderly) await tool(target, 'shutdown', ['-c']);
      await tpm2(mrtpmCmdTcti(stateDir, { reset: true }), 'startup', ['-c'], { cwd: dir });
    },
  };
  return { target, teardown: async () => { await removeDir(dir); await removeDir(stateDir); } };
});

/** One step of the differential sequence: a tool run, and whether it leaves transient objects to flush (swtpm has no resource manager). */
type Step = [tool: string, args: string[], loadsObjects?: boolean];
const DIFFERENTIAL: Step[] = [
  ['createprimary', ['-c', 'primary.ctx', '-Q'], true],
  ['create', ['-C', 'primary.ctx', '-p', 'goodpw', '-i', 'secret', '-u', 'k.pub', '-r', 'k.priv', '-Q'], true],
  ['load', ['-C', 'primary.ctx', '-u', 'k.pub', '-r', 'k.priv', '-c', 'k.ctx', '-Q'], true],
  ...Array.from({ length: 4 }, (): Step => ['unseal', ['-c', 'k.ctx', '-p', 'bad'], true]),
  ['unseal', ['-c', 'k.ctx', '-p', 'goodpw'], true],
  ['dictionarylockout', ['--clear-lockout']],
  ['unseal', ['-c', 'k.ctx', '-p', 'goodpw'], true],
  ['dictionarylockout', ['-s', '-n', '2', '-t', '900', '-l', '0']],
  ['unseal', ['-c', 'k.ctx', '-p', 'bad'], true],
  ['unseal', ['-c', 'k.ctx', '-p', 'bad'], true],
  ['unseal', ['-c', 'k.ctx', '-p', 'bad'], true],
  ['changeauth', ['-c', 'lockout', 'lockpw']],
  ['dictionarylockout', ['--clear-lockout', '-p', 'wrong']],
  ['dictionarylockout', ['--clear-lockout', '-p', 'lockpw']],
  ['dictionarylockout', ['-s', '-n', '5', '-t', '900', '-l', '0', '-p', 'lockpw']],
  ['setclock', ['5']],
  ['setclock', ['0xFFFF000000000001']],
  ['clockrateadjust', ['fff']],
  ['clockrateadjust', ['-c', 'platform', 'sss']],
];

/** Runs the sequence; per step the response code (or 0) and, after it, the DA properties as tpm2_getcap prints them. */
async function runSequence(tcti: string, dir: string): Promise<string[]> {
  await writeFile(path.join(dir, 'secret'), 'sealed secret');
  const trace: string[] = [];
  for (const [name, args, loadsObjects] of DIFFERENTIAL) {
    const result = await runTool(tcti, name, args, { cwd: dir });
    if (loadsObjects) await tpm2(tcti, 'flushcontext', ['-t'], { cwd: dir });
    const props = parseProperties(await tpm2(tcti, 'getcap', ['properties-variable'], { cwd: dir }));
    const da = ['LOCKOUT_COUNTER', 'MAX_AUTH_FAIL', 'LOCKOUT_INTERVAL', 'LOCKOUT_RECOVERY'].map((p) => props.get(`TPM2_PT_${p}`));
    trace.push(`tpm2_${name} ${args.join(' ')} -> ${result.code === 0 ? 'ok' : rcIn(result)}; DA ${da.join('/')}`);
  }
  return trace;
}

describeInterop('Dictionary attack: the same tpm2-tools sequence on swtpm and mrtpm gives the same codes and counters', async () => {
  const dirs = [await makeTempDir('da-diff-swtpm'), await makeTempDir('da-diff-mrtpm')];
  const servers = [await startSwtpm(), await startMrtpm({ protocol: 'mssim' })];
  return {
    target: { servers, dirs },
    teardown: async () => {
      for (const s of servers) await s.stop();
      for (const d of dirs) await removeDir(d);
    },
  };
}, (target) => {
  it('wrong passwords, lockout, clear-lockout, parameters, lockout hierarchy, setclock and clockrateadjust errors', async () => {
    const { servers, dirs } = target();
    await tpm2(servers[1]!.tcti, 'startup', ['-c'], { cwd: dirs[1]! });
    const [swtpm, mrtpm] = [await runSequence(servers[0]!.tcti, dirs[0]!), await runSequence(servers[1]!.tcti, dirs[1]!)];
    assert.deepEqual(mrtpm, swtpm);
    assert.match(mrtpm[3]!, new RegExp(`-> ${RC.authFail}; DA 1/3/1000/1000$`), 'the first wrong password');
    assert.match(mrtpm[6]!, new RegExp(`-> ${RC.lockout}; DA 3/3/1000/1000$`), 'the fourth: in lockout');
    assert.match(mrtpm[17]!, new RegExp(`-> ${RC.lockout}; DA 2/2/900/0$`), 'lockoutAuth disabled');
  });
}, 180000);
