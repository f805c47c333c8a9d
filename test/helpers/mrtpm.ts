import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOOPBACK } from './ports.js';
import { runCommand, spawnChild, spawnServingOnFreePorts, stopChild, type CommandRun, type ExitStatus, type ManagedChild, type ServerProcess } from './processes.js';
import { makeTempDir, removeDir } from './state-dirs.js';

/** The CLI as it ships: the bundle `npm run build` makes (this file is dist/test/helpers/mrtpm.js). */
export const MRTPM_MAIN = fileURLToPath(new URL('../../src/cli/mrtpm.js', import.meta.url));

/** `mrtpm args` run to its end (the bundled CLI), never throwing for a failing exit. */
export const runMrtpm = (args: string[]): Promise<CommandRun> => runCommand(process.execPath, [MRTPM_MAIN, ...args]);

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
  const args = (port: number): string[] => [
    MRTPM_MAIN, 'serve',
    ...commonArgs(stateDir, options),
    '--protocol', protocol,
    '--port', String(port),
    ...(protocol === 'swtpm' ? ['--ctrl-port', String(port + 1)] : []),
    '--bind', LOOPBACK,
    '--log-level', options.logLevel ?? 'warn',
    ...(options.extraArgs ?? []),
  ];
  const { child, port } = await spawnServingOnFreePorts(`mrtpm serve (${protocol})`, process.execPath, args);
  const ctrlPort = port + 1;
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

/** A process serving a unix control socket only (`mrtpm serve --qemu`, `swtpm socket --ctrl type=unixio`). */
export interface CtrlSocketServer {
  readonly ctrlPath: string;
  readonly stateDir: string;
  readonly child: ManagedChild;
  stop(signal?: NodeJS.Signals): Promise<ExitStatus>;
}

/** Polls until the unix socket `path` accepts; fails early (with its stderr) if `child` dies. */
export async function waitForUnixSocket(path: string, child: ManagedChild, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.hasExited()) throw new Error(`${child.name} exited before ${path} accepted; stderr:\n${child.stderr()}`);
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ path }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${path} did not accept within ${timeoutMs} ms; ${child.name} stderr:\n${child.stderr()}`);
}

/** Starts `mrtpm serve --qemu DIR/ctrl.sock` (state in DIR unless `stateDir` is given). */
export async function startMrtpmQemu(options: Omit<MrtpmOptions, 'protocol'> = {}): Promise<CtrlSocketServer> {
  assertMrtpmBuilt();
  const dir = await makeTempDir('mrtpm-qemu');
  const stateDir = options.stateDir ?? path.join(dir, 'state');
  const ctrlPath = path.join(dir, 'ctrl.sock');
  const args = [MRTPM_MAIN, 'serve', ...commonArgs(stateDir, options), '--qemu', ctrlPath, '--log-level', options.logLevel ?? 'warn', ...(options.extraArgs ?? [])];
  const child = spawnChild('mrtpm serve --qemu', process.execPath, args);
  try {
    await waitForUnixSocket(ctrlPath, child);
  } catch (error) {
    await stopChild(child, 'SIGKILL');
    await removeDir(dir);
    throw error;
  }
  return {
    ctrlPath, stateDir, child,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      const status = await stopChild(child, signal);
      await removeDir(dir);
      return status;
    },
  };
}

/** `mrtpm serve` (mssim) on a state it does not own, which a test can power-cycle: stop, start again with --reset. */
export interface PowerCyclableMrtpm {
  readonly tcti: string;
  /** The process stops, a new one starts on the same state from a power loss; resolves with its TCTI. */
  powerCycle(): Promise<string>;
  stop(): Promise<void>;
}

export async function startPowerCyclableMrtpm(stateDir: string): Promise<PowerCyclableMrtpm> {
  let server = await startMrtpm({ protocol: 'mssim', stateDir });
  return {
    get tcti() { return server.tcti; },
    async powerCycle() {
      await server.stop();
      server = await startMrtpm({ protocol: 'mssim', stateDir, reset: true });
      return server.tcti;
    },
    async stop() { await server.stop(); },
  };
}
