import assert from 'node:assert/strict';
import { layoutOf, TDX_LAYOUT } from './helpers/tdx-layout.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCcaSim } from '../../src/mr/cca-sim.js';
import { extendValue } from '../../src/mr/extend-rule.js';
import { MrError, type MrBackend } from '../../src/mr/mr-backend.js';
import { readRegisterFile } from '../../src/mr/register-file.js';
import { openTdxSim } from '../../src/mr/tdx-sim.js';
import { TPM_ALG } from '../../src/tpm/spec/constants.js';

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);
const zeros = (n: number): Uint8Array => new Uint8Array(n);

function assertMrError(f: () => unknown, code: string): void {
  assert.throws(f, (err: unknown) => err instanceof MrError && err.code === code);
}

describe('mr/sim-backends', () => {
  let dir: string;
  let path: string;
  const open: MrBackend[] = [];
  const track = (b: MrBackend): MrBackend => (open.push(b), b);
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mrtpm-mr-'));
    path = join(dir, 'registers.bin');
  });
  afterEach(() => {
    for (const b of open.splice(0)) b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('tdx-sim', () => {
    it('creates MRTD, RTMR0..3 and the config registers at zero, file mode 0600', () => {
      const tdx = track(openTdxSim(path));
      assert.equal(tdx.kind, 'tdx-sim');
      assert.equal(tdx.platform, 'tdx');
      assert.deepEqual(layoutOf(tdx.registers), TDX_LAYOUT);
      for (const r of tdx.registers) assert.deepEqual(tdx.read(r.name), zeros(48));
      assert.equal(tdx.register('rtmr2')?.ccMrIndex, 3);
      assert.equal(tdx.register('rtmr4'), undefined);
      assert.equal(statSync(path).mode & 0o777, 0o600);
    });

    it('extend changes exactly the targeted register, by SHA384(old || data)', () => {
      const tdx = track(openTdxSim(path));
      const d = bytes(48, 0xaa);
      tdx.extend('rtmr2', d);
      const once = extendValue(TPM_ALG.SHA384, zeros(48), d);
      assert.deepEqual(tdx.read('rtmr2'), once);
      tdx.extend('rtmr2', d);
      assert.deepEqual(tdx.read('rtmr2'), extendValue(TPM_ALG.SHA384, once, d));
      for (const r of tdx.registers.filter((r) => r.name !== 'rtmr2')) assert.deepEqual(tdx.read(r.name), zeros(48), r.name);
    });

    it('prepareExtend works out the extend without doing it; commit does exactly that extend', () => {
      const tdx = track(openTdxSim(path));
      const d = bytes(48, 0x5a);
      const prepared = tdx.prepareExtend('rtmr1', d);
      assert.deepEqual(prepared.old, zeros(48));
      assert.deepEqual(prepared.value, extendValue(TPM_ALG.SHA384, zeros(48), d));
      assert.deepEqual(tdx.read('rtmr1'), zeros(48), 'nothing happens before commit');
      prepared.commit();
      assert.deepEqual(tdx.read('rtmr1'), prepared.value);
      assert.deepEqual(readRegisterFile(path).read('rtmr1'), prepared.value, 'and it is in the file');
      assertMrError(() => tdx.prepareExtend('rtmr1', zeros(47)), 'EINVAL');
      assertMrError(() => tdx.prepareExtend('mrtd', zeros(48)), 'EACCES');
    });

    it('values survive close and reopen (a vTPM restart); reset zeroes them', () => {
      const first = openTdxSim(path);
      first.extend('rtmr3', bytes(48, 1));
      const value = first.read('rtmr3');
      first.close();
      const again = openTdxSim(path);
      assert.deepEqual(again.read('rtmr3'), value);
      again.close();
      const reset = track(openTdxSim(path, { reset: true }));
      assert.deepEqual(reset.read('rtmr3'), zeros(48));
    });

    it('a read-only open from elsewhere sees the values without disturbing the holder', () => {
      const tdx = track(openTdxSim(path, { init: { mrtd: bytes(48, 7) } }));
      tdx.extend('rtmr0', bytes(48, 2));
      const snap = readRegisterFile(path);
      assert.equal(snap.platform, 'tdx');
      assert.deepEqual(snap.registers, tdx.registers);
      assert.deepEqual(snap.values.get('rtmr0'), tdx.read('rtmr0'));
      assert.deepEqual(snap.values.get('mrtd'), bytes(48, 7));
      tdx.extend('rtmr0', bytes(48, 3));
      assert.deepEqual(readRegisterFile(path).values.get('rtmr0'), tdx.read('rtmr0'));
    });

    it('init values for MRTD and MRCONFIGID; read-only after creation unless reset', () => {
      const init = { mrtd: bytes(48, 0x11), mrconfigid: bytes(48, 0x22) };
      track(openTdxSim(path, { init })).close();
      const same = track(openTdxSim(path, { init }));
      assert.deepEqual(same.read('mrtd'), init.mrtd);
      assert.deepEqual(same.read('mrconfigid'), init.mrconfigid);
      assert.deepEqual(same.read('mrowner'), zeros(48));
      same.close();
      assert.deepEqual(track(openTdxSim(path)).read('mrtd'), init.mrtd, 'no init: the stored values stand');
      assert.throws(() => openTdxSim(path, { init: { mrconfigid: bytes(48, 0x33) } }), /mrconfigid is read-only after creation.*--mr-reset/);
      const reset = track(openTdxSim(path, { reset: true, init: { mrconfigid: bytes(48, 0x33) } }));
      assert.deepEqual(reset.read('mrconfigid'), bytes(48, 0x33));
      assert.deepEqual(reset.read('mrtd'), zeros(48));
    });

    it('rejects init values of the wrong size', () => {
      assert.throws(() => openTdxSim(path, { init: { mrtd: zeros(32) } }), /mrtd must be 48 bytes/);
    });

    it('read-only registers refuse extend (EACCES); wrong sizes are EINVAL and change nothing', () => {
      const tdx = track(openTdxSim(path));
      for (const name of ['mrtd', 'mrconfigid', 'mrowner', 'mrownerconfig']) assertMrError(() => tdx.extend(name, zeros(48)), 'EACCES');
      assertMrError(() => tdx.extend('rtmr0', zeros(47)), 'EINVAL');
      assertMrError(() => tdx.extend('rtmr0', zeros(49)), 'EINVAL');
      assertMrError(() => tdx.extend('rtmr4', zeros(48)), 'ENOENT');
      assertMrError(() => tdx.read('rtmr4'), 'ENOENT');
      assert.deepEqual(tdx.read('rtmr0'), zeros(48));
    });

    it('an extend is one positioned write: a SIGKILLed extender leaves a value of the chain', async function () {
      this.timeout(10_000);
      track(openTdxSim(path)).close();
      const module = new URL('../../src/mr/tdx-sim.js', import.meta.url).href;
      const script = `const { openTdxSim } = await import(${JSON.stringify(module)});
        const b = openTdxSim(${JSON.stringify(path)}); const d = new Uint8Array(48).fill(9);
        process.stdout.write('go\\n'); for (;;) b.extend('rtmr1', d);`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise((resolve) => child.stdout.once('data', resolve));
      await new Promise((resolve) => setTimeout(resolve, 100));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const value = track(openTdxSim(path)).read('rtmr1');
      let chain = zeros(48);
      let steps = 0;
      while (Buffer.compare(chain, value) !== 0 && steps < 2_000_000) {
        chain = extendValue(TPM_ALG.SHA384, chain, bytes(48, 9));
        steps++;
      }
      assert.deepEqual(chain, value);
      assert.ok(steps > 0, 'the child extended before it was killed');
    });
  });

  describe('register file checks', () => {
    it('rejects a foreign file, a truncated file and a broken table with a clear Error', () => {
      writeFileSync(path, 'not a register file at all');
      assert.throws(() => openTdxSim(path), /not an mrtpm register file \(bad magic\)/);
      openTdxSim(path, { reset: true }).close();
      truncateSync(path, statSync(path).size - 1);
      assert.throws(() => openTdxSim(path), /wrong size/);
      openTdxSim(path, { reset: true }).close();
      const raw = readFileSync(path);
      raw[16 + 28 + 21] = 0; // rtmr0's flags: no longer extendable
      writeFileSync(path, raw);
      assert.throws(() => openTdxSim(path), /register table is not tdx-sim's/);
      assert.throws(() => readRegisterFile(join(dir, 'missing')), /ENOENT/);
    });

    it('a TDX file is not a CCA file and vice versa', () => {
      openTdxSim(path).close();
      assert.throws(() => openCcaSim(path), /is a tdx register file, not cca/);
      openCcaSim(path, { reset: true }).close();
      assert.throws(() => openTdxSim(path), /is a cca register file, not tdx/);
    });
  });

  describe('cca-sim', () => {
    it('RIM and REM0..3 of the realm hash: SHA-256 by default, SHA-384 and SHA-512 on request', () => {
      const sizes = [
        [undefined, TPM_ALG.SHA256, 32],
        [TPM_ALG.SHA384, TPM_ALG.SHA384, 48],
        [TPM_ALG.SHA512, TPM_ALG.SHA512, 64],
      ] as const;
      for (const [hashAlg, expected, size] of sizes) {
        const cca = openCcaSim(path, { reset: true, ...(hashAlg === undefined ? {} : { hashAlg }) });
        assert.equal(cca.kind, 'cca-sim');
        assert.equal(cca.platform, 'cca');
        assert.deepEqual(
          cca.registers.map((r) => [r.name, r.hashAlg, r.size, r.ccMrIndex, r.extendable]),
          [['rim', expected, size, 0, false], ...[0, 1, 2, 3].map((n) => [`rem${n}`, expected, size, n + 1, true])],
        );
        cca.close();
      }
    });

    it('extends with the realm hash; RIM is read-only; wrong sizes are EINVAL', () => {
      const cca = track(openCcaSim(path, { hashAlg: TPM_ALG.SHA512 }));
      const d = bytes(64, 0x5a);
      cca.extend('rem0', d);
      assert.deepEqual(cca.read('rem0'), extendValue(TPM_ALG.SHA512, zeros(64), d));
      assert.deepEqual(cca.read('rem1'), zeros(64));
      assertMrError(() => cca.extend('rim', d), 'EACCES');
      assertMrError(() => cca.extend('rem0', zeros(32)), 'EINVAL');
    });

    it('RIM init value and the realm hash are read-only after creation', () => {
      const rim = bytes(32, 0x44);
      track(openCcaSim(path, { init: { rim } })).close();
      assert.deepEqual(track(openCcaSim(path, { hashAlg: TPM_ALG.SHA256, init: { rim } })).read('rim'), rim);
      assert.throws(() => openCcaSim(path, { hashAlg: TPM_ALG.SHA512 }), /register hash is read-only after creation.*--mr-reset/);
      assert.throws(() => openCcaSim(path, { init: { rim: bytes(32, 0x45) } }), /rim is read-only after creation/);
      const sha512 = track(openCcaSim(path, { reset: true, hashAlg: TPM_ALG.SHA512 }));
      assert.deepEqual(sha512.read('rim'), zeros(64));
      sha512.close();
      assert.equal(track(openCcaSim(path)).register('rem3')?.size, 64, 'no hashAlg: the stored realm hash stands');
    });

    it('rejects a hash no realm uses', () => {
      assert.throws(() => openCcaSim(path, { hashAlg: TPM_ALG.SHA1 as typeof TPM_ALG.SHA256 }), /does not support hash 0x0004/);
    });
  });
});
