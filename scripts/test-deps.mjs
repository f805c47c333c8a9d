#!/usr/bin/env node
// Checks (and, as root, installs) the Debian packages the interop tests and the benchmark run
// against: tpm2-tools, swtpm, the tpm2-tss TCTI libraries, the tpm2-openssl provider, tpm2-pytss,
// evmctl (ima-evm-utils), and QEMU with Debian's kernel, busybox and OVMF for the guest-kernel
// test. Runs before `npm test`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const DEBIAN_PACKAGES = ['tpm2-tools', 'swtpm', 'swtpm-tools', 'libtss2-dev', 'tpm2-openssl', 'clevis-tpm2', 'python3-tpm2-pytss', 'ima-evm-utils', 'qemu-system-x86', 'linux-image-amd64', 'busybox-static', 'ovmf', 'qemu-utils'];
const COMMANDS = ['tpm2_startup', 'tpm2_pcrread', 'swtpm', 'swtpm_setup', 'clevis', 'evmctl', 'qemu-system-x86_64', 'qemu-img'];
// ossl-modules/tpm2.so: the tpm2-openssl provider.
const LIBRARIES = ['libtss2-tcti-mssim.so.0', 'libtss2-tcti-swtpm.so.0', 'libtss2-tcti-cmd.so.0', 'libtss2-esys.so.0', 'ossl-modules/tpm2.so'];
// Debian's python3 module directory (a python3 earlier on PATH, such as pyenv's, does not see it).
// busybox-static's /bin/busybox (the guest's initramfs); ovmf's UEFI firmware for the guest.
const FILES = ['/usr/lib/python3/dist-packages/tpm2_pytss/__init__.py', '/bin/busybox', '/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_VARS_4M.fd'];
const LIB_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib', '/lib', '/usr/local/lib'];
const INSTALL_COMMAND = `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${DEBIAN_PACKAGES.join(' ')}`;

function hasCommand(name) {
  const dirs = (process.env.PATH ?? '').split(path.delimiter);
  return dirs.some((dir) => dir !== '' && existsSync(path.join(dir, name)));
}

function ldconfigListing() {
  for (const ldconfig of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    try {
      return execFileSync(ldconfig, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      // try the next location
    }
  }
  return '';
}

function hasLibrary(name, listing) {
  return listing.includes(`${name} `) || LIB_DIRS.some((dir) => existsSync(path.join(dir, name)));
}

/** Names of the missing commands and libraries (empty when everything is present). */
export function missingTestDeps() {
  const listing = ldconfigListing();
  return [
    ...COMMANDS.filter((name) => !hasCommand(name)),
    ...LIBRARIES.filter((name) => !hasLibrary(name, listing)),
    ...FILES.filter((file) => !existsSync(file)),
    // linux-image-amd64: the guest kernel of test/interop/guest-kernel.test.ts.
    ...(existsSync('/boot') && readdirSync('/boot').some((name) => name.startsWith('vmlinuz-')) ? [] : ['/boot/vmlinuz-*']),
  ];
}

function install() {
  console.error(`[test-deps] installing Debian packages: ${DEBIAN_PACKAGES.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', ...DEBIAN_PACKAGES]]) {
    console.error(`[test-deps] + apt-get ${args.join(' ')}`);
    const result = spawnSync('apt-get', args, { stdio: ['ignore', process.stderr, process.stderr], env });
    if (result.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})`);
  }
}

function main() {
  const ci = process.env.CI === 'true';
  let missing = missingTestDeps();
  if (missing.length === 0) return 0;
  console.error(`[test-deps] missing: ${missing.join(', ')}`);
  if (process.getuid?.() === 0) {
    install();
    missing = missingTestDeps();
    if (missing.length === 0) return 0;
    console.error(`[test-deps] still missing after install: ${missing.join(', ')}`);
    return 1;
  }
  console.error(`[test-deps] run as root:\n  ${INSTALL_COMMAND}`);
  if (ci) return 1;
  console.error('[test-deps] WARNING: not CI, continuing; the interop tests will be PENDING until these are installed.');
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = main();
}
