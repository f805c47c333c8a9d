/** `mrtpm mr read | replay | extend | log | report`: the measurement registers, their history and hardware reports, for operators. */
import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createLogger } from '../server/logger.js';
import { StateDirInUseError } from '../store/state-dir.js';
import { hashAlgName } from '../eventlog/spec-id-event.js';
import { eventTypeName } from '../eventlog/event-types.js';
import { logToJson } from '../eventlog/cc-event-log.js';
import { readMrEventLog } from '../mr/mr-event-log-file.js';
import { decodeMirrorEvent, type MirrorEvent } from '../mr/mirror-events.js';
import { checkRegisters } from '../mr/register-check.js';
import { replayPcrs } from '../mr/pcr-replay.js';
import { addMrOptions, parseHex, type MrOptions } from './mr-options.js';
import { controlSocketPath, firmwareLog, logFilePath, openMr, openReportSource, readRegisters } from './mr-setup.js';
import { REPORT_DATA_SIZE } from '../mr/hardware-report.js';
import { verifyHardwareReport } from '../mr/hardware-report-formats.js';
import { readPublicKey } from '../mr/sim-attestation-key.js';
import { mrControlRequest } from '../server/mr-control.js';
import { toHex } from '../tpm/crypto/bytes.js';
import { guardedAction } from './guarded.js';

interface JsonFlag { json: boolean }
interface LogFile { log?: string }

/** JSON on stdout; byte fields (digests, register values, event data of decoded mirror events) as hex. */
const print = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, (_key, v: unknown) => (v instanceof Uint8Array ? toHex(v) : v), 2)}\n`);
};

const guarded = guardedAction('mrtpm mr', (err) => (err instanceof StateDirInUseError ? ' (a running vTPM holds it; --mr-reset and --mr-init need it stopped)' : ''));

function withCommon(cmd: Command): Command {
  return addMrOptions(cmd.addOption(new Option('--state <dir>', 'state directory of the vTPM').default('./.mrtpm')));
}

function read(o: MrOptions & JsonFlag): void {
  const source = readRegisters(o);
  const rows = source.registers.map((r) => ({
    name: r.name, hash: hashAlgName(r.hashAlg), ...(r.ccMrIndex !== undefined && { ccMrIndex: r.ccMrIndex }), extendable: r.extendable, value: toHex(source.read(r.name)),
  }));
  if (o.json) print(rows);
  else for (const r of rows) process.stdout.write(`${r.name.padEnd(14)} ${r.value}\n`);
}

function replay(o: MrOptions & JsonFlag & LogFile): void {
  const log = readMrEventLog(o.log ?? logFilePath(o));
  const registers = checkRegisters(readRegisters(o), log.events, firmwareLog(o));
  const pcrs = replayPcrs(log.events);
  const banks = Object.fromEntries([...pcrs.banks].map(([alg, values]) => [hashAlgName(alg), Object.fromEntries(values.map((v, i) => [i, toHex(v)]))]));
  if (o.json) {
    print({ registers: registers.map((c) => ({ ...c, replayed: toHex(c.replayed), live: toHex(c.live) })), pcrs: banks, unplacedEvents: pcrs.unplaced });
  } else {
    for (const c of registers) {
      process.stdout.write(c.match ? `${c.register.padEnd(6)} matches ${toHex(c.live)}\n` : `${c.register.padEnd(6)} DIFFERS: replayed ${toHex(c.replayed)}, register ${toHex(c.live)}\n`);
    }
    for (const [alg, values] of Object.entries(banks)) {
      for (const [pcr, value] of Object.entries(values)) process.stdout.write(`${alg}:${pcr.padStart(2)} ${value}\n`);
    }
  }
  if (registers.some((c) => !c.match)) process.exitCode = 1;
}

/** Connect errors that mean no vTPM serves the registers: then this process opens them itself. */
const NOT_SERVING = new Set(['ENOENT', 'ECONNREFUSED']);

/** The operator extend through a serving vTPM, or undefined if none serves these registers. */
async function extendThroughServer(register: string, digest: Uint8Array, o: MrOptions): Promise<Uint8Array | undefined> {
  const request = { op: 'extend' as const, register, digest: toHex(digest) };
  const response = await mrControlRequest(controlSocketPath(o), request).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== undefined && NOT_SERVING.has(err.code)) return undefined;
    throw err;
  });
  // A register or log failure reaches the client as the TPM response code; the reason is in the vTPM's log.
  if (response && !response.ok) throw new Error(`the running vTPM refused: ${response.error}${response.error.startsWith('TPM_RC_') ? ' (its log says why)' : ''}`);
  return response && Buffer.from(response.value, 'hex');
}

async function extend(register: string, digest: string, o: MrOptions): Promise<void> {
  const bytes = parseHex(digest);
  // Creation options (--mr-reset, --mr-init) act on opening the registers, which only a stopped vTPM allows.
  const creating = o.mrReset || Object.keys(o.mrInit).length > 0;
  const value = creating ? undefined : await extendThroughServer(register, bytes, o);
  if (value) {
    process.stdout.write(`${register} ${toHex(value)}\n`);
    return;
  }
  const logger = createLogger({ level: 'warn' });
  const mr = openMr(o, logger);
  if (!mr) throw new Error('--mr none has no registers');
  try {
    mr.mirror.operatorExtend(register, bytes);
    process.stdout.write(`${register} ${toHex(mr.backend.read(register))}\n`);
  } finally {
    mr.close();
  }
}

const describeMirror = (e: MirrorEvent): string => {
  switch (e.kind) {
    case 'extend': return `extend PCR ${e.pcr} (command 0x${e.command.toString(16)}, MR digest from ${hashAlgName(e.mrSourceAlg)})`;
    case 'pcr-reset': return `marker: PCR_Reset of PCR ${e.pcr}`;
    case 'startup': return `marker: Startup (TPM ${e.startup}, locality ${e.locality})`;
    case 'operator-extend': return `operator extend of ${e.register}`;
  }
};

function showLog(o: MrOptions & JsonFlag & LogFile): void {
  const log = readMrEventLog(o.log ?? logFilePath(o));
  if (o.json) {
    const json = logToJson(log);
    print({ ...json, events: json.events.map((ev, i) => ({ ...ev, mrtpm: decodeMirrorEvent(log.events[i]!.event) })) });
    return;
  }
  for (const ev of log.events) {
    const mirror = decodeMirrorEvent(ev.event);
    const digests = ev.digests.map((d) => `${hashAlgName(d.hashAlg)}:${toHex(d.digest)}`).join(' ');
    process.stdout.write(`${String(ev.offset).padStart(8)} MR${ev.mrIndex} ${eventTypeName(ev.eventType)} ${digests}${mirror ? ` ${describeMirror(mirror)}` : ''}\n`);
  }
}

interface ReportOptions extends MrOptions, JsonFlag { reportData: Uint8Array; out?: string; tsmReportRoot?: string }

async function report(o: ReportOptions): Promise<void> {
  const { source, publicKeyPath } = await openReportSource(o);
  try {
    const hw = await source.report(o.reportData);
    if (o.out !== undefined) writeFileSync(o.out, hw.raw);
    const signature = publicKeyPath === undefined ? undefined : { valid: await verifyHardwareReport(hw, readPublicKey(publicKeyPath)), publicKey: publicKeyPath };
    const summary = {
      provider: hw.provider, format: hw.format, size: hw.raw.length, ...(hw.reportData && { reportData: hw.reportData }),
      registers: Object.fromEntries(hw.registers), ...(signature && { signature }), ...(o.out !== undefined && { out: o.out }),
    };
    if (o.json) {
      print(summary);
      return;
    }
    const line = (label: string, value: string): void => { process.stdout.write(`${label.padEnd(14)} ${value}\n`); };
    line('provider', hw.provider);
    line('format', `${hw.format} (${hw.raw.length} octets${o.out !== undefined ? `, written to ${o.out}` : ''})`);
    if (hw.reportData) line('report data', toHex(hw.reportData));
    for (const [name, value] of hw.registers) line(name, toHex(value));
    if (signature) line('signature', `${signature.valid ? 'valid' : 'INVALID'} under ${signature.publicKey}`);
  } finally {
    await source.close();
  }
}

function parseReportData(value: string): Uint8Array {
  const bytes = parseHex(value);
  if (bytes.length !== REPORT_DATA_SIZE) throw new InvalidArgumentError(`must be ${REPORT_DATA_SIZE} octets (${REPORT_DATA_SIZE * 2} hex digits), got ${bytes.length}`);
  return bytes;
}

export function addMrCommand(program: Command): void {
  const mr = program.command('mr').description('measurement registers: read them, replay their log, extend them');
  withCommon(mr.command('read'))
    .description('print the registers')
    .addOption(new Option('--json', 'as JSON').default(false))
    .action(guarded((o: MrOptions & JsonFlag) => read(o)));
  withCommon(mr.command('replay'))
    .description('recompute the registers from CCEL + the MR log and the PCRs from the log; exit 1 if a register differs')
    .addOption(new Option('--log <file>', 'the MR event log (default: events.log in the --mr-log directory)'))
    .addOption(new Option('--json', 'as JSON').default(false))
    .action(guarded((o: MrOptions & JsonFlag & LogFile) => replay(o)));
  withCommon(mr.command('extend'))
    .description('extend a register with a digest of its size, logged like a PCR extend (through the vTPM when one serves the registers)')
    .argument('<register>', 'e.g. rtmr3 or rem3')
    .argument('<hex-digest>', 'exactly the register size')
    .action(guarded((register: string, digest: string, o: MrOptions) => extend(register, digest, o)));
  withCommon(mr.command('log'))
    .description('print the MR event log decoded')
    .addOption(new Option('--log <file>', 'the MR event log (default: events.log in the --mr-log directory)'))
    .addOption(new Option('--json', 'as JSON').default(false))
    .action(guarded((o: MrOptions & JsonFlag & LogFile) => showLog(o)));
  withCommon(mr.command('report'))
    .description('get a hardware report binding 64 octets of report data, and print its provider and registers')
    .requiredOption('--report-data <hex>', `the ${REPORT_DATA_SIZE} octets to bind (TDX REPORTDATA, CCA challenge)`, parseReportData)
    .addOption(new Option('--out <file>', 'write the report as returned (raw evidence bytes)'))
    .addOption(new Option('--tsm-report-root <dir>', 'tsm-mr: where configfs-tsm report entries are made (default: /sys/kernel/config/tsm/report)'))
    .addOption(new Option('--json', 'as JSON').default(false))
    .action(guarded((o: ReportOptions) => report(o)));
}
