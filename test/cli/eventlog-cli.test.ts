/**
 * `mrtpm eventlog export` as a command: output to stdout (binary intact) or --out, the notes on
 * stderr, and the failures (no Startup in the log, no log, --mr none) as one line and exit status 2.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { encodeCcEventLog, newCcEventLog, parseCcEventLog } from '../../src/eventlog/cc-event-log.js';
import { encodeMirrorEvent, type MirrorEvent } from '../../src/mr/mirror-events.js';
import { MRTPM_MAIN } from '../helpers/mrtpm.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';

const run = promisify(execFile);
const SHA256 = 0x000b;
const SHA384 = 0x000c;

const mrLog = (events: MirrorEvent[]): Uint8Array =>
  encodeCcEventLog(newCcEventLog([SHA384]), events.map((e) => ({ mrIndex: 4, eventType: 6, digests: [{ hashAlg: SHA384, digest: new Uint8Array(48) }], event: encodeMirrorEvent(e) })));
const startup: MirrorEvent = { kind: 'startup', startup: 'reset', locality: 0, allocation: [{ hash: SHA256, pcrs: Array.from({ length: 24 }, (_, i) => i) }], hcrtm: [] };
const extend = (pcr: number, byte: number): MirrorEvent => ({
  kind: 'extend', pcr, command: 0x182, applied: [{ hashAlg: SHA256, digest: new Uint8Array(32).fill(byte) }], mrSourceAlg: SHA256, eventData: new Uint8Array(0),
});

describe('mrtpm eventlog export (CLI)', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(async () => { dir = await makeTempDir('mrtpm-evlog-cli'); });
  afterEach(async () => { await removeDir(dir); });

  const exportArgs = (log: string, format: string): string[] => [MRTPM_MAIN, 'eventlog', 'export', '--log', log, '--format', format];

  it('writes the TCG log to stdout intact (it parses to the kept extends), the CEL to --out, and the notes to stderr', async () => {
    const log = join(dir, 'events.log');
    writeFileSync(log, mrLog([startup, extend(16, 1), { kind: 'pcr-reset', pcr: 16 }, extend(16, 2), extend(8, 3)]));
    const tcg = await run(process.execPath, exportArgs(log, 'tcg'), { encoding: 'buffer' });
    const parsed = parseCcEventLog(tcg.stdout);
    assert.deepEqual(parsed.events.map((e) => [e.mrIndex, e.digests[0]!.digest[0]]), [[16, 2], [8, 3]]);
    assert.equal(tcg.stderr.toString(), 'mrtpm eventlog: note: PCR 16: 1 extend(s) before its last reset are left out (a TCG log cannot record the reset)\n');

    const out = join(dir, 'cel.json');
    const cel = await run(process.execPath, [...exportArgs(log, 'cel'), '--out', out]);
    assert.equal(cel.stdout, '');
    const records = JSON.parse(readFileSync(out, 'utf8')) as { pcr: number; recnum: number }[];
    assert.deepEqual(records.map((r) => [r.pcr, r.recnum]), [[16, 0], [8, 0]]);
  });

  it('fails with one line and exit status 2: no Startup in the log, no log, --mr none', async () => {
    const log = join(dir, 'events.log');
    writeFileSync(log, mrLog([extend(8, 1)]));
    const fails = async (args: string[], message: RegExp): Promise<void> => {
      await assert.rejects(run(process.execPath, args), (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, message);
        assert.equal(err.stderr.trim().split('\n').length, 1);
        return true;
      });
    };
    await fails(exportArgs(log, 'tcg'), /^mrtpm eventlog: the MR event log has no Startup marker/);
    await fails([MRTPM_MAIN, 'eventlog', 'export', '--state', dir, '--format', 'cel'], /^mrtpm eventlog: ENOENT: .*tdx-sim\.log\/events\.log/);
    await fails([MRTPM_MAIN, 'eventlog', 'export', '--state', dir, '--format', 'cel', '--mr', 'none'], /^mrtpm eventlog: --mr none keeps no MR event log/);
  });
});
