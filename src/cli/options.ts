/** Options shared by the commands that run a TPM (`serve`, `stdio`), parsed into engine terms. */
import { Command, Option, InvalidArgumentError } from 'commander';
import { hashByName } from '../tpm/spec/hash-algs.js';
import { LOG_LEVELS, isLogLevel, type LogLevel } from '../server/logger.js';

export interface TpmOptions {
  state: string;
  pcrBanks: number[];
  reset: boolean;
  logLevel: LogLevel;
  trace: boolean;
}

export function parseBanks(value: string): number[] {
  const banks = value.split(',').map((name) => {
    const info = hashByName(name.trim());
    if (!info) throw new InvalidArgumentError(`unknown PCR bank "${name}" (use sha1, sha256, sha384, sha512)`);
    return info.alg;
  });
  if (new Set(banks).size !== banks.length) throw new InvalidArgumentError('a PCR bank is listed twice');
  return banks;
}

export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65534) throw new InvalidArgumentError('not a port number (0-65534)');
  return n;
}

function parseLogLevel(value: string): LogLevel {
  if (!isLogLevel(value)) throw new InvalidArgumentError(`one of ${LOG_LEVELS.join(', ')}`);
  return value;
}

export function addTpmOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--state <dir>', 'state directory (created 0700; files 0600; one process at a time)').default('./.mrtpm'))
    .addOption(new Option('--pcr-banks <list>', 'PCR banks, comma-separated: sha1,sha256,sha384,sha512')
      .argParser(parseBanks).default(parseBanks('sha256,sha384'), 'sha256,sha384'))
    .addOption(new Option('--reset', 'start from a power cycle: discard the saved volatile state (PCRs, sessions); Startup is needed').default(false))
    .addOption(new Option('--log-level <level>', `stderr log level: ${LOG_LEVELS.join(', ')}`).argParser(parseLogLevel).default('warn'))
    .addOption(new Option('--trace', 'print every command and response, decoded, to stderr').default(false));
}
