/**
 * Hierarchies, persistent objects and EKs with the real tpm2-tools: tpm2_clear, tpm2_changeauth,
 * tpm2_evictcontrol, tpm2_createek against an mrtpm made by `mrtpm manufacture --ek`, and the
 * determinism of primaries across restarts, transports and state directories.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { requireInteropTools } from '../helpers/interop-prereqs.js';
import { MRTPM_MAIN, mrtpmCmdTcti, startMrtpm, type MrtpmServer } from '../helpers/mrtpm.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';
import { parseHandles } from '../helpers/tool-output.js';
import { tpm2, tpm2Fails } from '../helpers/tpm2-tools.js';
import { EK_TEMPLATES, type EkKind } from '../../src/tpm/objects/ek-templates.js';

const run = promisify(execFile);

const EK_CASES: { kind: EkKind; alg: string; handle: number; uniqueSizes: number[] }[] = [
  { kind: 'rsa2048', alg: 'rsa', handle: 0x81010001, uniqueSizes: [256] },
  { kind: 'ecc256', alg: 'ecc', handle: 0x81010002, uniqueSizes: [32, 32] },
];

/** Splits a TPMT_PUBLIC into what precedes the unique field and the unique field's TPM2B parts. */
function splitUnique(pub: Buffer, uniqueSizes: number[]): { head: Buffer; unique: Buffer[] } {
  const uniqueBytes = uniqueSizes.reduce((n, size) => n + 2 + size, 0);
  const head = pub.subarray(0, pub.length - uniqueBytes);
  const unique: Buffer[] = [];
  let at = head.length;
  for (let i = 0; i < uniqueSizes.length; i++) {
    const size = pub.readUInt16BE(at);
    unique.push(pub.subarray(at + 2, at + 2 + size));
    at += 2 + size;
  }
  assert.equal(at, pub.length, 'unique field ends the public area');
  return { head, unique };
}

describe('tpm2-tools: hierarchies, EvictControl, EKs (mrtpm manufacture --ek)', function () {
  this.timeout(120000);
  let stateDir = '';
  let dir = '';
  let server: MrtpmServer | undefined;
  const tcti = (): string => server!.tcti;
  const file = (name: string): string => path.join(dir, name);
  const tool = (name: string, args: string[]): Promise<string> => tpm2(tcti(), name, args, { cwd: dir });

  /** TPMT_PUBLIC of a primary the tool creates with `args`, read back with tpm2_readpublic. */
  async function primaryPublic(t: string, args: string[], name: string): Promise<Buffer> {
    await tpm2(t, 'createprimary', [...args, '-c', file(`${name}.ctx`)], { cwd: dir });
    await tpm2(t, 'readpublic', ['-c', file(`${name}.ctx`), '-f', 'tss', '-o', file(`${name}.pub`)], { cwd: dir });
    return (await readFile(file(`${name}.pub`))).subarray(2);
  }
  const nameOf = async (target: string): Promise<Buffer> => {
    const out = file(`name-${Math.random().toString(16).slice(2)}`);
    await tool('readpublic', ['-c', target, '-n', out]);
    return readFile(out);
  };
  const persistentHandles = async (): Promise<number[]> => parseHandles(await tool('getcap', ['handles-persistent']));

  before(async function () {
    this.timeout(60000);
    await requireInteropTools(this);
    stateDir = await makeTempDir('mrtpm-hier-state');
    dir = await makeTempDir('mrtpm-hier-tools');
    await run(process.execPath, [MRTPM_MAIN, 'manufacture', '--state', stateDir, '--ek', 'rsa2048,ecc256']);
    server = await startMrtpm({ stateDir });
    await tool('startup', ['-c']);
  });

  after(async () => {
    await server?.stop();
    if (stateDir) await removeDir(stateDir);
    if (dir) await removeDir(dir);
  });

  it('manufacture refuses an existing TPM without --force', async () => {
    await server!.stop();
    await assert.rejects(run(process.execPath, [MRTPM_MAIN, 'manufacture', '--state', stateDir]), /already holds a TPM/);
    server = await startMrtpm({ stateDir });
  });

  for (const ek of EK_CASES) {
    it(`tpm2_createek -G ${ek.alg}: the TCG profile template with the unique filled, the EK persisted at 0x${ek.handle.toString(16)}`, async () => {
      await tool('createek', ['-c', file(`ek-${ek.alg}.ctx`), '-G', ek.alg, '-u', file(`ek-${ek.alg}.pub`)]);
      const pub = (await readFile(file(`ek-${ek.alg}.pub`))).subarray(2);
      const template = EK_TEMPLATES[ek.kind].template;
      assert.equal(pub.length, template.length);
      const made = splitUnique(pub, ek.uniqueSizes);
      const profile = splitUnique(Buffer.from(template), ek.uniqueSizes);
      assert.deepEqual(made.head, profile.head, 'everything but unique is the profile template byte for byte');
      assert.deepEqual(made.unique.map((u) => u.length), ek.uniqueSizes);
      assert.ok(made.unique.every((u) => u.some((b) => b !== 0)), 'unique filled in');
      assert.deepEqual(await nameOf(`0x${ek.handle.toString(16)}`), await nameOf(file(`ek-${ek.alg}.ctx`)));
    });
  }

  it('tpm2_getcap handles-persistent lists the manufactured EKs', async () => {
    assert.deepEqual(await persistentHandles(), [0x81010001, 0x81010002]);
  });

  it('tpm2_changeauth -c owner: tpm2_createprimary -C o needs the new password', async () => {
    await tool('changeauth', ['-c', 'owner', 'newpass']);
    await primaryPublic(tcti(), ['-C', 'o', '-P', 'newpass'], 'with-pass');
    const refused = await tpm2Fails(tcti(), 'createprimary', ['-C', 'o', '-c', file('no-pass.ctx')], { cwd: dir });
    assert.match(refused.stderr, /0x9a2|authorization failure/i);
    await tool('changeauth', ['-c', 'owner', '-p', 'newpass']);
    await primaryPublic(tcti(), ['-C', 'o'], 'pass-removed');
  });

  it('tpm2_evictcontrol -C o persists a primary at 0x81000001 and removes it again', async () => {
    await primaryPublic(tcti(), ['-C', 'o', '-G', 'ecc'], 'srk');
    await tool('evictcontrol', ['-C', 'o', '-c', file('srk.ctx'), '0x81000001']);
    assert.deepEqual(await nameOf('0x81000001'), await nameOf(file('srk.ctx')));
    assert.deepEqual(await persistentHandles(), [0x81000001, 0x81010001, 0x81010002]);
    await tool('evictcontrol', ['-C', 'o', '-c', '0x81000001']);
    assert.deepEqual(await persistentHandles(), [0x81010001, 0x81010002]);
  });

  it('the same template gives the same key after a restart and through the cmd TCTI; -C e differs from -C o', async () => {
    const owner = await primaryPublic(tcti(), ['-C', 'o', '-G', 'ecc'], 'det-1');
    const endorsement = await primaryPublic(tcti(), ['-C', 'e', '-G', 'ecc'], 'det-e');
    assert.notDeepEqual(endorsement, owner);
    await server!.stop();
    server = await startMrtpm({ stateDir });
    assert.deepEqual(await primaryPublic(tcti(), ['-C', 'o', '-G', 'ecc'], 'det-2'), owner, 'after a restart');
    await server.stop();
    const cmd = mrtpmCmdTcti(stateDir);
    assert.deepEqual(await primaryPublic(cmd, ['-C', 'o', '-G', 'ecc'], 'det-cmd'), owner, 'through the cmd TCTI');
    server = await startMrtpm({ stateDir });
  });

  it('a different state directory is a different TPM: another key for the same template', async () => {
    const owner = await primaryPublic(tcti(), ['-C', 'o', '-G', 'ecc'], 'own');
    const other = await makeTempDir('mrtpm-hier-other');
    try {
      const cmd = mrtpmCmdTcti(other);
      await tpm2(cmd, 'startup', ['-c']);
      assert.notDeepEqual(await primaryPublic(cmd, ['-C', 'o', '-G', 'ecc'], 'other'), owner);
    } finally {
      await removeDir(other);
    }
  });

  it('tpm2_clear (lockout auth): a new storage seed, so a new key; the EKs are evicted', async () => {
    const before = await primaryPublic(tcti(), ['-C', 'o', '-G', 'ecc'], 'pre-clear');
    await tool('clear', []);
    assert.notDeepEqual(await primaryPublic(tcti(), ['-C', 'o', '-G', 'ecc'], 'post-clear'), before);
    assert.deepEqual(await persistentHandles(), []);
  });

  it('manufacture --force makes a new TPM: another endorsement seed, so another EK at 0x81010002', async () => {
    const old = await readFile(file('ek-ecc.pub'));
    await server!.stop();
    await assert.rejects(run(process.execPath, [MRTPM_MAIN, 'manufacture', '--state', stateDir, '--ek', 'dsa']), /unknown EK/);
    await run(process.execPath, [MRTPM_MAIN, 'manufacture', '--state', stateDir, '--ek', 'ecc256', '--force']);
    server = await startMrtpm({ stateDir });
    await tool('startup', ['-c']);
    assert.deepEqual(await persistentHandles(), [0x81010002]);
    await tool('readpublic', ['-c', '0x81010002', '-f', 'tss', '-o', file('ek-new.pub')]);
    assert.notDeepEqual(await readFile(file('ek-new.pub')), old);
  });
});
