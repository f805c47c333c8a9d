import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { findFreePortPair, LOOPBACK } from './ports.js';
import { spawnServing, stopChild, type ServerProcess } from './processes.js';
import { makeTempDir, removeDir } from './state-dirs.js';

/** The CLI as it ships: the bundle `npm run build` makes (this file is dist/test/helpers/mrtpm.js). */
export const MRTPM_MAIN = fileURLToPath(new URL('../../src/cli/mrtpm.js', import.meta.url));

export type MrtpmProtocol = 'mssim' | 'swtpm';

export interface MrtpmOptions {
  protocol?: MrtpmProtocol;
  /** Reuse an existing state directory (kept on stop); a fresh temp dir (removed on stop) otherwise. */
  stateDir?: string;
  reset?: boolean;
  pcrBanks?: string[];
  logLevel?: 'silent' | 'error' | 'warn' | 'info' | 'debug';
  extraArgs?: string[];
}

export interface MrtpmServer extends ServerProcess {
  readonly protocol: MrtpmProtocol;
}

export function assertMrtpmBuilt(): void {
  if (!existsSync(MRTPM_MAIN)) {
    throw new Error(`mrtpm CLI not built: ${MRTPM_MAIN} is missing (run \`npm run build\`)`);
  }
}

function commonArgs(stateDir: string, options: MrtpmOptions): string[] {
  return [
    '--state', stateDir,
    ...(options.pcrBanks ? ['--pcr-banks', options.pcrBanks.join(',')] : []),
    ...(options.reset ? ['--reset'] : []),
  ];
}

/** Starts `mrtpm serve` on a free loopback port pair; resolves once both ports accept. */
export async function startMrtpm(options: MrtpmOptions = {}): Promise<MrtpmServer> {
  assertMrtpmBuilt();
  const protocol = options.protocol ?? 'mssim';
  const stateDir = options.stateDir ?? (await makeTempDir('mrtpm-state'));
  const port = await findFreePortPair();
  const ctrlPort = port + 1;
  const args = [
    MRTPM_MAIN, 'serve',
    ...commonArgs(stateDir, options),
    '--protocol', protocol,
    '--port', String(port),
    ...(protocol === 'swtpm' ? ['--ctrl-port', String(ctrlPort)] : []),
    '--bind', LOOPBACK,
    '--log-level', options.logLevel ?? 'warn',
    ...(options.extraArgs ?? []),
  ];
  const child = await spawnServing(`mrtpm serve (${protocol})`, process.execPath, args, [port, ctrlPort]);
  return {
    protocol,
    port,
    ctrlPort,
    stateDir,
    child,
    tcti: `${protocol}:host=${LOOPBACK},port=${port}`,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      const status = await stopChild(child, signal);
      if (options.stateDir === undefined) await removeDir(stateDir);
      return status;
    },
  };
}

/** TPM2TOOLS_TCTI for tcti-cmd: one `mrtpm stdio` process per tool run, state in `stateDir`. */
export function mrtpmCmdTcti(stateDir: string, options: Pick<MrtpmOptions, 'pcrBanks' | 'reset'> = {}): string {
  return `cmd:${[process.execPath, MRTPM_MAIN, 'stdio', ...commonArgs(stateDir, options)].join(' ')}`;
}
