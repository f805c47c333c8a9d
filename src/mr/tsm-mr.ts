/**
 * The Linux kernel's unified measurement-register ABI (tsm-mr, Linux 6.16+):
 * `<sysfsRoot>/<device>/measurements/<name>:<hash>` (or `<name>` for a register without a hash),
 * one raw binary attribute per register. A write of exactly the register size at offset 0 extends
 * it; the kernel computes the new value, this backend never does.
 */
import { closeSync, constants, openSync, readdirSync, readSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { TPM_ALG, type TPM_ALG_ID } from '../tpm/spec/constants.js';
import { digestSize } from '../tpm/crypto/hash.js';
import { extendValue, requireExtendable, requireRegister } from './extend-rule.js';
import { MrError, mrErrorOf, type CcPlatform, type MeasurementRegister, type MrBackend, type PreparedExtend } from './mr-backend.js';

export interface TsmMrOptions {
  /** Directory of the misc devices; default /sys/class/misc. */
  readonly sysfsRoot?: string;
  /** Device directory name (tdx_guest, arm_cca_guest); default: the first of those with a measurements/ directory. */
  readonly device?: string;
}

/** The guest drivers that register measurements: the register at CC MR index 0 and the prefix of those at 1..4. */
const DEVICES: ReadonlyMap<string, { platform: CcPlatform; base: string; runtime: string }> = new Map([
  ['tdx_guest', { platform: 'tdx', base: 'mrtd', runtime: 'rtmr' }],
  ['arm_cca_guest', { platform: 'cca', base: 'rim', runtime: 'rem' }],
]);

/** Attribute suffixes (the kernel's hash_algo_name) this backend understands. */
const HASHES: ReadonlyMap<string, TPM_ALG_ID> = new Map([
  ['sha256', TPM_ALG.SHA256],
  ['sha384', TPM_ALG.SHA384],
  ['sha512', TPM_ALG.SHA512],
]);

const isDirectory = (path: string): boolean => statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;

function ccMrIndex(device: string, name: string): number | undefined {
  const { base, runtime } = DEVICES.get(device)!;
  if (name === base) return 0;
  const n = new RegExp(`^${runtime}([0-3])$`).exec(name);
  return n === null ? undefined : Number(n[1]) + 1;
}

interface SysfsRegister extends MeasurementRegister {
  readonly file: string;
}

/**
 * The registers of a measurements/ directory. A name the kernel lists under several hashes
 * ("crypto agility": the same storage extended with different hashes) keeps its largest digest.
 */
function listRegisters(dir: string, device: string): SysfsRegister[] {
  const byName = new Map<string, SysfsRegister>();
  for (const entry of readdirSync(dir)) {
    const [name, hashName, ...rest] = entry.split(':');
    const hashAlg = hashName === undefined ? TPM_ALG.NULL : HASHES.get(hashName);
    if (!name || hashAlg === undefined || rest.length > 0) continue;
    const file = join(dir, entry);
    const st = statSync(file);
    const size = hashAlg === TPM_ALG.NULL ? st.size : digestSize(hashAlg);
    const index = ccMrIndex(device, name);
    // Writable attributes are 0644 (0200 | READABLE's 0444), read-only ones 0444.
    const reg = { name, hashAlg, size, extendable: (st.mode & 0o200) !== 0, file, ...(index === undefined ? {} : { ccMrIndex: index }) };
    if ((byName.get(name)?.size ?? -1) < size) byName.set(name, reg);
  }
  // CC MR order (MRTD/RIM, then RTMRs/REMs), then the others by name.
  const order = (r: SysfsRegister): number => r.ccMrIndex ?? Number.MAX_SAFE_INTEGER;
  return [...byName.values()].sort((a, b) => order(a) - order(b) || a.name.localeCompare(b.name));
}

function findDevice(root: string, device: string | undefined): string {
  const candidates = device === undefined ? [...DEVICES.keys()] : [device];
  if (device !== undefined && !DEVICES.has(device)) {
    throw new Error(`unknown measurement device ${device}; expected one of ${[...DEVICES.keys()].join(', ')}`);
  }
  const found = candidates.find((d) => isDirectory(join(root, d, 'measurements')));
  if (found === undefined) {
    const tried = candidates.map((d) => join(root, d, 'measurements')).join(' or ');
    throw new Error(`no measurement registers: ${tried} does not exist (tsm-mr needs Linux 6.16+ in a TDX or CCA guest)`);
  }
  return found;
}

class TsmMrBackend implements MrBackend {
  readonly kind = 'tsm-mr';

  constructor(
    readonly platform: CcPlatform,
    readonly registers: readonly SysfsRegister[],
  ) {}

  register(name: string): MeasurementRegister | undefined {
    return this.registers.find((r) => r.name === name);
  }

  /** Re-read on every call: the registers are live (other software extends them too). */
  read(name: string): Uint8Array {
    const reg = requireRegister(this.registers, name) as SysfsRegister;
    const value = new Uint8Array(reg.size);
    const n = this.withFile(reg.file, constants.O_RDONLY, (fd) => readSync(fd, value, 0, reg.size, 0));
    if (n !== reg.size) throw new MrError('EIO', `${reg.file}: short read (${n} of ${reg.size} bytes)`);
    return value;
  }

  /** The kernel computes the new value itself; `value` is what the extend rule predicts from a live read. */
  prepareExtend(name: string, data: Uint8Array): PreparedExtend {
    const reg = requireExtendable(this.registers, name, data);
    const old = this.read(name);
    return { old, value: extendValue(reg.hashAlg, old, data), commit: () => this.extend(name, data) };
  }

  extend(name: string, data: Uint8Array): void {
    const reg = requireExtendable(this.registers, name, data) as SysfsRegister;
    const n = this.withFile(reg.file, constants.O_WRONLY, (fd) => writeSync(fd, data, 0, data.length, 0));
    if (n !== data.length) throw new MrError('EIO', `${reg.file}: short write (${n} of ${data.length} bytes)`);
  }

  close(): void {}

  private withFile(file: string, flags: number, io: (fd: number) => number): number {
    let fd: number | undefined;
    try {
      fd = openSync(file, flags);
      return io(fd);
    } catch (err) {
      throw mrErrorOf(err, file);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}

/** The kernel's measurement registers of this guest; an Error if it exposes none. */
export function openTsmMr(options: TsmMrOptions = {}): MrBackend {
  const root = options.sysfsRoot ?? '/sys/class/misc';
  const device = findDevice(root, options.device);
  return new TsmMrBackend(DEVICES.get(device)!.platform, listRegisters(join(root, device, 'measurements'), device));
}
