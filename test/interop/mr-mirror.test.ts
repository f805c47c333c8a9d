/**
 * tpm2-tools through mssim against `mrtpm serve --mr tdx-sim`, then `mrtpm mr replay`: the
 * registers replay from the MR log, the replayed PCRs equal tpm2_pcrread, and the RTMRs hold what
 * an independent computation of the TDX extend rule gives. Also `--mr tsm-mr` against a directory
 * laid out like the kernel's: the exact bytes the kernel would receive.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireInteropTools } from '../helpers/interop-prereqs.js';
import { assertMrtpmBuilt, MRTPM_MAIN, startMrtpm } from '../helpers/mrtpm.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';
import { parsePcrRead } from '../helpers/tool-output.js';
import { tpm2 } from '../helpers/tpm2-tools.js';

const run = promisify(execFile);
const mrtpm = async (args: string[]): Promise<string> => (await run(process.execPath, [MRTPM_MAIN, ...args])).stdout;

interface ReplayJson {
  registers: { register: string; replayed: string; live: string; match: boolean }[];
  pcrs: Record<string, Record<string, string>>;
  unplacedEvents: number;
}

/** TDX RTMR extend, computed here from the rule: SHA-384(old || data48). */
const rtmrExtend = (old: Buffer, data: Buffer): Buffer => createHash('sha384').update(old).update(Buffer.concat([data, Buffer.alloc(48)]).subarray(0, 48)).digest();

describe('MR mirror with tpm2-tools (mssim)', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  const tempDir = async (): Promise<string> => { const d = await makeTempDir('mrtpm-mr'); dirs.push(d); return d; };

  before(async function () {
    await requireInteropTools(this);
    assertMrtpmBuilt();
  });
  after(async () => { await Promise.all(dirs.map(removeDir)); });

  it('tpm2_pcrextend / tpm2_pcrevent / tpm2_pcrreset, then mrtpm mr replay agrees with the register file and tpm2_pcrread', async () => {
    const state = await tempDir();
    const server = await startMrtpm({ protocol: 'mssim', stateDir: state, pcrBanks: ['sha256', 'sha384'], extraArgs: ['--mr', 'tdx-sim'] });
    try {
      const t = server.tcti;
      await tpm2(t, 'startup', ['-c']);
      const d384 = randomBytes(48);
      const d256 = randomBytes(32);
      await tpm2(t, 'pcrextend', [`16:sha256=${randomBytes(32).toString('hex')},sha384=${d384.toString('hex')}`]);
      await tpm2(t, 'pcrextend', [`8:sha256=${d256.toString('hex')}`]);
      const small = join(state, 'small.bin');
      const large = join(state, 'large.bin');
      writeFileSync(small, 'measured by tpm2_pcrevent');
      writeFileSync(large, randomBytes(5000));
      await tpm2(t, 'pcrevent', ['23', small]);
      await tpm2(t, 'pcrevent', ['10', large]);
      await tpm2(t, 'pcrextend', [`0:sha256=${randomBytes(32).toString('hex')}`]);
      await tpm2(t, 'pcrreset', ['16']);
      await tpm2(t, 'pcrextend', [`16:sha384=${d384.toString('hex')}`]);

      const replay = JSON.parse(await mrtpm(['mr', 'replay', '--json', '--state', state])) as ReplayJson;
      for (const r of replay.registers) assert.ok(r.match, `${r.register}: replayed ${r.replayed}, register ${r.live}`);
      assert.equal(replay.unplacedEvents, 0);
      const read = parsePcrRead(await tpm2(t, 'pcrread', ['sha256:all+sha384:all']));
      for (const bank of ['sha256', 'sha384']) {
        for (let pcr = 0; pcr < 24; pcr++) assert.equal(replay.pcrs[bank]?.[pcr], read.get(bank)?.get(pcr), `${bank}:${pcr}`);
      }

      // RTMR1 (PCRs 2-6) and RTMR0 were never extended; PCR 8 (sha256 only) went to RTMR2 zero-padded.
      const registers = Object.fromEntries((JSON.parse(await mrtpm(['mr', 'read', '--json', '--state', state])) as { name: string; value: string }[]).map((r) => [r.name, r.value]));
      assert.equal(registers.rtmr0, '0'.repeat(96));
      assert.equal(registers.rtmr1, '0'.repeat(96));
      const pcr10 = createHash('sha384').update(readFileSync(large)).digest();
      assert.equal(registers.rtmr2, rtmrExtend(rtmrExtend(Buffer.alloc(48), d256), pcr10).toString('hex'));
      assert.equal(registers.mrtd, '0'.repeat(96), 'PCR 0 extends are logged, never mirrored into MRTD');

      const log = JSON.parse(await mrtpm(['mr', 'log', '--json', '--state', state])) as { events: { mrIndex: number; eventType: string; mrtpm?: { kind: string; pcr?: number; command?: number } }[] };
      assert.deepEqual(
        log.events.map((e) => `${e.mrIndex} ${e.eventType} ${e.mrtpm?.kind}${e.mrtpm?.pcr !== undefined ? ` ${e.mrtpm.pcr}` : ''}`),
        ['4 EV_EVENT_TAG startup', '4 EV_EVENT_TAG extend 16', '3 EV_EVENT_TAG extend 8', '4 EV_EVENT_TAG extend 23',
          '3 EV_EVENT_TAG extend 10', '0 EV_NO_ACTION extend 0', '4 EV_EVENT_TAG pcr-reset 16', '4 EV_EVENT_TAG extend 16'],
      );
      assert.equal(log.events[4]!.mrtpm?.command, 0x185, 'the large file went through a hash sequence (EventSequenceComplete)');
    } finally {
      await server.stop();
    }
  });

  it('--mr tsm-mr writes exactly the digest the kernel ABI takes into <dev>/measurements/rtmrN:sha384', async () => {
    const root = await tempDir();
    const measurements = join(root, 'sys', 'tdx_guest', 'measurements');
    mkdirSync(measurements, { recursive: true });
    for (const [name, mode] of [['mrtd:sha384', 0o444], ['rtmr0:sha384', 0o644], ['rtmr1:sha384', 0o644], ['rtmr2:sha384', 0o644], ['rtmr3:sha384', 0o644]] as const) {
      writeFileSync(join(measurements, name), Buffer.alloc(48));
      chmodSync(join(measurements, name), mode);
    }
    const server = await startMrtpm({
      protocol: 'mssim', pcrBanks: ['sha256', 'sha384'],
      extraArgs: ['--mr', 'tsm-mr', '--mr-sysfs-root', join(root, 'sys'), '--mr-log', join(root, 'run')],
    });
    try {
      await tpm2(server.tcti, 'startup', ['-c']);
      const d384 = randomBytes(48);
      await tpm2(server.tcti, 'pcrextend', [`16:sha384=${d384.toString('hex')}`]);
      assert.deepEqual(readFileSync(join(measurements, 'rtmr3:sha384')), d384);
      const d256 = randomBytes(32);
      await tpm2(server.tcti, 'pcrextend', [`9:sha256=${d256.toString('hex')}`]);
      assert.deepEqual(readFileSync(join(measurements, 'rtmr2:sha384')), Buffer.concat([d256, Buffer.alloc(16)]));
    } finally {
      await server.stop();
    }
  });
});
