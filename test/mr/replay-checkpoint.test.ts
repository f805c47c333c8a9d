/**
 * The start-up replay checkpoint: once the MR log has grown past 1 MiB a start saves the replayed
 * register values, and the next start replays only the records after them; the check still finds
 * a register moved outside mrtpm, and a checkpoint that no longer fits (the log's bytes before it
 * changed, another CCEL) is ignored for a full replay.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openMr } from '../../src/cli/mr-setup.js';
import type { MrOptions } from '../../src/cli/mr-options.js';
import { createLogger } from '../../src/server/logger.js';
import { openTdxSim } from '../../src/mr/tdx-sim.js';
import { readCheckpoint } from '../../src/mr/replay-checkpoint.js';
import { readMrEventLog } from '../../src/mr/mr-event-log-file.js';
import { encodeCcEventLog, newCcEventLog } from '../../src/eventlog/cc-event-log.js';
import { EVENT_TYPES } from '../../src/eventlog/event-types.js';
import { TPM_ALG } from '../../src/tpm/spec/constants.js';
import { TPM_CC } from '../../src/tpm/spec/tpm-cc.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';

interface Line { msg: string; records?: number; resumedAt?: number; registers?: string[] }

const sha384 = (s: string): Uint8Array => createHash('sha384').update(s).digest();

describe('mr/replay checkpoint at start-up', function () {
  this.timeout(60_000);
  let state: string;
  beforeEach(async () => { state = await makeTempDir('mrtpm-ckpt'); });
  afterEach(async () => { await removeDir(state); });

  const options = (extra: Partial<MrOptions> = {}): MrOptions => ({ state, mr: 'tdx-sim', mrReset: false, mrInit: {}, ...extra });
  const checkpointPath = (): string => join(state, 'tdx-sim.log', 'replay-checkpoint.json');

  /** Opens the mirror as `serve` does, runs `work` on it, closes it; returns what start-up logged. */
  function start(work: (extend: (pcr: number, tag: string) => void) => void = () => {}, extra: Partial<MrOptions> = {}): { checked: Line; mismatched: string[] } {
    const lines: Line[] = [];
    const logger = createLogger({ level: 'info', sink: { write: (l: string) => lines.push(JSON.parse(l) as Line) } });
    const mr = openMr(options(extra), logger)!;
    try {
      work((pcr, tag) => {
        const d = [{ hashAlg: TPM_ALG.SHA384, digest: sha384(tag) }];
        mr.mirror.beforeExtend({ pcr, command: TPM_CC.PCR_Extend, applied: d, supplied: d });
      });
    } finally {
      mr.close();
    }
    const checked = lines.find((l) => l.msg === 'checked the MR history against the registers')!;
    return { checked, mismatched: lines.find((l) => l.msg.startsWith('the MR history does not replay'))?.registers ?? [] };
  }

  it('resumes after the checkpoint, and still finds a register moved outside mrtpm', () => {
    start((extend) => {
      for (let i = 0; i < 8000; i++) extend(i % 3 === 0 ? 8 : 16, `e${i}`);
    });
    assert.equal(existsSync(checkpointPath()), false, 'the first start had an empty log');
    const full = start((extend) => { for (let i = 0; i < 10; i++) extend(23, `f${i}`); });
    assert.equal(full.checked.records, 8000);
    assert.equal(full.checked.resumedAt, undefined);
    assert.deepEqual(full.mismatched, []);
    const saved = readCheckpoint(checkpointPath())!;
    assert.ok(saved.logLength > 1024 * 1024);

    const resumed = start();
    assert.equal(resumed.checked.resumedAt, saved.logLength);
    assert.equal(resumed.checked.records, 10, 'only the records appended after the checkpoint');
    assert.deepEqual(resumed.mismatched, []);

    const registers = openTdxSim(join(state, 'tdx-sim.registers'));
    registers.extend('rtmr3', sha384('not through mrtpm'));
    registers.close();
    const foreign = start();
    assert.equal(foreign.checked.resumedAt, saved.logLength);
    assert.deepEqual(foreign.mismatched, ['rtmr3']);
  });

  it('is ignored when the log bytes before it changed or the CCEL differs', () => {
    start((extend) => { for (let i = 0; i < 8000; i++) extend(16, `e${i}`); });
    start();
    const saved = readCheckpoint(checkpointPath())!;
    assert.equal(start().checked.resumedAt, saved.logLength);

    const logPath = join(state, 'tdx-sim.log', 'events.log');
    const log = readFileSync(logPath);
    // The digest of the last record before the checkpoint: after its u32 MrIndex, EventType, digest count and u16 hashAlg.
    const lastBefore = readMrEventLog(logPath).events.filter((e) => e.offset < saved.logLength).at(-1)!;
    log[lastBefore.offset + 14]! ^= 0xff;
    writeFileSync(logPath, log);
    const changed = start();
    assert.equal(changed.checked.resumedAt, undefined);
    assert.equal(changed.checked.records, 8000);
    assert.deepEqual(changed.mismatched, ['rtmr3'], 'the flipped byte is a digest in the last record before the checkpoint');

    const ccel = join(state, 'ccel.bin');
    writeFileSync(ccel, encodeCcEventLog(newCcEventLog([TPM_ALG.SHA384]), [{ mrIndex: 1, eventType: EVENT_TYPES.EV_SEPARATOR, digests: [{ hashAlg: TPM_ALG.SHA384, digest: sha384('firmware') }], event: new Uint8Array(4) }]));
    assert.equal(start().checked.resumedAt, saved.logLength, 'the full replay saved a checkpoint for the changed log');
    const otherCcel = start(undefined, { ccel });
    assert.equal(otherCcel.checked.resumedAt, undefined);
    assert.deepEqual(otherCcel.mismatched, ['rtmr0', 'rtmr3'], 'the CCEL names an extend rtmr0 never had');
  });
});
