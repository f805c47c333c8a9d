/**
 * PIN Pass and PIN Fail indexes with tpm2-tools 5.4: tpm2_nvdefine with nt=pinpass / nt=pinfail,
 * the owner writing pinCount || pinLimit, tpm2_policysecret with the index's PIN until pinLimit.
 * The same sequence runs on swtpm; every step must give the same outcome (exit code and TPM
 * response code) and the same pinCount read back.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { requireInteropTools } from '../helpers/interop-prereqs.js';
import { MRTPM_TCTIS, type ToolTarget } from '../helpers/interop-suite.js';
import { startSwtpm } from '../helpers/swtpm.js';
import { runTool, tpm2 } from '../helpers/tpm2-tools.js';

const INDEX = '0x01500061';
const PIN = '1234';

/** What one step gave: the exit code and the TPM response code libtss2 reported, if any. */
async function step(t: ToolTarget, tool: string, args: string[]): Promise<string> {
  const r = await runTool(t.tcti, tool, args, { cwd: t.dir });
  return `${tool} ${args.join(' ')}: exit ${r.code} ${/ErrorCode \((0x[0-9a-f]+)\)/i.exec(r.stderr)?.[1] ?? ''}`.trim();
}

async function pinCount(t: ToolTarget): Promise<number> {
  await tpm2(t.tcti, 'nvread', ['-C', 'o', '-s', '8', '-o', 'pin.bin', INDEX], { cwd: t.dir });
  return (await readFile(path.join(t.dir, 'pin.bin'))).readUInt32BE(0);
}

/** The sequence for one index type; returns each step's outcome and the pinCount after it. */
async function sequence(t: ToolTarget, type: 'pinpass' | 'pinfail'): Promise<string[]> {
  const out: string[] = [];
  const counter = async (count: number, limit: number): Promise<void> => {
    const b = Buffer.alloc(8);
    b.writeUInt32BE(count, 0);
    b.writeUInt32BE(limit, 4);
    await writeFile(path.join(t.dir, 'counter.bin'), b);
    out.push(await step(t, 'nvwrite', ['-C', 'o', '-i', 'counter.bin', INDEX]));
  };
  const tryPin = async (pin: string): Promise<void> => {
    await tpm2(t.tcti, 'startauthsession', ['--policy-session', '-S', 'pin.ctx'], { cwd: t.dir });
    out.push(await step(t, 'policysecret', ['-S', 'pin.ctx', '-c', INDEX, pin]));
    await tpm2(t.tcti, 'flushcontext', ['pin.ctx'], { cwd: t.dir });
    out.push(`pinCount ${await pinCount(t).catch(() => -1)}`);
  };
  out.push(await step(t, 'nvdefine', ['-C', 'o', '-s', '8', '-a', `nt=${type}|ownerwrite|ownerread|no_da`, '-p', PIN, INDEX]));
  await tryPin(PIN);
  await counter(0, 2);
  for (const pin of [PIN, 'wrong', PIN, 'wrong', 'wrong', PIN, PIN]) await tryPin(pin);
  await counter(0, 2);
  await tryPin(PIN);
  out.push(await step(t, 'nvundefine', ['-C', 'o', INDEX]));
  return out;
}

describe('NV PIN indexes with tpm2-tools: mrtpm (mssim, cmd) step for step as swtpm', function () {
  this.timeout(180000);
  for (const type of ['pinpass', 'pinfail'] as const) {
    it(`nt=${type}`, async function () {
      await requireInteropTools(this);
      const swtpm = await startSwtpm();
      try {
        const dir = path.join(swtpm.stateDir, 'work');
        await mkdir(dir);
        const expected = await sequence({ tcti: swtpm.tcti, dir }, type);
        assert.ok(expected.some((s) => /policysecret .*exit 0/.test(s)) && expected.some((s) => /policysecret .*0x0000012f|policysecret .*0x12f/i.test(s)),
          `swtpm both accepted and refused the PIN:\n${expected.join('\n')}`);
        for (const [label, target] of MRTPM_TCTIS) {
          const fixture = await target(`mrtpm-pin-${type}`);
          try {
            await tpm2(fixture.target.tcti, 'startup', ['-c']);
            assert.deepEqual(await sequence(fixture.target, type), expected, label);
          } finally {
            await fixture.teardown();
          }
        }
      } finally {
        await swtpm.stop();
      }
    });
  }
});
