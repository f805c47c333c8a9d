import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { promisify } from 'node:util';
import net from 'node:net';
import { findFreePortPair, LOOPBACK } from './ports.js';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A spawned child whose output is captured, so failures can show what it said. */
export interface ManagedChild {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  /** Resolves once the child has exited (never rejects). */
  readonly exited: Promise<ExitStatus>;
  hasExited(): boolean;
  stdout(): string;
  stderr(): string;
}

const OUTPUT_LIMIT = 256 * 1024;
const live = new Set<ManagedChild>();

function capture(stream: NodeJS.ReadableStream | null, sink: { text: string }): void {
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    sink.text = (sink.text + chunk).slice(-OUTPUT_LIMIT);
  });
}

/** Spawns `command args` with stdout/stderr captured; tracked until it exits. */
export function spawnChild(name: string, command: string, args: string[], options: SpawnOptions = {}): ManagedChild {
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  const out = { text: '' };
  const err = { text: '' };
  capture(proc.stdout, out);
  capture(proc.stderr, err);
  let done = false;
  const exited = new Promise<ExitStatus>((resolve) => {
    proc.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
    proc.once('error', (error) => {
      done = true;
      err.text += `\nspawn error: ${error.message}`;
      resolve({ code: null, signal: null });
    });
  });
  if (proc.pid === undefined) {
    throw new Error(`could not spawn ${command}: ${err.text}`);
  }
  const child: ManagedChild = {
    name,
    process: proc,
    pid: proc.pid,
    exited,
    hasExited: () => done,
    stdout: () => out.text,
    stderr: () => err.text,
  };
  live.add(child);
  void exited.then(() => live.delete(child));
  return child;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tryConnect(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls until `port` accepts a TCP connection; fails early (with its stderr) if `child` dies. */
export async function waitForPort(port: number, child?: ManagedChild, timeoutMs = 15000, host = LOOPBACK): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child?.hasExited()) {
      const status = await child.exited;
      throw new Error(`${child.name} exited (${JSON.stringify(status)}) before port ${port} opened; stderr:\n${child.stderr()}`);
    }
    if (await tryConnect(port, host)) return;
    await sleep(25);
  }
  throw new Error(`port ${host}:${port} did not accept within ${timeoutMs} ms${child ? `; ${child.name} stderr:\n${child.stderr()}` : ''}`);
}

/** Sends `signal` (SIGTERM by default), then SIGKILL after `killAfterMs`; resolves with the exit status. */
export async function stopChild(child: ManagedChild, signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 5000): Promise<ExitStatus & { killed: boolean }> {
  if (child.hasExited()) return { ...(await child.exited), killed: false };
  child.process.kill(signal);
  const timer = sleep(killAfterMs).then(() => 'timeout' as const);
  const outcome = await Promise.race([child.exited, timer]);
  if (outcome !== 'timeout') return { ...outcome, killed: false };
  child.process.kill('SIGKILL');
  return { ...(await child.exited), killed: true };
}

/** Stops every child spawned here that is still running. */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...live].map((child) => stopChild(child, 'SIGTERM', 3000)));
}

// Last line of defence: never leave emulators behind, even when a test forgets to stop one.
process.once('exit', () => {
  for (const child of live) child.process.kill('SIGKILL');
});

/**
 * A root-hook plugin (mocha --require): after each test file, stop what it left running. A root
 * `after` registered on import would serve only the first file of each parallel worker, since a
 * worker imports this module once for all the files it runs.
 */
export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(10_000);
    await stopAllChildren();
  },
};

/** Spawns a server and waits until each of its ports accepts; a server that does not come up is killed. */
export async function spawnServing(name: string, command: string, args: string[], ports: number[]): Promise<ManagedChild> {
  const child = spawnChild(name, command, args);
  try {
    for (const port of ports) await waitForPort(port, child);
  } catch (error) {
    await stopChild(child, 'SIGKILL');
    throw error;
  }
  return child;
}

/** What a server prints when a port it was given was taken in the meantime (mrtpm, swtpm). */
const PORT_TAKEN = /EADDRINUSE|Address already in use/;

/**
 * spawnServing on a free loopback port pair (P, P+1): `args(P)` names them. Between finding the
 * pair and the server binding it, another process (a parallel test file) may take one; then the
 * server exits saying so, and a new pair is tried.
 */
export async function spawnServingOnFreePorts(name: string, command: string, args: (port: number) => string[], attempts = 5): Promise<{ child: ManagedChild; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await findFreePortPair();
    try {
      return { child: await spawnServing(name, command, args(port), [port, port + 1]), port };
    } catch (error) {
      if (attempt >= attempts || !PORT_TAKEN.test(String(error))) throw error;
    }
  }
}

/** A TPM server process a test started (mrtpm or swtpm): where it listens and how to stop it. */
export interface ServerProcess {
  /** TPM/data port; the platform/control port is ctrlPort. */
  readonly port: number;
  readonly ctrlPort: number;
  readonly stateDir: string;
  readonly child: ManagedChild;
  /** TPM2TOOLS_TCTI value for this server. */
  readonly tcti: string;
  /** Stops the server (SIGTERM by default) and removes its state dir if the helper created it. */
  stop(signal?: NodeJS.Signals): Promise<ExitStatus>;
}

/** What a finished command printed, and its exit code (-1 when it did not exit with one). */
export interface CommandRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `file args` to its end and never throws for a failing exit, so that callers assert on the code. */
export async function runCommand(file: string, args: string[]): Promise<CommandRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(file, args);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}
