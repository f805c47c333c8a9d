/**
 * `mrtpm ima measure | replay`: IMA measurement lists kept in the state directory, in the Linux
 * kernel's formats, whose entries extend PCR 10 of the vTPM exactly as the kernel's IMA would
 * (and so, through the MR mirror, RTMR2 / REM2).
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Command, Option } from 'commander';
import { createLogger } from '../server/logger.js';
import { MssimClient } from '../client/mssim-client.js';
import { parsePort } from './options.js';
import { StateDirInUseError } from '../store/state-dir.js';
import { hashByName, hashInfo } from '../tpm/spec/hash-algs.js';
import { toHex } from '../tpm/crypto/bytes.js';
import { EngineDevice } from './engine-device.js';
import { operatorAction } from './operator-action.js';
import { addMrOptions, type MrOptions } from './mr-options.js';
import { openMr } from './mr-setup.js';
import { allocatedBanks, extendPcr, readPcrs, type TpmLink } from './pcr-client.js';
import { BOOT_AGGREGATE_PCRS, bootAggregate, bootAggregateBank } from '../ima/boot-aggregate.js';
import { IMA_PCR, bootAggregateMeasurement, fileMeasurement, type ImaMeasurement } from '../ima/ima-measure.js';
import { formatAsciiEntry, isBinaryList, parseAsciiList, parseBinaryList, type ImaEntry } from '../ima/ima-list.js';
import { BINARY_LIST, IMA_LIST_DIR, ImaListFiles, listHashOf } from '../ima/ima-list-files.js';
import { replayImaList, replayPaddedSha1 } from '../ima/ima-replay.js';

interface CommonOptions extends MrOptions {
  host: string;
  port?: number;
  listDir?: string;
}
interface MeasureOptions extends CommonOptions { hash: string; new: boolean }
interface ReplayOptions extends CommonOptions { banks?: string[]; listHash?: string; json: boolean }
/** One bank's PCR: replayed with the bank's hash and, where that is not the TPM's, with padded SHA-1. */
interface ReplayRow { bank: string; pcr: number; replayed: string; paddedSha1?: string; tpm?: string; match?: boolean }

const HASHES = ['sha1', 'sha256', 'sha384', 'sha512'];

const listDir = (o: CommonOptions): string => o.listDir ?? join(o.state, IMA_LIST_DIR);

/**
 * The TPM to talk to: the serving vTPM at --port (mssim), else the state directory opened in
 * this process (with its MR mirror), as `mrtpm stdio` opens it for one tool run.
 */
async function openTpm(o: CommonOptions): Promise<TpmLink> {
  if (o.port !== undefined) {
    const client = await MssimClient.connect(o.host, o.port);
    return { execute: (c) => client.execute(c), close: () => client.close() };
  }
  const logger = createLogger({ level: 'warn' });
  const mr = openMr(o, logger);
  try {
    const device = await EngineDevice.open({ stateDir: o.state, reset: false, trace: false, logger, ...(mr && { pcrObserver: mr.mirror }) });
    const client = device.openClient();
    return {
      execute: async (c) => device.execute(c, 0, client),
      close: () => { device.closeClient(client); device.close(); mr?.close(); },
    };
  } catch (e) {
    mr?.close();
    throw e instanceof StateDirInUseError ? new Error(`${e.message}: a vTPM serves this state; reach it with --port (its mssim TPM port)`) : e;
  }
}

const bankName = (alg: number): string => hashInfo(alg)?.name ?? `0x${alg.toString(16)}`;

/** The boot_aggregate entry for a new list, from the TPM's PCRs 0-9 as the kernel reads them at boot. */
async function bootAggregateEntry(tpm: TpmLink, o: MeasureOptions, banks: number[], hashes: string[]): Promise<ImaMeasurement> {
  const bank = bootAggregateBank(o.hash, banks.map(bankName));
  if (!bank) throw new Error('no sha1 or sha256 PCR bank for the boot_aggregate');
  const pcrs = await readPcrs(tpm, hashByName(bank)!.alg, BOOT_AGGREGATE_PCRS);
  return bootAggregateMeasurement(bank, bootAggregate(bank, pcrs), hashes);
}

/** Appends, then extends: a refused extend cuts the entry off again, so list and PCR 10 stay one history. */
async function record(tpm: TpmLink, files: ImaListFiles, m: ImaMeasurement, banks: number[]): Promise<void> {
  const undo = files.append([m]);
  try {
    await extendPcr(tpm, IMA_PCR, banks, m.entry.templateData!);
  } catch (e) {
    undo();
    throw e;
  }
  process.stdout.write(formatAsciiEntry(m.entry));
}

async function measure(files: string[], o: MeasureOptions): Promise<void> {
  const tpm = await openTpm(o);
  try {
    const list = ImaListFiles.open(listDir(o));
    try {
      const banks = await allocatedBanks(tpm);
      const names = banks.map(bankName);
      if (o.new || list.isEmpty()) {
        const first = await bootAggregateEntry(tpm, o, banks, names);
        list.create(names);
        await record(tpm, list, first, banks);
      }
      for (const file of files) await record(tpm, list, fileMeasurement(file, o.hash, list.hashes()), banks);
    } finally {
      list.release();
    }
  } finally {
    tpm.close();
  }
}

/** A list file in either format; the template-hash column's hash from --list-hash, the file name or the ascii width. */
function readList(path: string, listHash: string | undefined): { entries: ImaEntry[]; listHash: string } {
  const bytes = readFileSync(path);
  if (isBinaryList(bytes)) {
    const hash = listHash ?? listHashOf(basename(path));
    return { entries: parseBinaryList(bytes, hashByName(hash)!.digestSize), listHash: hash };
  }
  const entries = parseAsciiList(bytes.toString('utf8'));
  const width = entries[0]?.templateHash.length ?? 20;
  return { entries, listHash: listHash ?? HASHES.find((h) => hashByName(h)!.digestSize === width) ?? 'sha1' };
}

async function replay(listArg: string | undefined, o: ReplayOptions, compare: boolean): Promise<void> {
  const path = listArg ?? join(listDir(o), BINARY_LIST);
  const { entries, listHash } = readList(path, o.listHash);
  const tpm = compare ? await openTpm(o) : undefined;
  try {
    const tpmBanks = tpm && (await allocatedBanks(tpm)).map(bankName);
    const result = replayImaList(entries, o.banks ?? tpmBanks ?? ['sha1', 'sha256'], listHash);
    const rows: ReplayRow[] = [];
    for (const [bank, pcrs] of result.banks) {
      const live = tpm && tpmBanks!.includes(bank) ? await readPcrs(tpm, hashByName(bank)!.alg, [...pcrs.keys()]) : undefined;
      for (const [pcr, value] of pcrs) {
        const now = live?.get(pcr);
        rows.push({ bank, pcr, replayed: toHex(value), ...(now && { tpm: toHex(now), match: toHex(now) === toHex(value) }) });
      }
    }
    // A bank the kernel had no hash for carries padded SHA-1 template hashes: shown when nothing
    // is compared, and tried where the bank's own replay differs.
    const unmatched = rows.filter((r) => r.bank !== 'sha1' && r.match !== true);
    const padded = unmatched.length > 0 ? replayPaddedSha1(entries, [...new Set(unmatched.map((r) => r.bank))], listHash) : new Map<string, Map<number, Uint8Array>>();
    for (const r of unmatched) {
      const value = padded.get(r.bank)?.get(r.pcr);
      if (!value) continue;
      r.paddedSha1 = toHex(value);
      if (r.tpm === r.paddedSha1) r.match = true;
    }
    const summary = { list: path, listHash, entries: result.entries, violations: result.violations, badTemplateHashes: result.badTemplateHashes, skippedBanks: Object.fromEntries(result.skippedBanks), pcrs: rows };
    if (o.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else {
      process.stdout.write(`${result.entries} entries, ${result.violations} violations\n`);
      for (const r of rows) {
        const verdict = r.match === undefined ? '' : !r.match ? ` DIFFERS: TPM ${r.tpm}` : r.tpm === r.replayed ? ' matches the TPM' : ' matches the TPM with padded SHA-1 template hashes';
        process.stdout.write(`${r.bank}:${r.pcr} ${r.replayed}${verdict}\n`);
        if (r.paddedSha1 && r.match === undefined) process.stdout.write(`${r.bank}:${r.pcr} ${r.paddedSha1} with padded SHA-1 template hashes (a kernel without ${r.bank})\n`);
      }
      for (const i of result.badTemplateHashes) process.stdout.write(`entry ${i}: template data does not hash to its ${listHash} template hash\n`);
      for (const [bank, why] of result.skippedBanks) process.stdout.write(`${bank}: not replayed: ${why}\n`);
    }
    if (rows.some((r) => r.match === false) || result.badTemplateHashes.length > 0) process.exitCode = 1;
  } finally {
    tpm?.close();
  }
}

const guarded = operatorAction('ima');

const parseBankList = (value: string): string[] => value.split(',').map((b) => {
  if (!HASHES.includes(b)) throw new Error(`unknown bank ${b}`);
  return b;
});

function withCommon(cmd: Command, stateDefault: boolean): Command {
  const state = new Option('--state <dir>', 'state directory of the vTPM (the lists are in <state>/ima)');
  return addMrOptions(cmd
    .addOption(stateDefault ? state.default('./.mrtpm') : state)
    .addOption(new Option('--host <address>', 'the serving vTPM\'s mssim address (with --port)').default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'a serving vTPM\'s mssim TPM port (default: open the state directory in this process)').argParser(parsePort))
    .addOption(new Option('--list-dir <dir>', 'where the lists are (default: <state>/ima)')));
}

export function addImaCommand(program: Command): void {
  const ima = program.command('ima').description('IMA measurement lists (the kernel\'s ima-ng template and list formats) on PCR 10');
  withCommon(ima.command('measure'), true)
    .description('measure files as IMA does: append them to the lists and extend PCR 10 in every bank; a new list starts with boot_aggregate')
    .argument('<file...>', 'files to measure')
    .addOption(new Option('--hash <alg>', 'file hash (the kernel\'s ima_hash=)').choices(HASHES).default('sha256'))
    .addOption(new Option('--new', 'start a new list (after a TPM Reset, PCR 10 starts again)').default(false))
    .action(guarded((files: string[], o: MeasureOptions) => measure(files, o)));
  withCommon(ima.command('replay'), false)
    .description('replay a list (binary or ascii) into PCR values per bank; with --state or --port compare them with the TPM; exit 1 if one differs')
    .argument('[list]', 'the list file (default: <state>/ima/binary_runtime_measurements)')
    .addOption(new Option('--banks <list>', 'banks to replay (default: the TPM\'s, or sha1,sha256)').argParser(parseBankList))
    .addOption(new Option('--list-hash <alg>', 'hash of the list\'s template-hash column (default: from the file name, else sha1)').choices(HASHES))
    .addOption(new Option('--json', 'as JSON').default(false))
    .action(guarded((list: string | undefined, o: ReplayOptions) => {
      const compare = o.state !== undefined || o.port !== undefined;
      return replay(list, { ...o, state: o.state ?? './.mrtpm' }, compare);
    }));
}
