/** `mrtpm eventlog export`: the PCR history of the MR event log as a TCG PC Client log or a CEL. */
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { encodeTcgEventLog } from '../eventlog/tcg-log-writer.js';
import { encodeCelJson } from '../eventlog/cel-writer.js';
import { readMrEventLog } from '../mr/mr-event-log-file.js';
import { pcrHistory } from '../mr/pcr-history.js';
import { exportNotes, pcrClientEvents } from '../mr/pcr-event-log.js';
import { MR_BACKENDS } from './mr-options.js';
import { logFilePath, type MrLogLocation } from './mr-setup.js';
import { operatorAction } from './operator-action.js';

const FORMATS = ['tcg', 'cel'] as const;

interface ExportOptions extends MrLogLocation {
  format: (typeof FORMATS)[number];
  log?: string;
  out?: string;
}

/** Reads the log without the lock, like `mr replay`: a record is appended whole with one write. */
function exportLog(o: ExportOptions): void {
  if (o.mr === 'none') throw new Error('--mr none keeps no MR event log, so there is no PCR history to export');
  const history = pcrHistory(readMrEventLog(o.log ?? logFilePath(o)).events);
  const events = pcrClientEvents(history);
  const output = o.format === 'tcg' ? encodeTcgEventLog(history.hashAlgs, events) : encodeCelJson(events);
  if (o.out === undefined) process.stdout.write(output);
  else writeFileSync(o.out, output);
  for (const note of exportNotes(history)) process.stderr.write(`mrtpm eventlog: note: ${note}\n`);
}

export function addEventlogCommand(program: Command): void {
  const eventlog = program.command('eventlog').description('the PCR history in standard event log formats');
  eventlog.command('export')
    .description('write the PCRs\' history since the last Startup(CLEAR) as a TCG PC Client crypto-agile log (tcg) or a TCG Canonical Event Log in JSON (cel)')
    .addOption(new Option('--format <format>', 'output format').choices(FORMATS).makeOptionMandatory())
    .addOption(new Option('--out <file>', 'write here instead of stdout'))
    .addOption(new Option('--state <dir>', 'state directory of the vTPM').default('./.mrtpm'))
    .addOption(new Option('--mr <backend>', 'the vTPM\'s --mr: it decides where the MR log is').choices(MR_BACKENDS).default('tdx-sim'))
    .addOption(new Option('--mr-log <dir>', 'the vTPM\'s --mr-log, if it had one'))
    .addOption(new Option('--log <file>', 'the MR event log itself (default: events.log in the MR log directory)'))
    .action(operatorAction('eventlog')((o: ExportOptions) => exportLog(o)));
}
