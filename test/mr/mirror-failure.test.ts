/**
 * A register that refuses fails the TPM command, and no PCR bank moves: the engine with the
 * mirror over the tsm-mr backend, whose rtmr3 file cannot be written.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTsmMr } from '../../src/mr/tsm-mr.js';
import { MrMirror } from '../../src/mr/mr-mirror.js';
import { MrEventLogFile } from '../../src/mr/mr-event-log-file.js';
import { UEFI_PCR_MR_MAP } from '../../src/mr/pcr-mr-map.js';
import { TPM_ALG } from '../../src/tpm/spec/constants.js';
import { TPM_RC } from '../../src/tpm/spec/tpm-rc.js';
import { ALG, commands, rcOf, startedTpm } from '../tpm/helpers/pcr-cmd.js';
import { refuseExtends, zeroedTdxGuest } from './helpers/fake-sysfs.js';

describe('mr/mirror: a refusing register fails the command with no PCR moved', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'mrtpm-mrfail-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('tsm-mr write error -> TPM_RC_FAILURE; PCR 16 and the log unchanged; PCR 8 (another register) still works', () => {
    const measurements = zeroedTdxGuest(dir);
    const backend = openTsmMr({ sysfsRoot: dir });
    const log = MrEventLogFile.open(join(dir, 'events.log'), [TPM_ALG.SHA384]);
    const reported: unknown[] = [];
    const mirror = new MrMirror(backend, UEFI_PCR_MR_MAP, log, (err) => reported.push(err));
    try {
      const t = startedTpm([ALG.sha256, ALG.sha384], mirror);
      const before = t.readOne('sha256', 16);
      const logged = readFileSync(join(dir, 'events.log'));
      // rtmr3 still reads, but its writes fail (ENOSPC -> EIO): each record, appended first, is cut off again.
      refuseExtends(measurements, 'rtmr3:sha384');
      assert.equal(rcOf(t.run(commands.extend(16, [[ALG.sha256, Buffer.alloc(32, 1)]]))), TPM_RC.FAILURE);
      assert.equal(rcOf(t.run(commands.event(16, Buffer.from('x')))), TPM_RC.FAILURE);
      assert.deepEqual(t.readOne('sha256', 16), before);
      assert.deepEqual(readFileSync(join(dir, 'events.log')), logged);
      assert.ok(reported.length >= 2);
      // A register that cannot even be read fails the command before anything is appended.
      rmSync(join(measurements, 'rtmr3:sha384'));
      mkdirSync(join(measurements, 'rtmr3:sha384'));
      assert.equal(rcOf(t.run(commands.extend(16, [[ALG.sha256, Buffer.alloc(32, 1)]]))), TPM_RC.FAILURE);
      assert.deepEqual(readFileSync(join(dir, 'events.log')), logged);
      t.ok(commands.extend(8, [[ALG.sha384, Buffer.alloc(48, 2)]]));
      assert.deepEqual(Buffer.from(backend.read('rtmr2')), Buffer.alloc(48, 2));
    } finally {
      log.close();
      backend.close();
    }
  });
});
