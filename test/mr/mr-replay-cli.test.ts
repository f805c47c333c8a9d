/**
 * `mrtpm mr replay` on real hardware's shape: the firmware's CCEL (with its padding) followed by
 * mrtpm's MR log must replay to the live tsm-mr registers; a register that differs is named and
 * the exit status is 1.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { encodeCcEventLog, newCcEventLog } from '../../src/eventlog/cc-event-log.js';
import { readMrEventLog } from '../../src/mr/mr-event-log-file.js';
import { TPM_ALG } from '../../src/tpm/spec/constants.js';
import { TPM_CC } from '../../src/tpm/spec/tpm-cc.js';
import { MRTPM_MAIN } from '../helpers/mrtpm.js';
import { mirrorRig } from './helpers/mirror-rig.js';

const run = promisify(execFile);
const sha384 = (s: string): Buffer => createHash('sha384').update(s).digest();
const EV_EFI_VARIABLE_DRIVER_CONFIG = 0x80000001;
const EV_NO_ACTION = 3;

describe('mrtpm mr replay: CCEL + MR log against tsm-mr registers', function () {
  this.timeout(30_000);
  it('matches register by register, and names the one that differs (exit 1)', async () => {
    const rig = mirrorRig({ kind: 'tdx-sim' });
    try {
      // mrtpm's part: runtime extends on PCR 16 (RTMR3) and 9 (RTMR2).
      for (const [pcr, n] of [[16, 1], [9, 2], [16, 3]] as const) {
        const d = [{ hashAlg: TPM_ALG.SHA384, digest: sha384(`runtime ${n}`) }];
        rig.mirror.beforeExtend({ pcr, command: TPM_CC.PCR_Extend, applied: d, supplied: d });
      }
      // The firmware's part: a CCEL with events for RTMR0-2 (one EV_NO_ACTION, not extended), then 0xFF padding.
      const firmware = [[1, 'config'], [2, 'kernel'], [3, 'initrd'], [2, 'cmdline']] as const;
      const ccel = Buffer.concat([
        encodeCcEventLog(newCcEventLog([TPM_ALG.SHA384]), [
          ...firmware.map(([mrIndex, what]) => ({ mrIndex, eventType: EV_EFI_VARIABLE_DRIVER_CONFIG, digests: [{ hashAlg: TPM_ALG.SHA384, digest: sha384(what) }], event: Buffer.from(what) })),
          { mrIndex: 1, eventType: EV_NO_ACTION, digests: [{ hashAlg: TPM_ALG.SHA384, digest: sha384('not extended') }], event: Buffer.from('x') },
        ]),
        Buffer.alloc(256, 0xff),
      ]);
      writeFileSync(join(rig.dir, 'CCEL'), ccel);
      copyFileSync(join(rig.dir, 'events.log'), join(rig.dir, 'mrtpm.log'));

      // The kernel's registers as hardware would hold them: SHA-384 chains computed here.
      const chain = (digests: Buffer[]): Buffer => digests.reduce((v, d) => createHash('sha384').update(v).update(d).digest(), Buffer.alloc(48));
      const logged = readMrEventLog(join(rig.dir, 'mrtpm.log')).events;
      const rtmr = (mrIndex: number): Buffer => chain([
        ...firmware.filter(([i]) => i === mrIndex).map(([, what]) => sha384(what)),
        ...logged.filter((e) => e.mrIndex === mrIndex && e.eventType !== EV_NO_ACTION).map((e) => Buffer.from(e.digests[0]!.digest)),
      ]);
      const measurements = join(rig.dir, 'sys', 'tdx_guest', 'measurements');
      mkdirSync(measurements, { recursive: true });
      writeFileSync(join(measurements, 'mrtd:sha384'), Buffer.alloc(48));
      for (let i = 0; i < 4; i++) writeFileSync(join(measurements, `rtmr${i}:sha384`), rtmr(i + 1));

      const args = [MRTPM_MAIN, 'mr', 'replay', '--mr', 'tsm-mr', '--mr-sysfs-root', join(rig.dir, 'sys'), '--ccel', join(rig.dir, 'CCEL'), '--log', join(rig.dir, 'mrtpm.log')];
      const ok = await run(process.execPath, args);
      assert.deepEqual(ok.stdout.split('\n').filter((l) => /^rtmr/.test(l)).map((l) => l.split(/\s+/).slice(0, 2).join(' ')),
        ['rtmr0 matches', 'rtmr1 matches', 'rtmr2 matches', 'rtmr3 matches']);

      writeFileSync(join(measurements, 'rtmr1:sha384'), sha384('someone else extended this'));
      await assert.rejects(run(process.execPath, args), (err: { code: number; stdout: string }) => {
        assert.equal(err.code, 1);
        assert.match(err.stdout, /^rtmr1 +DIFFERS/m);
        return true;
      });
    } finally {
      rig.close();
    }
  });
});
