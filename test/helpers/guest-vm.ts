/**
 * A real Linux guest as a TPM client: Debian's own kernel (linux-image-amd64) booted by QEMU
 * (qemu-system-x86) with an initramfs built here from busybox-static and
 * test/fixtures/guest/init, the TPM attached through QEMU's TPM emulator backend (the swtpm
 * control protocol on a unix socket). The init prints its findings on the second serial port,
 * in "=== BEGIN name ===" ... "=== END ===" sections; the first carries the kernel console.
 */
import { constants, copyFileSync, existsSync, openSync, closeSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { cpioNewc, type CpioEntry } from './cpio.js';
import { withQmp } from './qmp.js';
import { spawnChild, stopChild, type ExitStatus, type ManagedChild } from './processes.js';

export const BUSYBOX = '/bin/busybox';
export const QEMU = 'qemu-system-x86_64';
const INIT = fileURLToPath(new URL('../../../test/fixtures/guest/init', import.meta.url));
/** The file init reads (so IMA measures it); its digest is the host's to check. */
export const PROBE_PATH = '/etc/mrtpm-probe';

/** Debian's kernel image: the newest /boot/vmlinuz-* (undefined when linux-image-amd64 is missing). */
export function guestKernel(): string | undefined {
  if (!existsSync('/boot')) return undefined;
  const images = readdirSync('/boot').filter((name) => name.startsWith('vmlinuz-')).sort();
  const newest = images.at(-1);
  return newest === undefined ? undefined : path.join('/boot', newest);
}

let accel: Promise<'kvm' | 'tcg'> | undefined;

/** How long KVM may take to boot the kernel to its panic (TCG takes about 4 s here). */
const KVM_PROBE_MS = 15_000;
/** What the kernel prints last without a root file system; panic=-1 then ends QEMU (-no-reboot). */
const PROBE_END = 'Kernel panic - not syncing';

/**
 * KVM when it runs a guest, TCG otherwise. Opening /dev/kvm is not enough: under nested
 * virtualisation it may open and then never run a vCPU, or run it only part of the way, so the
 * kernel is booted (no initramfs) and must get as far as its panic in KVM_PROBE_MS.
 * MRTPM_GUEST_ACCEL=kvm|tcg decides instead.
 */
export function qemuAccel(kernel: string): Promise<'kvm' | 'tcg'> {
  const forced = process.env.MRTPM_GUEST_ACCEL;
  if (forced === 'kvm' || forced === 'tcg') return Promise.resolve(forced);
  accel ??= (async () => {
    try {
      closeSync(openSync('/dev/kvm', constants.O_RDWR));
    } catch {
      return 'tcg';
    }
    const probe = spawnChild('qemu (kvm probe)', QEMU, [
      '-accel', 'kvm', '-m', '128M', '-display', 'none', '-vga', 'none', '-monitor', 'none', '-nodefaults', '-no-reboot',
      '-serial', 'stdio', '-kernel', kernel, '-append', 'console=ttyS0 panic=-1',
    ]);
    const deadline = Date.now() + KVM_PROBE_MS;
    while (!probe.hasExited() && Date.now() < deadline && !probe.stdout().includes(PROBE_END)) await sleep(50);
    const works = probe.stdout().includes(PROBE_END);
    await stopChild(probe, 'SIGKILL');
    return works ? 'kvm' : 'tcg';
  })();
  return accel;
}

/** Writes the initramfs (uncompressed cpio newc) to `file`: busybox, /init, the probe file, /dev/console. */
export function writeInitramfs(file: string, probe: Uint8Array): void {
  const dirs = ['bin', 'dev', 'etc', 'proc', 'sys', 'tmp'].map((p): CpioEntry => ({ kind: 'dir', path: p }));
  writeFileSync(file, cpioNewc([
    ...dirs,
    // The kernel opens /dev/console for init's stdio before anything mounts devtmpfs.
    { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    { kind: 'file', path: 'bin/busybox', data: readFileSync(BUSYBOX), mode: 0o755 },
    { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
    { kind: 'file', path: 'init', data: readFileSync(INIT), mode: 0o755 },
    { kind: 'file', path: PROBE_PATH.slice(1), data: probe },
  ]));
}

export type TpmDevice = 'tpm-tis' | 'tpm-crb';
/** What init does once it has printed: power off, or ask the host (Guest.send) for each boot. */
export type AfterDump = 'poweroff' | 'ask';
/**
 * Answers to init's question: a reboot makes QEMU reset the TPM (CMD_INIT); dump prints the
 * sections again; measure makes IMA measure a new file, then dumps.
 */
export type NextStep = 'reboot' | 'poweroff' | 'dump' | 'measure';
/** QEMU's default BIOS (Debian's seabios), or UEFI (Debian's ovmf) on q35. */
export type Firmware = 'seabios' | 'ovmf';

const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';

export interface GuestOptions {
  kernel: string;
  initrd: string;
  /** The TPM emulator's control socket (swtpm --ctrl type=unixio, or mrtpm serve --qemu). */
  tpmSocket: string;
  device: TpmDevice;
  /** Where the second serial port (init's sections) is written. */
  dataFile: string;
  after?: AfterDump;
  accel: 'kvm' | 'tcg';
  firmware?: Firmware;
  /** A QMP socket to serve (Guest.migrate needs it). */
  qmp?: string;
  /** Start paused and take the VM from this migration stream (what Guest.migrate wrote). */
  incoming?: string;
  /** A qcow2 image (not attached to the guest) where savevm keeps its snapshots. */
  snapshots?: string;
}

export interface Guest {
  readonly child: ManagedChild;
  readonly startedAt: number;
  /** The sections of each boot so far (a reboot starts a new one, and so does a dump asked for). */
  boots(): Map<string, string>[];
  /** Resolves once `count` boots have printed all sections (with the ms since start each finished its IMA list). */
  waitForBoots(count: number, timeoutMs: number): Promise<{ boots: Map<string, string>[]; imaListAtMs: number[] }>;
  /** Tells init (mrtpm.after=ask) what to do after its sections, on the console. */
  send(step: NextStep): void;
  stop(signal?: NodeJS.Signals): Promise<ExitStatus>;
  /** Live-migrates the VM into `file` (QEMU asks its TPM for the state blobs); the VM stays paused. */
  migrate(file: string): Promise<void>;
  /** Resolves once the VM runs (after an incoming migration: console input sent before is lost). */
  running(timeoutMs: number): Promise<void>;
  /** A human monitor command (savevm, loadvm) through QMP; resolves with what it printed. */
  monitor(commandLine: string): Promise<string>;
}

const LAST_SECTION = 'uptime-done';

/** Splits init's output into one map of section name -> text per boot. */
export function parseSections(text: string): Map<string, string>[] {
  const boots: Map<string, string>[] = [];
  let current: { name: string; lines: string[] } | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const begin = /^=== BEGIN (\S+) ===$/.exec(line);
    if (begin) {
      if (begin[1] === 'uptime' || boots.length === 0) boots.push(new Map());
      current = { name: begin[1]!, lines: [] };
    } else if (line === '=== END ===' && current) {
      boots.at(-1)!.set(current.name, current.lines.join('\n'));
      current = undefined;
    } else if (current) {
      current.lines.push(line);
    }
  }
  return boots;
}

/** OVMF's code read-only, and a private copy of its variable store next to the data file. */
function firmwareArgs(o: GuestOptions): string[] {
  if (o.firmware !== 'ovmf') return o.device === 'tpm-crb' ? ['-machine', 'q35'] : [];
  const vars = `${o.dataFile}.OVMF_VARS.fd`;
  copyFileSync(OVMF_VARS, vars);
  return [
    '-machine', 'q35',
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`,
    '-drive', `if=pflash,format=raw,unit=1,file=${vars}`,
  ];
}

function qemuArgs(o: GuestOptions, accel: 'kvm' | 'tcg'): string[] {
  return [
    '-accel', accel,
    ...firmwareArgs(o),
    '-m', '256M',
    '-smp', '1',
    '-display', 'none', '-vga', 'none', '-monitor', 'none', '-nodefaults',
    '-serial', 'stdio',
    '-serial', `file:${o.dataFile}`,
    '-kernel', o.kernel,
    '-initrd', o.initrd,
    // rootfstype=ramfs: on tmpfs (the default rootfs) the tcb policy measures nothing.
    '-append', `console=ttyS0 ima_policy=tcb ima_hash=sha256 panic=-1 rootfstype=ramfs mrtpm.after=${o.after ?? 'poweroff'}`,
    '-chardev', `socket,id=chrtpm,path=${o.tpmSocket}`,
    '-tpmdev', 'emulator,id=tpm0,chardev=chrtpm',
    '-device', `${o.device},tpmdev=tpm0`,
    ...(o.after === 'ask' ? [] : ['-no-reboot']),
    ...(o.qmp ? ['-qmp', `unix:${o.qmp},server=on,wait=off`] : []),
    ...(o.incoming ? ['-incoming', `exec:cat ${o.incoming}`] : []),
    ...(o.snapshots ? ['-drive', `if=none,id=snapshots,format=qcow2,file=${o.snapshots}`] : []),
  ];
}

/** Starts QEMU; the guest boots at once. */
export function bootGuest(o: GuestOptions): Guest {
  writeFileSync(o.dataFile, '');
  const startedAt = Date.now();
  const child = spawnChild(`qemu (${o.device})`, QEMU, qemuArgs(o, o.accel), { stdio: ['pipe', 'pipe', 'pipe'] });
  const qmpSocket = (what: string): string => {
    if (!o.qmp) throw new Error(`${what} needs the qmp option`);
    return o.qmp;
  };
  const boots = (): Map<string, string>[] => parseSections(existsSync(o.dataFile) ? readFileSync(o.dataFile, 'utf8') : '');
  return {
    child,
    startedAt,
    boots,
    async waitForBoots(count, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      const imaListAtMs: number[] = [];
      for (;;) {
        const now = boots();
        now.forEach((boot, i) => { if (boot.has('ima-ascii') && imaListAtMs[i] === undefined) imaListAtMs[i] = Date.now() - startedAt; });
        if (now.length >= count && now.slice(0, count).every((b) => b.has(LAST_SECTION))) return { boots: now, imaListAtMs };
        if (child.hasExited()) {
          throw new Error(`QEMU exited (${JSON.stringify(await child.exited)}) after ${now.length} boot(s); stderr:\n${child.stderr()}\nconsole:\n${child.stdout().slice(-6000)}`);
        }
        if (Date.now() > deadline) throw new Error(`guest did not finish ${count} boot(s) in ${timeoutMs} ms; console:\n${child.stdout().slice(-6000)}`);
        await sleep(50);
      }
    },
    send: (step) => { child.process.stdin?.write(`${step}\n`); },
    stop: (signal = 'SIGTERM') => stopChild(child, signal, 10000),
    migrate: (file) => withQmp(qmpSocket('migrate'), async (qmp) => {
      await qmp.execute('migrate', { uri: `exec:cat > ${file}` });
      for (;;) {
        const { status, 'error-desc': error } = (await qmp.execute('query-migrate')) as { status?: string; 'error-desc'?: string };
        if (status === 'completed') return;
        if (status === 'failed' || status === 'cancelled') throw new Error(`migration ${status}: ${error ?? ''}; stderr:\n${child.stderr()}`);
        await sleep(50);
      }
    }),
    monitor: (commandLine) => withQmp(qmpSocket('monitor'), async (qmp) => (await qmp.execute('human-monitor-command', { 'command-line': commandLine })) as string),
    running: (timeoutMs) => withQmp(qmpSocket('running'), async (qmp) => {
      const deadline = Date.now() + timeoutMs;
      while (((await qmp.execute('query-status')) as { status: string }).status !== 'running') {
        if (Date.now() > deadline) throw new Error(`VM not running after ${timeoutMs} ms; stderr:\n${child.stderr()}`);
        await sleep(50);
      }
    }),
  };
}
