/**
 * Opens what `--mr` chooses: the register backend, the MR event log directory (locked, one
 * mirroring process at a time) and the mirror, settling the write-ahead intent a crash left and
 * checking that the history replays to the live registers.
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
import { MrEventLogFile, readMrEventLog } from '../mr/mr-event-log-file.js';
import { IntentFile } from '../mr/write-ahead-intent.js';
import { parsePcrMrMap, RUNTIME_MR_INDEX, UEFI_PCR_MR_MAP } from '../mr/pcr-mr-map.js';
import { checkRegisters, type RegisterSource } from '../mr/register-check.js';
import type { CcEventRecord } from '../eventlog/cc-event.js';
import { CCEL_DATA_PATH, readCcel } from '../eventlog/ccel.js';
import type { ParsedCcEventLog } from '../eventlog/cc-event-log.js';
import type { MrOptions } from './mr-options.js';

const RUN_DIR = '/run/mrtpm';
const LOG_FILE = 'events.log';
const INTENT_FILE = 'intent';
const CONTROL_SOCKET = 'control.sock';

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

/** The firmware's part of the history: `--ccel`, else the kernel's CCEL data when present. */
export function firmwareLog(o: MrOptions): ParsedCcEventLog | undefined {
  const path = o.ccel ?? (existsSync(CCEL_DATA_PATH) ? CCEL_DATA_PATH : undefined);
  return path ? readCcel(path) : undefined;
}

export class MrSetup {
  readonly mirror: MrMirror;
  private readonly logDir: StateDir;
  private readonly log: MrEventLogFile;
  private readonly intent: IntentFile;

  constructor(readonly options: MrOptions, readonly backend: MrBackend, logger: Logger, creating: boolean) {
    let logDir: StateDir | undefined;
    let opened: CcEventRecord[];
    try {
      this.logDir = logDir = openStateDir(logDirPath(options));
      if (creating) {
        // New registers (a TD reboot, or a first start) begin a new history.
        removeIfExists(this.logDir.path(LOG_FILE));
        removeIfExists(this.logDir.path(INTENT_FILE));
      }
      const runtime = backend.registers.find((r) => r.ccMrIndex === RUNTIME_MR_INDEX)!;
      ({ file: this.log, events: opened } = MrEventLogFile.openParsed(this.logDir.path(LOG_FILE), [runtime.hashAlg]));
      this.intent = new IntentFile(this.logDir.path(INTENT_FILE));
      const map = options.mrMap ? parsePcrMrMap(options.mrMap, backend.platform) : UEFI_PCR_MR_MAP;
      this.mirror = new MrMirror(backend, map, this.log, this.intent, (err) => logger.error('measurement register or MR log failed', { error: err }));
    } catch (err) {
      logDir?.release();
      backend.close();
      throw err;
    }
    const outcome = this.mirror.recover();
    if (outcome !== 'none') logger.warn('settled the MR extend a crash interrupted', { outcome });
    // The records parsed on opening are the log unless recovery appended one (rare): no second parse.
    const events = outcome === 'completed' ? readMrEventLog(this.log.path).events : opened;
    const mismatched = checkRegisters(this.backend, events, firmwareLog(this.options)).filter((c) => !c.match).map((c) => c.register);
    if (mismatched.length > 0) {
      logger.warn('the MR history does not replay to these registers (extended outside mrtpm, or CCEL missing)', { registers: mismatched });
    }
  }

  close(): void {
    this.intent.close();
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
