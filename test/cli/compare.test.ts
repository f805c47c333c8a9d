/**
 * `mrtpm compare` run as a user runs it: every value of the default scenario's JSON checked
 * against what the spec and the MR extend rule say it must be, computed here with node:crypto.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MRTPM_MAIN } from '../helpers/mrtpm.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';

const run = promisify(execFile);

interface Row { step: string; kind: string; rc?: number; pcrs: Record<string, Record<string, string | null>>; registers: Record<string, string> }
interface Output { platform: string; registerOf: Record<string, string>; steps: Row[]; facts: { property: string; vtpm: string; registers: string }[] }

const h = (alg: string, ...parts: (Buffer | string)[]): Buffer => {
  const x = createHash(alg);
  for (const p of parts) x.update(p);
  return x.digest();
};
const hex = (b: Buffer): string => b.toString('hex');
const ZERO_256 = Buffer.alloc(32);
const ZERO_384 = Buffer.alloc(48);

async function compare(args: string[] = []): Promise<Output> {
  const { stdout } = await run(process.execPath, [MRTPM_MAIN, 'compare', '--json', ...args]);
  return JSON.parse(stdout) as Output;
}

describe('mrtpm compare', function () {
  this.timeout(60000);

  it('the default scenario on tdx-sim: PCRs and RTMRs as the extend rules say, through resets, restarts and a TD reboot', async () => {
    const out = await compare();
    assert.deepEqual(out.registerOf, { 10: 'rtmr2', 16: 'rtmr3', 23: 'rtmr3' });
    const s = out.steps;
    const pcr = (i: number, p: number): string | null => s[i]!.pcrs[p]!.sha256!;
    const reg = (i: number, r: string): string => s[i]!.registers[r]!;
    assert.ok(s.filter((r) => r.rc !== undefined).every((r) => r.rc === 0), 'every TPM command succeeded');
    // PCR_Event(10): the PCR takes H(0 || H(data)) per bank, RTMR2 the register's own hash of the data.
    assert.equal(pcr(1, 10), hex(h('sha256', ZERO_256, h('sha256', 'boot_aggregate'))));
    assert.equal(reg(1, 'rtmr2'), hex(h('sha384', ZERO_384, h('sha384', 'boot_aggregate'))));
    // PCR_Reset(16): the PCR is zero, RTMR3 cannot be and moves on (the reset marker).
    assert.notEqual(pcr(2, 16), hex(ZERO_256));
    assert.equal(pcr(3, 16), hex(ZERO_256));
    assert.notEqual(reg(3, 'rtmr3'), reg(2, 'rtmr3'));
    assert.notEqual(reg(3, 'rtmr3'), hex(ZERO_384));
    // An orderly vTPM restart changes nothing.
    assert.equal(s[5]!.kind, 'vtpm-restart');
    assert.deepEqual(s[5]!.pcrs, s[4]!.pcrs);
    assert.deepEqual(s[5]!.registers, s[4]!.registers);
    // Killed after Shutdown(STATE): no PCRs until Startup, registers untouched; Startup(STATE) restores PCR 10, not 16.
    assert.equal(s[8]!.kind, 'vtpm-crash');
    assert.equal(pcr(8, 10), null);
    assert.deepEqual(s[8]!.registers, s[7]!.registers);
    assert.equal(s[9]!.step, 'Startup(STATE)');
    assert.equal(pcr(9, 10), pcr(7, 10));
    assert.equal(pcr(9, 16), hex(ZERO_256));
    // Startup(CLEAR) after another kill: all PCRs zero, RTMR2 keeps everything.
    assert.equal(pcr(11, 10), hex(ZERO_256));
    assert.equal(reg(11, 'rtmr2'), reg(6, 'rtmr2'));
    assert.equal(pcr(12, 23), hex(h('sha256', ZERO_256, h('sha256', 'application'))));
    // The TD reboot zeroes the registers; the same history then gives the same values as the first boot.
    assert.equal(s[13]!.kind, 'td-reboot');
    assert.equal(reg(13, 'rtmr2'), hex(ZERO_384));
    assert.equal(reg(13, 'rtmr3'), hex(ZERO_384));
    assert.equal(reg(14, 'rtmr3'), reg(0, 'rtmr3'), 'the first Startup marker again');
    assert.equal(pcr(15, 10), pcr(1, 10));
    assert.equal(reg(15, 'rtmr2'), reg(1, 'rtmr2'));
    const facts = new Map(out.facts.map((f) => [f.property, f]));
    assert.match(facts.get('reset')!.vtpm, /PCR 16-23/);
    assert.match(facts.get('count')!.registers, /rtmr3: PCR 16-23/);
    assert.match(facts.get('hash')!.registers, /sha384/);
  });

  it('cca-sim names the REMs; a scenario file runs instead of the default; a bad step is refused by number', async () => {
    const dir = await makeTempDir('mrtpm-compare');
    try {
      const file = join(dir, 'scenario.json');
      await writeFile(file, JSON.stringify([{ do: 'startup', su: 'clear' }, { do: 'extend', pcr: 16, data: 'x' }]));
      const out = await compare(['--mr', 'cca-sim', '--pcrs', '16', '--scenario', file]);
      assert.deepEqual(out.registerOf, { 16: 'rem3' });
      assert.equal(out.steps.length, 2);
      assert.equal(out.steps[1]!.pcrs[16]!.sha256, hex(h('sha256', ZERO_256, h('sha256', 'x'))));
      await writeFile(file, JSON.stringify([{ do: 'startup', su: 'clear' }, { do: 'reset', pcr: 24 }]));
      await assert.rejects(compare(['--scenario', file]), /step 2 .*"pcr" is 0-23/s);
      const text = (await run(process.execPath, [MRTPM_MAIN, 'compare'])).stdout;
      assert.match(text, /^\| # \| step \| rc \|/m);
      assert.match(text, /\| reset \| PCR_Reset of PCR 16-23/);
    } finally {
      await removeDir(dir);
    }
  });
});
