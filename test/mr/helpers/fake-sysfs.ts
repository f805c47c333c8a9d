/** Directories laid out like the kernel's tsm-mr sysfs ABI, for the tsm-mr backend's tests. */
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Plain files with the kernel's names, sizes and modes (the OS need not enforce the modes: tests may run as root). */
export function attributes(dir: string, files: Record<string, [size: number, mode: number, fill: number]>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, [size, mode, fill]] of Object.entries(files)) {
    writeFileSync(join(dir, name), new Uint8Array(size).fill(fill));
    chmodSync(join(dir, name), mode);
  }
}

/** A TDX guest under `root` whose MRTD and RTMRs all read zero. */
export function zeroedTdxGuest(root: string): string {
  const dir = join(root, 'tdx_guest', 'measurements');
  attributes(dir, Object.fromEntries(['mrtd', 'rtmr0', 'rtmr1', 'rtmr2', 'rtmr3'].map((n) => [`${n}:sha384`, [48, n === 'mrtd' ? 0o444 : 0o644, 0]])));
  return dir;
}

/** Makes a register file refuse every extend while still reading as zeros: it becomes /dev/full (writes fail with ENOSPC). */
export function refuseExtends(dir: string, file: string): void {
  rmSync(join(dir, file));
  symlinkSync('/dev/full', join(dir, file));
}
