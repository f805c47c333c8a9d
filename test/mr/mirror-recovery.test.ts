/**
 * Recovery at start-up from each state a crash can leave between the write-ahead intent, the
 * register extend and the log append. The states are made with the real files: a normal extend,
 * then the log cut back and/or the register file put back as it was before the extend.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, statSync, truncateSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTdxSim } from '../../src/mr/tdx-sim.js';
import { MrMirror } from '../../src/mr/mr-mirror.js';
import { MrEventLogFile, readMrEventLog } from '../../src/mr/mr-event-log-file.js';
import { IntentFile } from '../../src/mr/write-ahead-intent.js';
import { UEFI_PCR_MR_MAP } from '../../src/mr/pcr-mr-map.js';
import { checkRegisters } from '../../src/mr/register-check.js';
import { TPM_ALG } from '../../src/tpm/spec/constants.js';
import { TPM_CC } from '../../src/tpm/spec/tpm-cc.js';
import { TPM_RC, TpmError } from '../../src/tpm/spec/tpm-rc.js';

const digest = (n: number): Uint8Array => new Uint8Array(48).fill(n);
const extendPcr16 = (m: MrMirror, n: number): void => {
  const d = [{ hashAlg: TPM_ALG.SHA384, digest: digest(n) }];
  m.beforeExtend({ pcr: 16, command: TPM_CC.PCR_Extend, applied: d, supplied: d });
};

describe('mr/mirror recovery after a crash', () => {
  let dir: string;
  const paths = () => ({ registers: join(dir, 'tdx.registers'), log: join(dir, 'events.log'), intent: join(dir, 'intent') });
  /** Opens the files as a restarted vTPM does; `recover` runs the start-up recovery. */
  function open() {
    const p = paths();
    const backend = openTdxSim(p.registers);
    const log = MrEventLogFile.open(p.log, [TPM_ALG.SHA384]);
    const intent = new IntentFile(p.intent);
    const mirror = new MrMirror(backend, UEFI_PCR_MR_MAP, log, intent);
    return {
      backend, mirror, log,
      close: () => { intent.close(); log.close(); backend.close(); },
      replays: () => checkRegisters(backend, readMrEventLog(p.log).events).every((c) => c.match),
    };
  }
  /** Two extends; returns the log length before the second and a copy of the registers from then. */
  function twoExtends(): { before: number; savedRegisters: string } {
    const v = open();
    extendPcr16(v.mirror, 1);
    const before = v.log.length;
    const savedRegisters = join(dir, 'saved.registers');
    copyFileSync(paths().registers, savedRegisters);
    extendPcr16(v.mirror, 2);
    assert.ok(v.replays());
    v.close();
    return { before, savedRegisters };
  }

  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'mrtpm-recovery-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('register extended, log not appended: the record is appended from the intent', () => {
    const { before } = twoExtends();
    const full = readFileSync(paths().log);
    truncateSync(paths().log, before);
    const v = open();
    assert.equal(v.mirror.recover(), 'completed');
    assert.deepEqual(readFileSync(paths().log), full);
    assert.ok(v.replays());
    v.close();
  });

  it('intent written, register not extended: the intent is dropped and nothing is logged', () => {
    const { before, savedRegisters } = twoExtends();
    truncateSync(paths().log, before);
    copyFileSync(savedRegisters, paths().registers);
    const v = open();
    assert.equal(v.mirror.recover(), 'dropped');
    assert.equal(statSync(paths().log).size, before);
    assert.ok(v.replays());
    v.close();
  });

  it('a torn final record is cut before recovery completes it', () => {
    const { before } = twoExtends();
    const full = readFileSync(paths().log);
    truncateSync(paths().log, before + 7);
    const v = open();
    assert.equal(v.log.length, before);
    assert.equal(v.mirror.recover(), 'completed');
    assert.deepEqual(readFileSync(paths().log), full);
    v.close();
  });

  it('a completed extend leaves nothing to do, and recovery is idempotent', () => {
    twoExtends();
    const v = open();
    assert.equal(v.mirror.recover(), 'none');
    assert.equal(v.mirror.recover(), 'none');
    assert.ok(v.replays());
    v.close();
  });

  it('a torn intent (expected value not the extend of old by the record digest) reads as no intent', () => {
    const { before } = twoExtends();
    const intent = readFileSync(paths().intent);
    // Byte 40 lies in `old` (after magic, size, log offset and the register name).
    intent[40]! ^= 0xff;
    writeFileSync(paths().intent, intent);
    truncateSync(paths().log, before);
    const v = open();
    assert.equal(v.mirror.recover(), 'none');
    v.close();
  });

  it('a register moved by someone else is reported as diverged, not logged', () => {
    const { before } = twoExtends();
    truncateSync(paths().log, before);
    const v = open();
    v.backend.extend('rtmr3', digest(9));
    assert.equal(v.mirror.recover(), 'diverged');
    assert.equal(v.log.length, before);
    assert.equal(v.replays(), false);
    v.close();
  });

  it('an append that fails after the register moved fails every later extend until restart', () => {
    const v = open();
    extendPcr16(v.mirror, 1);
    v.log.close();
    assert.throws(() => extendPcr16(v.mirror, 2), (e: Error) => e instanceof TpmError && e.rc === TPM_RC.FAILURE);
    assert.throws(() => extendPcr16(v.mirror, 3), (e: Error) => e instanceof TpmError && e.rc === TPM_RC.FAILURE);
    const pcr0 = [{ hashAlg: TPM_ALG.SHA384, digest: digest(4) }];
    assert.throws(() => v.mirror.beforeExtend({ pcr: 0, command: TPM_CC.PCR_Extend, applied: pcr0, supplied: pcr0 }), TpmError, 'nor an unmirrored record');
    v.backend.close();
    const w = open();
    assert.equal(w.mirror.recover(), 'completed');
    assert.ok(w.replays());
    w.close();
  });
});
