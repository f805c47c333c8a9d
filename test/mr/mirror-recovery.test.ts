/**
 * Recovery at start-up from each state a crash can leave between a record's append and its
 * register's extend (append-first: the record, carrying the register's old and expected value, is
 * the write-ahead intent). The states are made with the real files: normal extends, then the
 * register file put back as it was before the last one and/or the log cut inside its last record.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTdxSim } from '../../src/mr/tdx-sim.js';
import { openTsmMr } from '../../src/mr/tsm-mr.js';
import type { MrBackend } from '../../src/mr/mr-backend.js';
import { MrMirror } from '../../src/mr/mr-mirror.js';
import { MrEventLogFile, readMrEventLog } from '../../src/mr/mr-event-log-file.js';
import { decodeMirrorEvent } from '../../src/mr/mirror-events.js';
import { UEFI_PCR_MR_MAP } from '../../src/mr/pcr-mr-map.js';
import { checkRegisters } from '../../src/mr/register-check.js';
import { TPM_ALG } from '../../src/tpm/spec/constants.js';
import { TPM_CC } from '../../src/tpm/spec/tpm-cc.js';
import { TPM_RC, TpmError } from '../../src/tpm/spec/tpm-rc.js';
import { refuseExtends, zeroedTdxGuest } from './helpers/fake-sysfs.js';
import { openMr } from '../../src/cli/mr-setup.js';
import type { MrOptions } from '../../src/cli/mr-options.js';
import { createLogger } from '../../src/server/logger.js';

const digest = (n: number): Uint8Array => new Uint8Array(48).fill(n);
const extendPcr16 = (m: MrMirror, n: number): void => {
  const d = [{ hashAlg: TPM_ALG.SHA384, digest: digest(n) }];
  m.beforeExtend({ pcr: 16, command: TPM_CC.PCR_Extend, applied: d, supplied: d });
};

describe('mr/mirror recovery after a crash (append-first)', () => {
  let dir: string;
  const paths = () => ({ registers: join(dir, 'tdx.registers'), log: join(dir, 'events.log') });
  /** Opens the files as a restarted vTPM does; `recover()` runs the start-up recovery on the log's last record. */
  function open(openBackend: () => MrBackend = () => openTdxSim(paths().registers)) {
    const p = paths();
    const backend = openBackend();
    const opened = MrEventLogFile.openParsed(p.log, [TPM_ALG.SHA384]);
    const log = opened.file;
    const reported: unknown[] = [];
    const mirror = new MrMirror(backend, UEFI_PCR_MR_MAP, log, (err) => reported.push(err));
    return {
      backend, mirror, log, reported,
      recover: () => mirror.recover(opened.events.at(-1)),
      close: () => { log.close(); backend.close(); },
      replays: () => checkRegisters(backend, readMrEventLog(p.log).events).every((c) => c.match),
    };
  }
  /** Two extends; returns the log length before the second, and copies of the registers from before and after it. */
  function twoExtends(): { before: number; registersBefore: string; registersAfter: Buffer } {
    const v = open();
    extendPcr16(v.mirror, 1);
    const before = v.log.length;
    const registersBefore = join(dir, 'saved.registers');
    copyFileSync(paths().registers, registersBefore);
    extendPcr16(v.mirror, 2);
    assert.ok(v.replays());
    v.close();
    return { before, registersBefore, registersAfter: readFileSync(paths().registers) };
  }

  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'mrtpm-recovery-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('each mirrored record carries its register before and after: the second extend starts where the first ended', () => {
    twoExtends();
    const values = readMrEventLog(paths().log).events.map((e) => decodeMirrorEvent(e.event)?.values).filter((v) => v !== undefined);
    assert.equal(values.length, 2);
    assert.deepEqual(values[0]!.old, new Uint8Array(48));
    assert.deepEqual(values[1]!.old, values[0]!.expected);
    assert.notDeepEqual(values[1]!.expected, values[1]!.old);
  });

  it('record appended, register not extended: the extend is completed and the log kept as it is', () => {
    const { registersBefore, registersAfter } = twoExtends();
    const log = readFileSync(paths().log);
    copyFileSync(registersBefore, paths().registers);
    const v = open();
    assert.equal(v.recover(), 'completed');
    v.close();
    assert.deepEqual(readFileSync(paths().registers), registersAfter);
    assert.deepEqual(readFileSync(paths().log), log);
    assert.ok(open().replays());
  });

  it('record appended and register extended (killed before answering): nothing to do, and recovery is idempotent', () => {
    twoExtends();
    const v = open();
    assert.equal(v.recover(), 'none');
    assert.equal(v.recover(), 'none');
    assert.ok(v.replays());
    v.close();
  });

  it('a torn final record (killed mid-append, so before its extend) is cut, and the record before it is settled', () => {
    const { before, registersBefore } = twoExtends();
    truncateSync(paths().log, before + 7);
    copyFileSync(registersBefore, paths().registers);
    const v = open();
    assert.equal(v.log.length, before);
    assert.equal(statSync(paths().log).size, before);
    assert.equal(v.recover(), 'none');
    assert.ok(v.replays());
    v.close();
  });

  it('a register moved by someone else after the last record is reported as diverged, and the record is kept', () => {
    twoExtends();
    const log = readFileSync(paths().log);
    const v = open();
    v.backend.extend('rtmr3', digest(9));
    assert.equal(v.recover(), 'diverged');
    assert.deepEqual(readFileSync(paths().log), log);
    assert.equal(v.replays(), false);
    v.close();
  });

  it('record appended, register not extended, and the register now refuses: the record is dropped', () => {
    // tsm-mr over a directory laid out like the kernel's, whose rtmr3 then still reads zero but refuses extends.
    const measurements = zeroedTdxGuest(dir);
    const tsm = () => openTsmMr({ sysfsRoot: dir });
    const first = open(tsm);
    extendPcr16(first.mirror, 1);
    first.close();
    const startOfRecord = readMrEventLog(paths().log).events.at(-1)!.offset;
    refuseExtends(measurements, 'rtmr3:sha384');
    const v = open(tsm);
    assert.equal(v.recover(), 'dropped');
    assert.equal(v.log.length, startOfRecord);
    assert.equal(statSync(paths().log).size, startOfRecord);
    assert.equal(v.reported.length, 1);
    v.close();
  });

  it('a register that refuses the extend after the append: the record is cut off again and the command fails', () => {
    const measurements = zeroedTdxGuest(dir);
    const v = open(() => openTsmMr({ sysfsRoot: dir }));
    extendPcr16(v.mirror, 1);
    const before = readFileSync(paths().log);
    refuseExtends(measurements, 'rtmr3:sha384');
    assert.throws(() => extendPcr16(v.mirror, 2), (e: Error) => e instanceof TpmError && e.rc === TPM_RC.FAILURE);
    assert.deepEqual(readFileSync(paths().log), before);
    assert.equal(v.log.length, before.length);
    v.close();
  });

  it('a log that cannot be appended to fails every mirrored and unmirrored record, moving no register', () => {
    const v = open();
    extendPcr16(v.mirror, 1);
    const registers = readFileSync(paths().registers);
    v.log.close();
    assert.throws(() => extendPcr16(v.mirror, 2), (e: Error) => e instanceof TpmError && e.rc === TPM_RC.FAILURE);
    assert.throws(() => extendPcr16(v.mirror, 3), (e: Error) => e instanceof TpmError && e.rc === TPM_RC.FAILURE);
    const pcr0 = [{ hashAlg: TPM_ALG.SHA384, digest: digest(4) }];
    assert.throws(() => v.mirror.beforeExtend({ pcr: 0, command: TPM_CC.PCR_Extend, applied: pcr0, supplied: pcr0 }), TpmError, 'nor an unmirrored record');
    assert.deepEqual(readFileSync(paths().registers), registers);
    v.backend.close();
    const w = open();
    assert.equal(w.recover(), 'none');
    assert.ok(w.replays());
    w.close();
  });
});

describe('mr/mirror recovery at start-up, through openMr as serve opens it', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'mrtpm-recovery-open-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a dropped record leaves the log without it, and the history check sees the log as it now is', () => {
    const measurements = zeroedTdxGuest(dir);
    const options: MrOptions = { state: dir, mr: 'tsm-mr', mrReset: false, mrInit: {}, mrSysfsRoot: dir, mrLog: join(dir, 'mrlog') };
    const lines: { msg: string; outcome?: string; records?: number }[] = [];
    const logger = createLogger({ level: 'info', sink: { write: (l: string) => lines.push(JSON.parse(l) as { msg: string }) } });
    const first = openMr(options, logger)!;
    extendPcr16(first.mirror, 1);
    first.close();
    const logPath = join(dir, 'mrlog', 'events.log');
    const recordAt = readMrEventLog(logPath).events.at(-1)!.offset;
    // rtmr3 back at the record's old value (zeros), and refusing the completion.
    refuseExtends(measurements, 'rtmr3:sha384');
    lines.length = 0;
    openMr(options, logger)!.close();
    assert.equal(lines.find((l) => l.outcome !== undefined)?.outcome, 'dropped');
    assert.equal(lines.find((l) => l.msg === 'checked the MR history against the registers')?.records, 0);
    assert.equal(lines.some((l) => l.msg.startsWith('the MR history does not replay')), false);
    assert.equal(statSync(logPath).size, recordAt);
  });
});
