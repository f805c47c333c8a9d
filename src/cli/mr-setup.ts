/**
 * Opens what `--mr` chooses: the register backend, the MR event log directory (locked, one
 * mirroring process at a time) and the mirror, settling the last record a crash may have left
 * half done and checking that the history replays to the live registers.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from '../server/logger.js';
import { openStateDir, type StateDir } from '../store/state-dir.js';
import { removeIfExists } from '../store/durable-file.js';
import type { MrBackend } from '../mr/mr-backend.js';
import { openTdxSim } from '../mr/tdx-sim.js';
import { openCcaSim, type CcaRealmHash } from '../mr/cca-sim.js';
import { openTsmMr } from '../mr/tsm-mr.js';
import { readRegisterFile } from '../mr/register-file.js';
import { MrMirror } from '../mr/mr-mirror.js';
import { MrEventLogFile, type OpenedLog } from '../mr/mr-event-log-file.js';
import { checkpointFits, readCheckpoint, tailDigest, writeCheckpoint, type ReplayCheckpoint } from '../mr/replay-checkpoint.js';
import { parsePcrMrMap, RUNTIME_MR_INDEX, UEFI_PCR_MR_MAP } from '../mr/pcr-mr-map.js';
import { checkRegisters, replayRegisters, type RegisterSource } from '../mr/register-check.js';
import { CCEL_DATA_PATH, readCcel, replayCcel } from '../eventlog/ccel.js';
import type { ParsedCcEventLog } from '../eventlog/cc-event-log.js';
import type { MrOptions } from './mr-options.js';
import type { HardwareReportSource } from '../mr/hardware-report.js';
import { tdxSimReportSource } from '../mr/tdx-sim-report.js';
import { ccaSimReportSource } from '../mr/cca-sim-report.js';
import { openConfigfsTsm } from '../mr/configfs-tsm.js';
import { attestationPublicKeyPath } from '../mr/sim-attestation-key.js';

const RUN_DIR = '/run/mrtpm';
const LOG_FILE = 'events.log';
/** The write-ahead intent file of mrtpm before append-first; removed where an old log directory has one. */
const OLD_INTENT_FILE = 'intent';
const CONTROL_SOCKET = 'control.sock';
const CHECKPOINT_FILE = 'replay-checkpoint.json';
/** Log growth (about 5,000 records) after which start-up saves a new replay checkpoint. */
const CHECKPOINT_EVERY = 1024 * 1024;

const registerFilePath = (o: MrOptions): string => resolve(o.mrRegisters ?? join(o.state, `${o.mr}.registers`));
const logDirPath = (o: MrOptions): string => resolve(o.mrLog ?? (o.mr === 'tsm-mr' ? RUN_DIR : join(o.state, `${o.mr}.log`)));
export const logFilePath = (o: MrOptions): string => join(logDirPath(o), LOG_FILE);
/** Where a serving vTPM takes operator requests for its registers (server/mr-control.ts). */
export const controlSocketPath = (o: MrOptions): string => join(logDirPath(o), CONTROL_SOCKET);

const openKernelRegisters = (o: MrOptions): MrBackend => openTsmMr({ ...(o.mrSysfsRoot !== undefined && { sysfsRoot: o.mrSysfsRoot }) });

function openBackend(o: MrOptions): MrBackend {
  if (o.mr === 'tdx-sim' || o.mr === 'cca-sim') mkdirSync(dirname(registerFilePath(o)), { recursive: true, mode: 0o700 });
  switch (o.mr) {
    case 'tdx-sim':
      return openTdxSim(registerFilePath(o), { reset: o.mrReset, init: o.mrInit });
    case 'cca-sim':
      return openCcaSim(registerFilePath(o), { reset: o.mrReset, init: o.mrInit, ...(o.mrHash !== undefined && { hashAlg: o.mrHash as CcaRealmHash }) });
    case 'tsm-mr':
      if (o.mrReset) throw new Error('--mr-reset: real registers reset only when the TD or realm reboots');
      return openKernelRegisters(o);
    case 'none':
      throw new Error('no measurement registers with --mr none');
  }
}

/** The registers to read without taking them over: a simulator's file read-only, tsm-mr's sysfs files. */
export function readRegisters(o: MrOptions): RegisterSource {
  if (o.mr === 'tsm-mr') return openKernelRegisters(o);
  return readRegisterFile(registerFilePath(o));
}

export interface ReportSourceChoice {
  readonly source: HardwareReportSource;
  /** The public key that checks the source's reports (the simulators'), for `--hw-key`. */
  readonly publicKeyPath?: string;
}

/** The hardware report source of `--mr`: a simulator's register file, or the kernel's configfs-tsm for tsm-mr. */
export async function openReportSource(o: MrOptions & { tsmReportRoot?: string }): Promise<ReportSourceChoice> {
  switch (o.mr) {
    case 'tdx-sim':
    case 'cca-sim': {
      const file = registerFilePath(o);
      if (!existsSync(file)) throw new Error(`no ${o.mr} register file at ${file} (a vTPM with --mr ${o.mr} creates it)`);
      const source = o.mr === 'tdx-sim' ? tdxSimReportSource(file) : ccaSimReportSource(file);
      return { source, publicKeyPath: attestationPublicKeyPath(file) };
    }
    case 'tsm-mr':
      return { source: await openConfigfsTsm({ ...(o.tsmReportRoot !== undefined && { root: o.tsmReportRoot }) }) };
    case 'none':
      throw new Error('--mr none has no hardware reports');
  }
}

/** The firmware's part of the history: `--ccel`, else the kernel's CCEL data when present. */
export function firmwareLog(o: MrOptions): ParsedCcEventLog | undefined {
  const path = o.ccel ?? (existsSync(CCEL_DATA_PATH) ? CCEL_DATA_PATH : undefined);
  return path ? readCcel(path) : undefined;
}

export class MrSetup {
  readonly mirror: MrMirror;
  private readonly logDir: StateDir;
  private readonly log: MrEventLogFile;

  constructor(readonly options: MrOptions, readonly backend: MrBackend, logger: Logger, creating: boolean) {
    let logDir: StateDir | undefined;
    let opened: OpenedLog;
    let beforeLog: Map<number, Uint8Array>;
    let checkpoint: ReplayCheckpoint | undefined;
    try {
      this.logDir = logDir = openStateDir(logDirPath(options));
      removeIfExists(this.logDir.path(OLD_INTENT_FILE));
      if (creating) {
        // New registers (a TD reboot, or a first start) begin a new history.
        for (const file of [LOG_FILE, CHECKPOINT_FILE]) removeIfExists(this.logDir.path(file));
      }
      beforeLog = replayCcel(firmwareLog(options), replayRegisters(backend));
      const saved = checkpoint = readCheckpoint(this.logDir.path(CHECKPOINT_FILE));
      const runtime = backend.registers.find((r) => r.ccMrIndex === RUNTIME_MR_INDEX)!;
      opened = MrEventLogFile.openParsed(this.logDir.path(LOG_FILE), [runtime.hashAlg], (bytes) => (saved && checkpointFits(saved, bytes, beforeLog) ? saved.logLength : undefined));
      this.log = opened.file;
      const map = options.mrMap ? parsePcrMrMap(options.mrMap, backend.platform) : UEFI_PCR_MR_MAP;
      this.mirror = new MrMirror(backend, map, this.log, (err) => logger.error('measurement register or MR log failed', { error: err }));
    } catch (err) {
      logDir?.release();
      backend.close();
      throw err;
    }
    const outcome = this.mirror.recover(opened.events.at(-1));
    if (outcome !== 'none') logger.warn("the MR log's last record did not match its register at start-up", { outcome });
    // A dropped record is no longer in the log.
    if (outcome === 'dropped') opened = { ...opened, bytes: opened.bytes.subarray(0, this.log.length), events: opened.events.slice(0, -1) };
    this.checkHistory(opened, opened.from === undefined ? beforeLog : checkpoint!.replayed, beforeLog, logger);
  }

  /**
   * Warns if CCEL + the log do not replay to the live registers, replaying only what follows the
   * checkpoint when one fitted; once the log has grown CHECKPOINT_EVERY bytes past it, saves a new one.
   */
  private checkHistory(opened: OpenedLog, start: ReadonlyMap<number, Uint8Array>, beforeLog: Map<number, Uint8Array>, logger: Logger): void {
    const { from, bytes, events } = opened;
    const checks = checkRegisters(this.backend, events, { start });
    logger.info('checked the MR history against the registers', { records: events.length, ...(from !== undefined && { resumedAt: from }) });
    const mismatched = checks.filter((c) => !c.match).map((c) => c.register);
    if (mismatched.length > 0) {
      logger.warn('the MR history does not replay to these registers (extended outside mrtpm, or CCEL missing)', { registers: mismatched });
    }
    if (this.log.length - (from ?? 0) < CHECKPOINT_EVERY) return;
    const replayed = new Map(checks.map((c) => [c.ccMrIndex, c.replayed]));
    writeCheckpoint(this.logDir.path(CHECKPOINT_FILE), { logLength: this.log.length, tail: tailDigest(bytes, this.log.length), start: beforeLog, replayed });
  }

  close(): void {
    this.log.close();
    this.backend.close();
    this.logDir.release();
  }
}

/** The mirror `--mr` asks for, or undefined for `--mr none`. */
export function openMr(o: MrOptions, logger: Logger): MrSetup | undefined {
  if (o.mr === 'none') return undefined;
  const creating = o.mrReset || (o.mr !== 'tsm-mr' && !existsSync(registerFilePath(o)));
  return new MrSetup(o, openBackend(o), logger, creating);
}
