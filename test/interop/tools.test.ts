/**
 * tpm2-tools 5.4 against mrtpm through each TCTI a user would pick: mssim (`serve`), swtpm
 * (`serve --protocol swtpm`) and cmd (`stdio`, one process per tool). One table of cases, run in
 * order against one mrtpm per TCTI.
 *
 * INTEROP_REFERENCE=swtpm runs the swtpm-TCTI block against real swtpm instead (to check the
 * harness itself); mrtpm-only expectations (the manufacturer) are skipped then.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describeInterop, type Fixture as InteropFixture } from '../helpers/interop-suite.js';
import { mrtpmCmdTcti, startMrtpm, type MrtpmServer } from '../helpers/mrtpm.js';
import { connectMssim } from '../helpers/raw-client.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';
import { startSwtpm, type SwtpmServer } from '../helpers/swtpm.js';
import {
  blockFields, parseFlatYaml, parseHandles, parsePcrAllocation, parsePcrRead, parseProperties,
  propertyValueString, topLevelKeys,
} from '../helpers/tool-output.js';
import { runTool, tpm2, tpm2Fails } from '../helpers/tpm2-tools.js';

interface Target {
  tcti: string;
  /** Working directory for files the tools read and write. */
  dir: string;
  /** mssim only: POWER_OFF + POWER_ON + NV_ON on the platform port. */
  powerCycle?: () => Promise<void>;
  isMrtpm: boolean;
}

type Case = [name: string, run: (target: Target) => Promise<void>];

const BANKS = { sha256: 32, sha384: 48 } as const;
type Bank = keyof typeof BANKS;

const hash = (bank: Bank, ...parts: Buffer[]): Buffer => {
  const h = createHash(bank);
  for (const part of parts) h.update(part);
  return h.digest();
};

async function readPcr(target: Target, bank: Bank, index: number): Promise<Buffer> {
  const parsed = parsePcrRead(await tpm2(target.tcti, 'pcrread', [`${bank}:${index}`]));
  const hex = parsed.get(bank)?.get(index);
  assert.ok(hex, `pcrread ${bank}:${index} printed no value`);
  return Buffer.from(hex, 'hex');
}

async function writeData(target: Target, name: string, data: Buffer): Promise<string> {
  const file = path.join(target.dir, name);
  await writeFile(file, data);
  return file;
}

async function algorithmNames(target: Target): Promise<string[]> {
  return topLevelKeys(await tpm2(target.tcti, 'getcap', ['algorithms']));
}

async function savedSessions(target: Target): Promise<number[]> {
  return parseHandles(await tpm2(target.tcti, 'getcap', ['handles-saved-session']));
}

/** PCR_Event extends each bank with H(data); checks the tool's output and the PCRs. */
async function checkPcrEvent(target: Target, size: number): Promise<void> {
  const data = randomBytes(size);
  const file = await writeData(target, `event-${size}.bin`, data);
  const before = { sha256: await readPcr(target, 'sha256', 16), sha384: await readPcr(target, 'sha384', 16) };
  const out = await tpm2(target.tcti, 'pcrevent', ['16', file]);
  for (const bank of Object.keys(BANKS) as Bank[]) {
    const eventDigest = hash(bank, data);
    assert.match(out, new RegExp(`${bank}:\\s*${eventDigest.toString('hex')}`, 'i'), `pcrevent output lacks ${bank} digest`);
    assert.deepEqual(await readPcr(target, bank, 16), hash(bank, before[bank], eventDigest), `${bank} PCR 16 after pcrevent`);
  }
}

async function checkHash(target: Target, bank: Bank, size: number): Promise<void> {
  const data = randomBytes(size);
  const file = await writeData(target, `hash-${size}.bin`, data);
  const out = await tpm2(target.tcti, 'hash', ['-g', bank, '--hex', file]);
  assert.equal(out.trim().toLowerCase(), hash(bank, data).toString('hex'));
}

async function checkSessionFile(target: Target, kind: string[], name: string): Promise<void> {
  const file = path.join(target.dir, name);
  const before = await savedSessions(target);
  await tpm2(target.tcti, 'startauthsession', [...kind, '-S', file]);
  const during = await savedSessions(target);
  assert.equal(during.length, before.length + 1, `one more saved session after startauthsession ${kind.join(' ')}`);
  await tpm2(target.tcti, 'flushcontext', [file]);
  assert.deepEqual(await savedSessions(target), before, 'flushcontext removed the saved session');
}

const cases: Case[] = [
  ['tpm2_startup -c', async (t) => {
    await tpm2(t.tcti, 'startup', ['-c']);
  }],
  ['tpm2_getcap properties-fixed', async (t) => {
    const out = await tpm2(t.tcti, 'getcap', ['properties-fixed']);
    const props = parseProperties(out);
    for (const name of ['TPM2_PT_MAX_DIGEST', 'TPM2_PT_NV_BUFFER_MAX', 'TPM2_PT_NV_INDEX_MAX', 'TPM2_PT_INPUT_BUFFER', 'TPM2_PT_MANUFACTURER']) {
      assert.ok(props.has(name), `${name} missing from properties-fixed:\n${out}`);
    }
    assert.ok(props.get('TPM2_PT_MAX_DIGEST')! >= 48, 'MAX_DIGEST covers SHA-384');
    assert.ok(props.get('TPM2_PT_INPUT_BUFFER')! >= 1024, 'INPUT_BUFFER >= 1024 (tools send 1024-byte chunks)');
    assert.ok(props.get('TPM2_PT_NV_BUFFER_MAX')! > 0);
    assert.equal(props.get('TPM2_PT_PCR_COUNT'), 24);
    assert.equal(props.get('TPM2_PT_FAMILY_INDICATOR'), 0x322e3000);
    if (t.isMrtpm) {
      const manufacturer = propertyValueString(out, 'TPM2_PT_MANUFACTURER');
      assert.ok(manufacturer !== undefined && !['IBM', 'MSFT'].includes(manufacturer.trim()), `manufacturer ${manufacturer} must be mrtpm's own`);
    }
  }],
  ['tpm2_getcap properties-variable', async (t) => {
    const out = await tpm2(t.tcti, 'getcap', ['properties-variable']);
    assert.match(out, /^TPM2_PT_PERMANENT:/m);
    const startupClear = blockFields(out, 'TPM2_PT_STARTUP_CLEAR');
    for (const flag of ['phEnable', 'shEnable', 'ehEnable', 'phEnableNV']) assert.equal(startupClear.get(flag), '1', `${flag} after Startup(CLEAR)`);
  }],
  ['tpm2_getcap algorithms', async (t) => {
    const out = await tpm2(t.tcti, 'getcap', ['algorithms']);
    for (const name of ['sha256', 'sha384']) {
      const fields = blockFields(out, name);
      assert.equal(fields.get('hash'), '1', `${name} listed as a hash algorithm:\n${out}`);
      assert.equal(fields.get('object'), '0');
    }
  }],
  ['tpm2_getcap commands', async (t) => {
    const out = await tpm2(t.tcti, 'getcap', ['commands']);
    const names = topLevelKeys(out);
    for (const name of ['TPM2_CC_PCR_Extend', 'TPM2_CC_PCR_Read', 'TPM2_CC_Startup', 'TPM2_CC_GetRandom', 'TPM2_CC_GetCapability']) {
      assert.ok(names.includes(name), `${name} not listed`);
    }
    assert.equal(blockFields(out, 'TPM2_CC_PCR_Extend').get('commandIndex'), '0x182');
    assert.equal(blockFields(out, 'TPM2_CC_PCR_Extend').get('cHandles'), '0x1');
  }],
  ['tpm2_getcap pcrs', async (t) => {
    const allocation = parsePcrAllocation(await tpm2(t.tcti, 'getcap', ['pcrs']));
    const all = Array.from({ length: 24 }, (_, i) => i);
    assert.deepEqual(allocation.get('sha256'), all);
    assert.deepEqual(allocation.get('sha384'), all);
    for (const [bank, pcrs] of allocation) {
      if (!(bank in BANKS)) assert.deepEqual(pcrs, [], `bank ${bank} is not allocated by default`);
    }
  }],
  ['tpm2_getcap ecc-curves', async (t) => {
    const out = await tpm2(t.tcti, 'getcap', ['ecc-curves']);
    for (const line of out.split('\n').filter((l) => l.trim() !== '')) assert.match(line, /^TPM2_ECC_\w+: 0x[0-9a-f]+$/i);
    if ((await algorithmNames(t)).includes('ecc')) assert.match(out, /^TPM2_ECC_NIST_P256: 0x3$/m);
  }],
  ['tpm2_getcap handles-*', async (t) => {
    const ranges: Record<string, number[]> = {
      'handles-transient': [0x80],
      'handles-persistent': [0x81],
      'handles-loaded-session': [0x02, 0x03],
      'handles-saved-session': [0x02, 0x03],
    };
    for (const [capability, types] of Object.entries(ranges)) {
      for (const handle of parseHandles(await tpm2(t.tcti, 'getcap', [capability]))) {
        assert.ok(types.includes(handle >>> 24), `${capability} listed 0x${handle.toString(16)}`);
      }
    }
  }],
  ['tpm2_getrandom --hex 16', async (t) => {
    const first = await tpm2(t.tcti, 'getrandom', ['--hex', '16']);
    const second = await tpm2(t.tcti, 'getrandom', ['--hex', '16']);
    assert.match(first, /^[0-9a-f]{32}$/);
    assert.match(second, /^[0-9a-f]{32}$/);
    assert.notEqual(first, second);
  }],
  ['tpm2_selftest and tpm2_selftest -f', async (t) => {
    await tpm2(t.tcti, 'selftest', []);
    await tpm2(t.tcti, 'selftest', ['-f']);
  }],
  ['tpm2_pcrread sha256:0,1,2 and all banks', async (t) => {
    const some = parsePcrRead(await tpm2(t.tcti, 'pcrread', ['sha256:0,1,2']));
    assert.deepEqual([...some.keys()], ['sha256']);
    assert.deepEqual([...some.get('sha256')!.keys()], [0, 1, 2]);
    for (const value of some.get('sha256')!.values()) assert.equal(value.length, 64);
    const all = parsePcrRead(await tpm2(t.tcti, 'pcrread', []));
    for (const [bank, size] of Object.entries(BANKS)) {
      const values = all.get(bank);
      assert.ok(values, `pcrread printed no ${bank} bank`);
      assert.deepEqual([...values.keys()], Array.from({ length: 24 }, (_, i) => i));
      for (const value of values.values()) assert.equal(value.length, size * 2);
    }
    for (const [bank, values] of all) if (!(bank in BANKS)) assert.equal(values.size, 0, `unallocated bank ${bank} has values`);
  }],
  ['tpm2_pcrextend 16:sha256=... (and both banks)', async (t) => {
    const digest = randomBytes(32);
    const old = await readPcr(t, 'sha256', 16);
    await tpm2(t.tcti, 'pcrextend', [`16:sha256=${digest.toString('hex')}`]);
    assert.deepEqual(await readPcr(t, 'sha256', 16), hash('sha256', old, digest));

    const d256 = randomBytes(32);
    const d384 = randomBytes(48);
    const old256 = await readPcr(t, 'sha256', 16);
    const old384 = await readPcr(t, 'sha384', 16);
    await tpm2(t.tcti, 'pcrextend', [`16:sha256=${d256.toString('hex')},sha384=${d384.toString('hex')}`]);
    assert.deepEqual(await readPcr(t, 'sha256', 16), hash('sha256', old256, d256));
    assert.deepEqual(await readPcr(t, 'sha384', 16), hash('sha384', old384, d384));
  }],
  ['tpm2_pcrevent 16 (small file)', (t) => checkPcrEvent(t, 17)],
  ['tpm2_pcrevent 16 (3000-byte file, event sequence)', (t) => checkPcrEvent(t, 3000)],
  ['tpm2_pcrreset 16', async (t) => {
    await tpm2(t.tcti, 'pcrextend', [`16:sha256=${randomBytes(32).toString('hex')}`]);
    await tpm2(t.tcti, 'pcrreset', ['16']);
    assert.deepEqual(await readPcr(t, 'sha256', 16), Buffer.alloc(32));
    assert.deepEqual(await readPcr(t, 'sha384', 16), Buffer.alloc(48));
  }],
  ['tpm2_hash (small: TPM2_Hash)', (t) => checkHash(t, 'sha256', 100)],
  ['tpm2_hash (large: hash sequence, sha256 and sha384)', async (t) => {
    await checkHash(t, 'sha256', 3000);
    await checkHash(t, 'sha384', 2500);
  }],
  ['tpm2_startauthsession --hmac-session + tpm2_flushcontext', (t) => checkSessionFile(t, ['--hmac-session'], 'hmac.ctx')],
  ['tpm2_startauthsession --policy-session + tpm2_flushcontext', (t) => checkSessionFile(t, ['--policy-session'], 'policy.ctx')],
  ['tpm2_startauthsession (trial) + tpm2_flushcontext', (t) => checkSessionFile(t, [], 'trial.ctx')],
  ['tpm2_readclock', async (t) => {
    const first = parseFlatYaml(await tpm2(t.tcti, 'readclock', []));
    const second = parseFlatYaml(await tpm2(t.tcti, 'readclock', []));
    for (const key of ['clock', 'reset_count', 'restart_count']) assert.match(first.get(key) ?? '', /^\d+$/, `readclock ${key}`);
    assert.match(first.get('safe') ?? '', /^(yes|no)$/);
    assert.ok(Number(second.get('clock')) >= Number(first.get('clock')), 'clock does not go backwards');
  }],
  ['tpm2_testparms', async (t) => {
    const algorithms = await algorithmNames(t);
    const curves = await tpm2(t.tcti, 'getcap', ['ecc-curves']);
    const probes: [string, boolean][] = [
      ['rsa2048', algorithms.includes('rsa')],
      ['aes128cfb', algorithms.includes('aes') && algorithms.includes('cfb')],
      ['ecc256', algorithms.includes('ecc') && /NIST_P256/.test(curves)],
      ['hmac', algorithms.includes('hmac') && algorithms.includes('keyedhash')],
    ];
    assert.ok(probes.some(([, listed]) => listed), `no testable algorithm listed: ${algorithms.join(', ')}`);
    for (const [spec, listed] of probes) {
      if (listed) await tpm2(t.tcti, 'testparms', [spec]);
    }
    await tpm2Fails(t.tcti, 'testparms', ['bogus']);
  }],
  ['tpm2_shutdown -c, then tpm2_startup -c works again', async (t) => {
    await tpm2(t.tcti, 'shutdown', ['-c']);
    if (t.powerCycle) {
      await t.powerCycle();
      const before = await tpm2Fails(t.tcti, 'getrandom', ['--hex', '8']);
      assert.match(before.stderr, /0x100\b|not initialized/i, 'a power-cycled TPM needs Startup');
    }
    await tpm2(t.tcti, 'startup', ['-c']);
    assert.match(await tpm2(t.tcti, 'getrandom', ['--hex', '8']), /^[0-9a-f]{16}$/);
    const repeat = await runTool(t.tcti, 'startup', ['-c']);
    assert.equal(repeat.code, 0, `a second startup -c (TPM_RC_INITIALIZE) is success for the tool: ${repeat.stderr}`);
  }],
];

type Fixture = InteropFixture<Target>;

function describeWith(label: string, setup: () => Promise<Fixture>): void {
  describeInterop(`tpm2-tools via ${label}`, 60000, setup, cases);
}

async function withServer(server: MrtpmServer | SwtpmServer, isMrtpm: boolean, powerCycle?: () => Promise<void>): Promise<Fixture> {
  const dir = await makeTempDir('mrtpm-tools');
  return {
    target: { tcti: server.tcti, dir, powerCycle, isMrtpm },
    teardown: async () => {
      await server.stop();
      await removeDir(dir);
    },
  };
}

describeWith('mssim TCTI (mrtpm serve)', async () => {
  const server = await startMrtpm({ protocol: 'mssim' });
  return withServer(server, true, async () => {
    const { tpm, platform } = await connectMssim(server.port);
    try {
      await platform.powerCycle();
    } finally {
      tpm.close();
      platform.close();
    }
  });
});

describeWith('swtpm TCTI (mrtpm serve --protocol swtpm)', async () => {
  if (process.env.INTEROP_REFERENCE === 'swtpm') return withServer(await startSwtpm({ pcrBanks: ['sha256', 'sha384'] }), false);
  return withServer(await startMrtpm({ protocol: 'swtpm' }), true);
});

describeWith('cmd TCTI (mrtpm stdio, one process per tool)', async () => {
  const stateDir = await makeTempDir('mrtpm-cmd-state');
  const dir = await makeTempDir('mrtpm-tools');
  return {
    target: { tcti: mrtpmCmdTcti(stateDir), dir, isMrtpm: true },
    teardown: async () => {
      await removeDir(dir);
      await removeDir(stateDir);
    },
  };
});
