import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { readIfExists } from './durable-file.js';
import { isAbsolute, join, resolve } from 'node:path';
import lockfile from 'proper-lockfile';

export interface StateDir {
  /** Absolute path of the state directory. */
  readonly dir: string;
  /** Path of a file inside the state directory; `name` must be a plain file name. */
  path(name: string): string;
  /** Releases the directory lock; calling it again does nothing. */
  release(): void;
}

export interface StateDirOptions {
  /**
   * Milliseconds after which a lock whose holder stopped refreshing it (a crashed process) is
   * taken over. The holder refreshes it every stale/2 ms.
   */
  readonly staleMs?: number;
  /**
   * How long to wait for a lock held by another process before giving up: with tcti-cmd the
   * previous tool's mrtpm may still be saving its state when the next tool starts one.
   */
  readonly waitMs?: number;
  /** Called if the lock is lost while held (another process took it over); default: throw. */
  readonly onCompromised?: (err: Error) => void;
}

/** Raised when another process holds the lock on a state directory. */
export class StateDirInUseError extends Error {
  constructor(readonly dir: string) {
    super(`state directory ${dir} is in use by another mrtpm process`);
    this.name = 'StateDirInUseError';
  }
}

/** The lock lives inside the directory it guards, so nothing is left beside it. */
const LOCK_NAME = '.lock';
/** The holder's PID, so that a lock whose holder was SIGKILLed is taken over at once, not after `stale` ms. */
const OWNER_NAME = '.lock.owner';
const DEFAULT_STALE_MS = 10_000;
const DEFAULT_WAIT_MS = 5_000;
const RETRY_MS = 10;

const sleepSync = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes a lock whose recorded holder no longer runs (killed by an uncatchable signal). The
 * owner file is checked again just before removal, so a lock re-taken meanwhile is left alone.
 */
function takeOverFromDeadHolder(lockPath: string, ownerPath: string): boolean {
  const owner = readIfExists(ownerPath)?.toString('utf8');
  const pid = Number(owner);
  if (!owner || !Number.isInteger(pid) || pid === process.pid || isAlive(pid)) return false;
  if (readIfExists(ownerPath)?.toString('utf8') !== owner) return false;
  rmSync(ownerPath, { force: true });
  rmSync(lockPath, { recursive: true, force: true });
  return true;
}

/**
 * Node ignores SIGXFSZ, so a write past the file-size limit fails with EFBIG and the caller can
 * undo it (the MR log does). proper-lockfile's signal-exit handler re-raises the signal, killing
 * the process, unless another listener exists: this one, for every process that takes a lock.
 */
let fileSizeSignalKept = false;
function keepFileSizeSignalIgnored(): void {
  if (fileSizeSignalKept) return;
  fileSizeSignalKept = true;
  process.on('SIGXFSZ', () => undefined);
}

/**
 * Opens (creating with mode 0700 if missing) a state directory and takes its exclusive lock, so
 * that only one process serves a given TPM state. proper-lockfile also removes the lock when the
 * process exits or is killed by a catchable signal.
 */
export function openStateDir(dir: string, options: StateDirOptions = {}): StateDir {
  const abs = resolve(dir);
  mkdirSync(abs, { recursive: true, mode: 0o700 });
  // The creator's umask (tpm2-tools sets 0177) must not strip the owner's search bit.
  chmodSync(abs, 0o700);
  const lockOptions = {
    lockfilePath: join(abs, LOCK_NAME),
    realpath: false,
    stale: options.staleMs ?? DEFAULT_STALE_MS,
    ...(options.onCompromised ? { onCompromised: options.onCompromised } : {}),
  };
  const ownerPath = join(abs, OWNER_NAME);
  keepFileSizeSignalIgnored();
  let unlock: (() => void) | undefined;
  const deadline = Date.now() + (options.waitMs ?? DEFAULT_WAIT_MS);
  while (!unlock) {
    try {
      unlock = lockfile.lockSync(abs, lockOptions);
      writeFileSync(ownerPath, String(process.pid), { mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
      if (takeOverFromDeadHolder(lockOptions.lockfilePath, ownerPath)) continue;
      if (Date.now() >= deadline) throw new StateDirInUseError(abs);
      sleepSync(RETRY_MS);
    }
  }
  return {
    dir: abs,
    path(name: string): string {
      if (name === '' || name === LOCK_NAME || name === OWNER_NAME || isAbsolute(name) || /[/\\]/.test(name) || name === '.' || name === '..') {
        throw new RangeError(`invalid state file name ${JSON.stringify(name)}`);
      }
      return join(abs, name);
    },
    release(): void {
      const held = unlock;
      unlock = undefined;
      if (held) rmSync(ownerPath, { force: true });
      held?.();
    },
  };
}
