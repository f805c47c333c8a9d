import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { findFreePortPair, LOOPBACK } from './ports.js';
import { spawnServing, stopChild, type ServerProcess } from './processes.js';
import { makeTempDir, removeDir } from './state-dirs.js';

const run = promisify(execFile);

export interface SwtpmOptions {
  /** Active PCR banks, set with swtpm_setup; swtpm's own default is sha1,sha256,sha384,sha512. */
  pcrBanks?: string[];
  /** Default: not-need-init,startup-clear (the TPM is started and needs no CMD_INIT). */
  flags?: string;
}

/** A running swtpm (tcti-mssim cannot talk to it: its TCTI is swtpm:). */
export type SwtpmServer = ServerProcess;

/** Manufactures a TPM 2 state in `stateDir` with only `pcrBanks` active. */
export async function swtpmSetup(stateDir: string, pcrBanks: string[]): Promise<void> {
  await run('swtpm_setup', ['--tpm2', '--pcr-banks', pcrBanks.join(','), '--tpmstate', stateDir], { timeout: 60000 });
}

/** Starts real swtpm on a free loopback port pair with a fresh state dir. */
export async function startSwtpm(options: SwtpmOptions = {}): Promise<SwtpmServer> {
  const stateDir = await makeTempDir('swtpm-state');
  if (options.pcrBanks) await swtpmSetup(stateDir, options.pcrBanks);
  const port = await findFreePortPair();
  const ctrlPort = port + 1;
  const args = [
    'socket', '--tpm2',
    '--server', `type=tcp,port=${port},bindaddr=${LOOPBACK}`,
    '--ctrl', `type=tcp,port=${ctrlPort},bindaddr=${LOOPBACK}`,
    '--tpmstate', `dir=${stateDir}`,
    '--flags', options.flags ?? 'not-need-init,startup-clear',
  ];
  const child = await spawnServing('swtpm', 'swtpm', args, [ctrlPort, port]);
  return {
    port,
    ctrlPort,
    stateDir,
    child,
    tcti: `swtpm:host=${LOOPBACK},port=${port}`,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      const status = await stopChild(child, signal);
      await removeDir(stateDir);
      return status;
    },
  };
}
