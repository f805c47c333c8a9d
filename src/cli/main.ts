#!/usr/bin/env node
/** mrtpm command line. */
import { createRequire } from 'node:module';
import { Command, Option } from 'commander';
import { addTpmOptions, parsePort } from './options.js';
import { serve, stdio, type RunOptions, type ServeOptions } from './serve.js';
import { addMrOptions } from './mr-options.js';
import { addMrCommand } from './mr-command.js';
import { addManufactureCommand } from './manufacture.js';
import { addCaCommand } from './ca-command.js';
import { addImaCommand } from './ima-command.js';
import { addCompareCommand } from './compare-command.js';
import { addEvidenceCommands } from './evidence-command.js';
import { addEventlogCommand } from './eventlog-command.js';

const { version } = createRequire(import.meta.url)('../../../package.json') as { version: string };

const program = new Command('mrtpm')
  .description('TPM 2.0 emulator backed by the measurement registers of confidential VMs')
  .version(version);

addMrOptions(addTpmOptions(program.command('serve')))
  .description('serve the TPM over the mssim (default) or swtpm socket protocol')
  .addOption(new Option('--protocol <name>', 'socket protocol').choices(['mssim', 'swtpm']).default('mssim'))
  .addOption(new Option('--bind <address>', 'address to listen on (loopback unless you mean otherwise)').default('127.0.0.1'))
  .addOption(new Option('--port <port>', 'TPM/data port; the platform/control port is port+1').argParser(parsePort).default(2321))
  .addOption(new Option('--ctrl-port <port>', 'swtpm control port (default: port+1)').argParser(parsePort))
  .addOption(new Option('--unix <path>', 'listen on unix sockets PATH and PATH.ctrl (mode 0600) instead of TCP'))
  .addOption(new Option('--ctrl-unix <path>', 'swtpm: only a control socket PATH (mode 0600); the data channel comes by CMD_SET_DATAFD, as QEMU passes it')
    .conflicts(['unix', 'port', 'ctrlPort']))
  .addOption(new Option('--qemu <path>', 'for QEMU\'s -tpmdev emulator: --protocol swtpm --ctrl-unix PATH').conflicts(['unix', 'ctrlUnix', 'port', 'ctrlPort']))
  .action((o: ServeOptions) => serve(o));

addMrOptions(addTpmOptions(program.command('stdio')))
  .description('speak raw TPM commands on stdin/stdout, for TPM2TOOLS_TCTI="cmd:mrtpm stdio --state DIR"')
  .action((o: RunOptions) => stdio(o));

addManufactureCommand(program);
addCaCommand(program);
addMrCommand(program);
addImaCommand(program);
addCompareCommand(program);
addEvidenceCommands(program);
addEventlogCommand(program);

await program.parseAsync();
