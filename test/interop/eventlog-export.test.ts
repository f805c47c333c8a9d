/**
 * `mrtpm eventlog export` against the tools: tpm2-tools extend and measure through mssim into
 * `mrtpm serve --mr tdx-sim`, the vTPM stops, the export is written, and tpm2-tools 5.4's
 * tpm2_eventlog must parse the TCG log and replay the PCR values tpm2_pcrread read before the stop.
 * The CEL export must hold the same records in the CEL-JSON structure. A second case starts the
 * TPM at locality 3 (raw mssim Startup), which the PFP's StartupLocality event records; a third runs
 * an H-CRTM sequence before Startup, which EV_EFI_HCRTM_EVENT records.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireInteropTools } from '../helpers/interop-prereqs.js';
import { assertMrtpmBuilt, MRTPM_MAIN, startMrtpm } from '../helpers/mrtpm.js';
import { connectMssim } from '../helpers/raw-client.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';
import { commands, expectSuccess } from '../helpers/tpm-commands.js';
import { parseEventlogEvents, parsePcrRead, type EventlogEntry } from '../helpers/tool-output.js';
import { tpm2 } from '../helpers/tpm2-tools.js';

const run = promisify(execFile);
const TPM2_EVENTLOG = '/usr/bin/tpm2_eventlog';
/** mssim TPM-port hash signals (TpmTcpProtocol.h): _TPM_Hash_Start, _TPM_Hash_Data, _TPM_Hash_End. */
const MSSIM_HASH_START = 5;
const MSSIM_HASH_DATA = 6;
const MSSIM_HASH_END = 7;

/** `mrtpm eventlog export`, its stderr (the notes) alongside. */
async function exportLog(state: string, format: 'tcg' | 'cel', out: string): Promise<string> {
  const { stderr } = await run(process.execPath, [MRTPM_MAIN, 'eventlog', 'export', '--state', state, '--format', format, '--out', out]);
  return stderr;
}

interface CelRecord {
  recnum: number;
  pcr: number;
  digests: { hashAlg: string; digest: string }[];
  content_type: string;
  content: { event_type: string | number; event_data: string };
}

/** The CEL-JSON structure, and the same records as the TCG log (tpm2_eventlog's reading of it). */
function checkCel(text: string, tcg: EventlogEntry[]): void {
  const records = JSON.parse(text) as CelRecord[];
  assert.ok(Array.isArray(records), 'a CEL-JSON log is a JSON array of records');
  const recnums = new Map<number, number>();
  for (const r of records) {
    assert.deepEqual(Object.keys(r), ['recnum', 'pcr', 'digests', 'content_type', 'content']);
    assert.equal(r.recnum, recnums.get(r.pcr) ?? 0, 'recnum counts from 0 per PCR');
    recnums.set(r.pcr, r.recnum + 1);
    assert.equal(r.content_type, 'pcclient_std');
    assert.deepEqual(Object.keys(r.content), ['event_type', 'event_data']);
    for (const d of r.digests) assert.match(d.digest, /^[0-9a-f]+$/);
  }
  // tpm2-tools 5.4 has no name for EV_EFI_HCRTM_EVENT.
  const toolName = (t: string | number): string | number => (t === 'EV_EFI_HCRTM_EVENT' ? 'Unknown event type' : t);
  assert.deepEqual(
    records.map((r) => ({ pcrIndex: r.pcr, eventType: toolName(r.content.event_type), digests: r.digests.map((d) => [d.hashAlg, d.digest]), event: r.content.event_data })),
    tcg,
  );
}

/** A PCR that no record names holds its reset value: zeros, all ones for 17-22 before any DRTM. */
const resetValue = (pcr: number, hex: string): string => (pcr >= 17 && pcr <= 22 ? 'f' : '0').repeat(hex.length);

describe('eventlog export with tpm2-tools (mssim, tdx-sim): tpm2_eventlog replays tpm2_pcrread', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  const tempDir = async (): Promise<string> => { const d = await makeTempDir('mrtpm-evlog'); dirs.push(d); return d; };

  before(async function () {
    await requireInteropTools(this);
    if (!existsSync(TPM2_EVENTLOG)) {
      const message = `${TPM2_EVENTLOG} missing (Debian package tpm2-tools)`;
      if (process.env.CI === 'true') throw new Error(message);
      console.warn(`\n!!!!!!!!!! ${message}; the eventlog export interop test is PENDING, not passed !!!!!!!!!!\n`);
      this.skip();
    }
    assertMrtpmBuilt();
  });
  after(async () => { await Promise.all(dirs.map(removeDir)); });

  it('extends and events on several PCRs and banks, a PCR_Reset in between: the TCG log replays to tpm2_pcrread, the CEL holds the same records', async () => {
    const state = await tempDir();
    const server = await startMrtpm({ protocol: 'mssim', stateDir: state, pcrBanks: ['sha1', 'sha256', 'sha384'], extraArgs: ['--mr', 'tdx-sim'] });
    let read: Map<string, Map<number, string>>;
    const small = join(state, 'small.bin');
    writeFileSync(small, 'measured by tpm2_pcrevent');
    const large = join(state, 'large.bin');
    writeFileSync(large, randomBytes(5000));
    try {
      const t = server.tcti;
      const hex = (n: number): string => randomBytes(n).toString('hex');
      await tpm2(t, 'startup', ['-c']);
      await tpm2(t, 'pcrextend', [`16:sha1=${hex(20)},sha256=${hex(32)},sha384=${hex(48)}`]);
      await tpm2(t, 'pcrextend', [`8:sha256=${hex(32)}`]);
      await tpm2(t, 'pcrextend', [`8:sha1=${hex(20)},sha384=${hex(48)}`]);
      await tpm2(t, 'pcrevent', ['9', small]);
      await tpm2(t, 'pcrevent', ['10', large]);
      await tpm2(t, 'pcrextend', [`0:sha384=${hex(48)}`]);
      await tpm2(t, 'pcrreset', ['16']);
      await tpm2(t, 'pcrextend', [`16:sha1=${hex(20)},sha256=${hex(32)},sha384=${hex(48)}`]);
      await tpm2(t, 'pcrevent', ['23', small]);
      await tpm2(t, 'pcrextend', [`14:sha256=${hex(32)},sha384=${hex(48)}`]);
      read = parsePcrRead(await tpm2(t, 'pcrread', ['sha1:all+sha256:all+sha384:all']));
    } finally {
      await server.stop();
    }

    const tcgPath = join(state, 'eventlog.bin');
    const notes = await exportLog(state, 'tcg', tcgPath);
    assert.match(notes, /PCR 16: 1 extend\(s\) before its last reset are left out/);
    assert.match(notes, /4 extend\(s\) named only some banks/);
    const yaml = (await run(TPM2_EVENTLOG, [tcgPath])).stdout;
    assert.match(yaml, /Signature: Spec ID Event03/);
    const events = parseEventlogEvents(yaml);
    assert.deepEqual(events.map((e) => `${e.pcrIndex} ${e.eventType}`), ['8', '8', '9', '10', '0', '16', '23', '14'].map((p) => `${p} EV_EVENT_TAG`));
    // PCR_Event's digests are the hashes of its data, in every bank.
    const pcr9 = events.find((e) => e.pcrIndex === 9)!;
    assert.deepEqual(pcr9.digests, ['sha1', 'sha256', 'sha384'].map((b) => [b, createHash(b).update(readFileSync(small)).digest('hex')]));

    const replayed = parsePcrRead(yaml.slice(yaml.indexOf('\npcrs:\n')));
    for (const bank of ['sha1', 'sha256', 'sha384']) {
      for (let pcr = 0; pcr < 24; pcr++) {
        const value = read.get(bank)?.get(pcr);
        assert.ok(value, `tpm2_pcrread gave ${bank}:${pcr}`);
        assert.equal(replayed.get(bank)?.get(pcr) ?? resetValue(pcr, value), value, `${bank}:${pcr}`);
      }
    }
    assert.ok(replayed.get('sha384')?.has(16) && replayed.get('sha256')?.has(10), 'the replay covers the extended PCRs');

    const celPath = join(state, 'eventlog.json');
    await exportLog(state, 'cel', celPath);
    checkCel(readFileSync(celPath, 'utf8'), events);
  });

  it('Startup at locality 3: the StartupLocality event opens PCR 0, which then replays by the PFP rule', async () => {
    const state = await tempDir();
    const server = await startMrtpm({ protocol: 'mssim', stateDir: state, pcrBanks: ['sha256'], extraArgs: ['--mr', 'tdx-sim'] });
    const d0 = randomBytes(32);
    let read: Map<string, Map<number, string>>;
    try {
      const raw = await connectMssim(server.port);
      try {
        expectSuccess(await raw.tpm.transmit(commands.startup(), 3), 'Startup(CLEAR) at locality 3');
      } finally {
        raw.tpm.close();
        raw.platform.close();
      }
      await tpm2(server.tcti, 'pcrextend', [`0:sha256=${d0.toString('hex')}`]);
      await tpm2(server.tcti, 'pcrextend', [`4:sha256=${randomBytes(32).toString('hex')}`]);
      read = parsePcrRead(await tpm2(server.tcti, 'pcrread', ['sha256:0,4']));
    } finally {
      await server.stop();
    }
    const locality3 = Buffer.alloc(32);
    locality3[31] = 3;
    assert.equal(read.get('sha256')?.get(0), createHash('sha256').update(locality3).update(d0).digest('hex'), 'the TPM started PCR 0 at 0...03');

    const tcgPath = join(state, 'eventlog.bin');
    assert.equal(await exportLog(state, 'tcg', tcgPath), '');
    const yaml = (await run(TPM2_EVENTLOG, [tcgPath])).stdout;
    const events = parseEventlogEvents(yaml);
    assert.deepEqual(events.map((e) => `${e.pcrIndex} ${e.eventType}`), ['0 EV_NO_ACTION', '0 EV_EVENT_TAG', '4 EV_EVENT_TAG']);
    assert.equal(events[0]!.event, Buffer.from('StartupLocality\0\x03', 'latin1').toString('hex'));
    assert.deepEqual(events[0]!.digests, [['sha256', '0'.repeat(64)]]);

    // tpm2-tools 5.4 neither starts PCR 0 at the StartupLocality value nor skips EV_NO_ACTION
    // (both fixed in 5.6), so its PCR 0 is not compared; the PFP rule is applied here instead.
    const replayed = parsePcrRead(yaml.slice(yaml.indexOf('\npcrs:\n')));
    assert.equal(replayed.get('sha256')?.get(4), read.get('sha256')?.get(4));
    const pcr0 = events.filter((e) => e.pcrIndex === 0 && e.eventType !== 'EV_NO_ACTION')
      .reduce((v, e) => createHash('sha256').update(v).update(Buffer.from(e.digests[0]![1], 'hex')).digest(), locality3);
    assert.equal(pcr0.toString('hex'), read.get('sha256')?.get(0));

    const celPath = join(state, 'eventlog.json');
    await exportLog(state, 'cel', celPath);
    const cel = readFileSync(celPath, 'utf8');
    checkCel(cel, events);
    assert.equal((JSON.parse(cel) as CelRecord[])[0]!.content.event_data, Buffer.from('StartupLocality\0\x03', 'latin1').toString('hex'));
  });
  it('H-CRTM before Startup (mssim hash signals): EV_EFI_HCRTM_EVENT opens PCR 0', async () => {
    const state = await tempDir();
    const server = await startMrtpm({ protocol: 'mssim', stateDir: state, pcrBanks: ['sha256', 'sha384'], extraArgs: ['--mr', 'tdx-sim'] });
    const crtm = randomBytes(100);
    const d0 = randomBytes(48);
    let read: Map<string, Map<number, string>>;
    try {
      const raw = await connectMssim(server.port);
      try {
        const signal = async (frame: Buffer): Promise<void> => {
          raw.tpm.send(frame);
          assert.equal((await raw.tpm.stream.read(4, 5000)).readUInt32BE(0), 0, 'signal acknowledged');
        };
        const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
        await signal(u32(MSSIM_HASH_START));
        await signal(Buffer.concat([u32(MSSIM_HASH_DATA), u32(crtm.length), crtm]));
        await signal(u32(MSSIM_HASH_END));
        expectSuccess(await raw.tpm.transmit(commands.startup()), 'Startup(CLEAR)');
      } finally {
        raw.tpm.close();
        raw.platform.close();
      }
      await tpm2(server.tcti, 'pcrextend', [`0:sha384=${d0.toString('hex')}`]);
      await tpm2(server.tcti, 'pcrextend', [`2:sha256=${randomBytes(32).toString('hex')},sha384=${randomBytes(48).toString('hex')}`]);
      read = parsePcrRead(await tpm2(server.tcti, 'pcrread', ['sha256:0,2+sha384:0,2']));
    } finally {
      await server.stop();
    }
    const locality4 = (size: number): Buffer => { const b = Buffer.alloc(size); b[size - 1] = 4; return b; };
    const hcrtm = (bank: string, size: number): Buffer => createHash(bank).update(locality4(size)).update(createHash(bank).update(crtm).digest()).digest();
    assert.equal(read.get('sha256')?.get(0), hcrtm('sha256', 32).toString('hex'), 'the TPM put H(0...04 || H(CRTM)) in PCR 0');
    assert.equal(read.get('sha384')?.get(0), createHash('sha384').update(hcrtm('sha384', 48)).update(d0).digest('hex'));

    const tcgPath = join(state, 'eventlog.bin');
    await exportLog(state, 'tcg', tcgPath);
    const yaml = (await run(TPM2_EVENTLOG, [tcgPath])).stdout;
    const events = parseEventlogEvents(yaml);
    // tpm2-tools 5.4 predates EV_EFI_HCRTM_EVENT (0x80000010): it names the type "Unknown event type".
    assert.deepEqual(events.map((e) => `${e.pcrIndex} ${e.eventType}`), ['0 Unknown event type', '0 EV_EVENT_TAG', '2 EV_EVENT_TAG']);
    assert.match(yaml, /EventType: Unknown event type\n {2}DigestCount: 2/);
    assert.deepEqual(events[0]!.digests, ['sha256', 'sha384'].map((b) => [b, createHash(b).update(crtm).digest('hex')]));
    assert.equal(events[0]!.event, Buffer.from('HCRTM').toString('hex'));

    // As with StartupLocality, tpm2-tools 5.4 starts PCR 0 at zero; the PFP rule is applied here.
    const replayed = parsePcrRead(yaml.slice(yaml.indexOf('\npcrs:\n')));
    for (const bank of ['sha256', 'sha384']) {
      assert.equal(replayed.get(bank)?.get(2), read.get(bank)?.get(2), `${bank}:2`);
      const size = bank === 'sha256' ? 32 : 48;
      const pcr0 = events.filter((e) => e.pcrIndex === 0).flatMap((e) => e.digests.filter(([b]) => b === bank))
        .reduce((v, [, d]) => createHash(bank).update(v).update(Buffer.from(d, 'hex')).digest(), locality4(size));
      assert.equal(pcr0.toString('hex'), read.get(bank)?.get(0), `${bank}:0`);
    }
    const celPath = join(state, 'eventlog.json');
    await exportLog(state, 'cel', celPath);
    checkCel(readFileSync(celPath, 'utf8'), events);
  });
});
