/** A mirror over a real simulated register file and log in a temp directory. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTdxSim } from '../../../src/mr/tdx-sim.js';
import { openCcaSim, type CcaRealmHash } from '../../../src/mr/cca-sim.js';
import type { MrBackend } from '../../../src/mr/mr-backend.js';
import { MrMirror } from '../../../src/mr/mr-mirror.js';
import { MrEventLogFile, readMrEventLog } from '../../../src/mr/mr-event-log-file.js';
import { UEFI_PCR_MR_MAP, type PcrMrMap } from '../../../src/mr/pcr-mr-map.js';
import type { CcEventRecord } from '../../../src/eventlog/cc-event.js';

export type SimKind = { kind: 'tdx-sim' } | { kind: 'cca-sim'; hashAlg: CcaRealmHash };

export interface MirrorRig {
  dir: string;
  backend: MrBackend;
  mirror: MrMirror;
  events(): CcEventRecord[];
  close(): void;
}

export function mirrorRig(sim: SimKind, map: PcrMrMap = UEFI_PCR_MR_MAP): MirrorRig {
  const dir = mkdtempSync(join(tmpdir(), 'mrtpm-mirror-'));
  const registers = join(dir, 'sim.registers');
  const backend = sim.kind === 'tdx-sim' ? openTdxSim(registers) : openCcaSim(registers, { hashAlg: sim.hashAlg });
  const runtime = backend.registers.find((r) => r.ccMrIndex === 4)!;
  const logPath = join(dir, 'events.log');
  const log = MrEventLogFile.open(logPath, [runtime.hashAlg]);
  const mirror = new MrMirror(backend, map, log);
  return {
    dir, backend, mirror,
    events: () => readMrEventLog(logPath).events,
    close: () => {
      log.close();
      backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
