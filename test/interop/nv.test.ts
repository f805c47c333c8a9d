/**
 * NV storage with real tpm2-tools 5.4 through the mssim and cmd TCTIs: define (ordinary, counter,
 * bits, extend; with auth and with policy), write and read back (offsets, chunking past
 * NV_BUFFER_MAX), increment, extend, setbits, locks, readpublic, changeauth, undefine, getcap,
 * and the data surviving a restart of mrtpm.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describeInterop, type InteropFixture } from '../helpers/interop-suite.js';
import { mrtpmCmdTcti, startMrtpm } from '../helpers/mrtpm.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';
import { tpm2, tpm2Fails } from '../helpers/tpm2-tools.js';

interface Target {
  tcti: string;
  dir: string;
  /** Stops and starts mrtpm on the same state (the cmd TCTI starts a process per tool anyway). */
  restart(): Promise<void>;
}
type Case = [name: string, run: (t: Target) => Promise<void>];

const file = (t: Target, name: string): string => path.join(t.dir, name);
const tool = (t: Target, name: string, args: string[]): Promise<string> => tpm2(t.tcti, name, args, { cwd: t.dir });
const fails = (t: Target, name: string, args: string[]) => tpm2Fails(t.tcti, name, args, { cwd: t.dir });
const OWNER_RW = 'ownerread|ownerwrite';

const cases: Case[] = [
  ['tpm2_startup -c', async (t) => {
    await tool(t, 'startup', ['-c']);
  }],
  ['ordinary index with an auth value: write past NV_BUFFER_MAX (chunked by the tool), read back whole and at an offset', async (t) => {
    const data = randomBytes(2000);
    await writeFile(file(t, 'big'), data);
    await tool(t, 'nvdefine', ['0x1500010', '-C', 'o', '-s', '2000', '-a', 'authread|authwrite', '-p', 'nvpass']);
    await tool(t, 'nvwrite', ['0x1500010', '-P', 'nvpass', '-i', 'big']);
    await tool(t, 'nvread', ['0x1500010', '-P', 'nvpass', '-o', 'back']);
    assert.deepEqual(await readFile(file(t, 'back')), data);
    await tool(t, 'nvread', ['0x1500010', '-P', 'nvpass', '-s', '10', '--offset', '1500', '-o', 'part']);
    assert.deepEqual(await readFile(file(t, 'part')), data.subarray(1500, 1510));
    const bad = await fails(t, 'nvread', ['0x1500010', '-P', 'wrong', '-s', '1']);
    assert.match(bad.stderr, /0x98e\b/i, 'TPM_RC_AUTH_FAIL, session 1');
    await tool(t, 'nvundefine', ['0x1500010', '-C', 'o']);
  }],
  ['counter, bits and extend indices', async (t) => {
    await tool(t, 'nvdefine', ['0x1500020', '-C', 'o', '-s', '8', '-a', `${OWNER_RW}|nt=counter`]);
    await tool(t, 'nvincrement', ['0x1500020', '-C', 'o']);
    await tool(t, 'nvincrement', ['0x1500020', '-C', 'o']);
    await tool(t, 'nvread', ['0x1500020', '-C', 'o', '-o', 'ctr']);
    assert.ok((await readFile(file(t, 'ctr'))).readBigUInt64BE() >= 2n);
    await tool(t, 'nvdefine', ['0x1500021', '-C', 'o', '-s', '8', '-a', `${OWNER_RW}|nt=bits`]);
    await tool(t, 'nvsetbits', ['0x1500021', '-C', 'o', '-i', '0x5']);
    await tool(t, 'nvsetbits', ['0x1500021', '-C', 'o', '-i', '0x100']);
    await tool(t, 'nvread', ['0x1500021', '-C', 'o', '-o', 'bits']);
    assert.equal((await readFile(file(t, 'bits'))).readBigUInt64BE(), 0x105n);
    await tool(t, 'nvdefine', ['0x1500022', '-C', 'o', '-g', 'sha256', '-a', `${OWNER_RW}|nt=extend`]);
    await writeFile(file(t, 'm'), 'measure');
    await tool(t, 'nvextend', ['0x1500022', '-C', 'o', '-i', 'm']);
    await tool(t, 'nvread', ['0x1500022', '-C', 'o', '-o', 'ext']);
    assert.deepEqual(await readFile(file(t, 'ext')), createHash('sha256').update(Buffer.alloc(32)).update('measure').digest());
    for (const h of ['0x1500020', '0x1500021', '0x1500022']) await tool(t, 'nvundefine', [h, '-C', 'o']);
  }],
  ['write lock, global lock and read lock; readpublic prints the Name; getcap lists the index', async (t) => {
    await tool(t, 'nvdefine', ['0x1500030', '-C', 'o', '-s', '4', '-a', `${OWNER_RW}|write_stclear|read_stclear|globallock`]);
    await writeFile(file(t, 'd'), 'abcd');
    await tool(t, 'nvwrite', ['0x1500030', '-C', 'o', '-i', 'd']);
    const pub = await tool(t, 'nvreadpublic', ['0x1500030']);
    assert.match(pub, /name: 000b[0-9a-f]{64}/);
    assert.match(await tool(t, 'getcap', ['handles-nv-index']), /0x1500030/);
    await tool(t, 'nvwritelock', ['0x1500030', '-C', 'o']);
    assert.match((await fails(t, 'nvwrite', ['0x1500030', '-C', 'o', '-i', 'd'])).stderr, /0x148\b/, 'TPM_RC_NV_LOCKED');
    await tool(t, 'nvwritelock', ['--global', '-C', 'o']);
    await tool(t, 'nvreadlock', ['0x1500030', '-C', 'o']);
    assert.match((await fails(t, 'nvread', ['0x1500030', '-C', 'o'])).stderr, /0x148\b/, 'TPM_RC_NV_LOCKED');
    assert.match(await tool(t, 'nvreadpublic', ['0x1500030']), /writelocked/);
    await tool(t, 'nvundefine', ['0x1500030', '-C', 'o']);
  }],
  ['index with a policy (PolicyCommandCode NV_ChangeAuth): changeauth through a policy session, then the new auth reads', async (t) => {
    await tool(t, 'startauthsession', ['-S', 'trial.ctx']);
    await tool(t, 'policycommandcode', ['-S', 'trial.ctx', '-L', 'cc.policy', 'TPM2_CC_NV_ChangeAuth']);
    await tool(t, 'flushcontext', ['trial.ctx']);
    await tool(t, 'nvdefine', ['0x1500040', '-C', 'o', '-s', '4', '-a', 'authread|authwrite', '-p', 'old', '-L', 'cc.policy']);
    await tool(t, 'startauthsession', ['-S', 'pol.ctx', '--policy-session']);
    await tool(t, 'policycommandcode', ['-S', 'pol.ctx', 'TPM2_CC_NV_ChangeAuth']);
    await tool(t, 'changeauth', ['-c', '0x1500040', '-p', 'session:pol.ctx', 'new']);
    await tool(t, 'flushcontext', ['pol.ctx']);
    await writeFile(file(t, 'd'), 'wxyz');
    await tool(t, 'nvwrite', ['0x1500040', '-P', 'new', '-i', 'd']);
    assert.match((await fails(t, 'nvwrite', ['0x1500040', '-P', 'old', '-i', 'd'])).stderr, /0x98e\b/i);
    await tool(t, 'nvundefine', ['0x1500040', '-C', 'o']);
  }],
  ['NV data survives a restart of mrtpm', async (t) => {
    await tool(t, 'nvdefine', ['0x1500050', '-C', 'o', '-s', '5', '-a', OWNER_RW]);
    await writeFile(file(t, 'd'), 'kept!');
    await tool(t, 'nvwrite', ['0x1500050', '-C', 'o', '-i', 'd']);
    await t.restart();
    await tool(t, 'nvread', ['0x1500050', '-C', 'o', '-o', 'after']);
    assert.equal(await readFile(file(t, 'after'), 'utf8'), 'kept!');
    await tool(t, 'nvundefine', ['0x1500050', '-C', 'o']);
  }],
];

function describeWith(label: string, setup: () => Promise<InteropFixture<Target>>): void {
  describeInterop(`NV storage via ${label}`, setup, (target) => {
    for (const [name, run] of cases) it(name, () => run(target()));
  }, 120000);
}

describeWith('mssim TCTI (mrtpm serve)', async () => {
  const stateDir = await makeTempDir('mrtpm-nv-state');
  const dir = await makeTempDir('mrtpm-nv');
  let server = await startMrtpm({ protocol: 'mssim', stateDir });
  const target: Target = {
    tcti: server.tcti, dir,
    restart: async () => {
      await server.stop();
      server = await startMrtpm({ protocol: 'mssim', stateDir });
      target.tcti = server.tcti;
      await tpm2(target.tcti, 'startup', ['-c'], { cwd: dir });
    },
  };
  return { target, teardown: async () => { await server.stop(); await removeDir(dir); await removeDir(stateDir); } };
});

describeWith('cmd TCTI (mrtpm stdio, one process per tool)', async () => {
  const stateDir = await makeTempDir('mrtpm-nv-state');
  const dir = await makeTempDir('mrtpm-nv');
  return {
    target: { tcti: mrtpmCmdTcti(stateDir), dir, restart: async () => undefined },
    teardown: async () => { await removeDir(dir); await removeDir(stateDir); },
  };
});
