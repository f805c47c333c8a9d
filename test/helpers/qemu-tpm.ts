/**
 * A TPM for QEMU's `-tpmdev emulator`: a process serving the swtpm control protocol on a unix
 * socket (QEMU hands it the data channel with CMD_SET_DATAFD). `mrtpm serve --qemu SOCK`, or
 * real swtpm (`swtpm socket --tpm2 --ctrl type=unixio,path=SOCK`) to compare with.
 */
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { MRTPM_MAIN } from './mrtpm.js';
import { spawnChild, stopChild, type ExitStatus, type ManagedChild } from './processes.js';

export type QemuTpmKind = 'mrtpm' | 'swtpm';

export interface QemuTpm {
  readonly kind: QemuTpmKind;
  readonly socket: string;
  readonly stateDir: string;
  readonly child: ManagedChild;
  stop(signal?: NodeJS.Signals): Promise<ExitStatus>;
}

/** mrtpm's PCR banks for the guest: what Linux extends (every bank) and SHA-384, RTMR2's hash. */
export const GUEST_PCR_BANKS = ['sha1', 'sha256', 'sha384'];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function args(kind: QemuTpmKind, socket: string, stateDir: string): [string, string[]] {
  if (kind === 'swtpm') return ['swtpm', ['socket', '--tpm2', '--ctrl', `type=unixio,path=${socket}`, '--tpmstate', `dir=${stateDir}`]];
  return [process.execPath, [MRTPM_MAIN, 'serve', '--qemu', socket, '--state', stateDir, '--mr', 'tdx-sim', '--pcr-banks', GUEST_PCR_BANKS.join(','), '--log-level', 'warn']];
}

/** Starts the TPM on `stateDir` (kept); resolves once its control socket exists. */
export async function startQemuTpm(kind: QemuTpmKind, stateDir: string): Promise<QemuTpm> {
  const socket = path.join(stateDir, `${kind}-ctrl.sock`);
  // A socket left by a TPM that ended with its QEMU (or was killed).
  rmSync(socket, { force: true });
  const [command, argv] = args(kind, socket, stateDir);
  const child = spawnChild(`${kind} (qemu ctrl)`, command, argv);
  const deadline = Date.now() + 15_000;
  while (!existsSync(socket)) {
    if (child.hasExited() || Date.now() > deadline) {
      await stopChild(child, 'SIGKILL');
      throw new Error(`${kind} did not create ${socket} (${JSON.stringify(await child.exited)}); stderr:\n${child.stderr()}`);
    }
    await sleep(20);
  }
  return { kind, socket, stateDir, child, stop: (signal = 'SIGTERM') => stopChild(child, signal) };
}
