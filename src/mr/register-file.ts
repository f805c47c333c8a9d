/**
 * The simulated register file shared by the TDX and CCA simulators: a small binary file that
 * stands in for the hardware's registers (format in docs/mr-backends.md).
 *
 * Durability: the file is created durably (writeDurable), but an extend is one pwrite with no
 * fsync, on purpose. The file models volatile registers: a host crash is a TD/realm reboot, whose
 * registers restart from zero (the equivalent of --mr-reset), so nothing may depend on extends
 * reaching the disk. A SIGKILL of the process loses nothing: written pages live in the kernel's
 * page cache. Each value sits in a 64-byte slot that never crosses a page, and the kernel copies a
 * write that stays within one page in one piece, so a killed extend leaves the old or the new value.
 */
import { closeSync, constants, existsSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { writeDurable } from '../store/durable-file.js';
import { bytesEqual } from '../tpm/crypto/bytes.js';
import { TPM_ALG, type TPM_ALG_ID } from '../tpm/spec/constants.js';
import { hashInfo } from '../tpm/spec/hash-algs.js';
import { extendValue, requireExtendable, requireRegister } from './extend-rule.js';
import { MrError, type CcPlatform, type MeasurementRegister, type MrBackend, type PreparedExtend } from './mr-backend.js';

const MAGIC = 'MRTPMREG';
const VERSION = 1;
const HEADER_SIZE = 16;
const ENTRY_SIZE = 28;
const NAME_SIZE = 16;
/** Value slot: the largest register (SHA-512); 64 divides the page size, so no slot crosses a page. */
const SLOT = 64;
const NO_CC_MR_INDEX = 0xff;
const FLAG_EXTENDABLE = 1;

/** Platform byte: EFI_CC_TYPE (UEFI CcMeasurement.h). */
const CC_TYPE: Readonly<Record<CcPlatform, number>> = { tdx: 2, cca: 4 };

export interface RegisterFileSnapshot {
  readonly platform: CcPlatform;
  readonly registers: readonly MeasurementRegister[];
  readonly values: ReadonlyMap<string, Uint8Array>;
  /** The value read, by name, so a snapshot can stand where a backend's reads are expected. */
  read(name: string): Uint8Array;
}

interface Layout extends Omit<RegisterFileSnapshot, 'read'> {
  /** File offset of each register's value, by name. */
  readonly offsets: ReadonlyMap<string, number>;
}

const valuesStart = (count: number): number => Math.ceil((HEADER_SIZE + count * ENTRY_SIZE) / SLOT) * SLOT;
const MAX_FILE_SIZE = valuesStart(255) + 255 * SLOT;

/** The whole file for `registers` holding `values` (same order). */
function encodeRegisterFile(platform: CcPlatform, registers: readonly MeasurementRegister[], values: readonly Uint8Array[]): Uint8Array {
  const start = valuesStart(registers.length);
  const buf = Buffer.alloc(start + registers.length * SLOT);
  buf.write(MAGIC, 0, 'latin1');
  buf.writeUInt16BE(VERSION, 8);
  buf.writeUInt8(CC_TYPE[platform], 10);
  buf.writeUInt8(registers.length, 11);
  registers.forEach((reg, i) => {
    if (reg.size > SLOT || Buffer.byteLength(reg.name, 'latin1') > NAME_SIZE) {
      throw new RangeError(`register ${reg.name} does not fit the file format`);
    }
    const at = HEADER_SIZE + i * ENTRY_SIZE;
    buf.write(reg.name, at, NAME_SIZE, 'latin1');
    buf.writeUInt16BE(reg.hashAlg, at + 16);
    buf.writeUInt16BE(reg.size, at + 18);
    buf.writeUInt8(reg.ccMrIndex ?? NO_CC_MR_INDEX, at + 20);
    buf.writeUInt8(reg.extendable ? FLAG_EXTENDABLE : 0, at + 21);
    buf.writeUInt32BE(start + i * SLOT, at + 24);
    buf.set(values[i]!.subarray(0, reg.size), start + i * SLOT);
  });
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function corrupt(path: string, why: string): Error {
  return new Error(`${path} is not an mrtpm register file (${why}); --mr-reset re-creates it`);
}

/** Reads and parses the whole file; a foreign file larger than any register file is not read. */
function load(path: string, fd: number): Layout {
  const size = fstatSync(fd).size;
  if (size > MAX_FILE_SIZE) throw corrupt(path, `wrong size ${size}`);
  const bytes = new Uint8Array(size);
  if (readSync(fd, bytes, 0, size, 0) !== size) throw corrupt(path, 'short read');
  return parse(path, bytes);
}

function parse(path: string, bytes: Uint8Array): Layout {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < HEADER_SIZE || buf.toString('latin1', 0, 8) !== MAGIC) throw corrupt(path, 'bad magic');
  if (buf.readUInt16BE(8) !== VERSION) throw corrupt(path, `unsupported version ${buf.readUInt16BE(8)}`);
  const platform = (Object.keys(CC_TYPE) as CcPlatform[]).find((p) => CC_TYPE[p] === buf.readUInt8(10));
  if (platform === undefined) throw corrupt(path, `unknown platform ${buf.readUInt8(10)}`);
  const count = buf.readUInt8(11);
  const start = valuesStart(count);
  if (count === 0 || buf.length !== start + count * SLOT) throw corrupt(path, `wrong size ${buf.length} for ${count} registers`);
  const registers: MeasurementRegister[] = [];
  const values = new Map<string, Uint8Array>();
  const offsets = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const at = HEADER_SIZE + i * ENTRY_SIZE;
    const name = buf.toString('latin1', at, at + NAME_SIZE).replace(/\0+$/, '');
    const hashAlg = buf.readUInt16BE(at + 16);
    const size = buf.readUInt16BE(at + 18);
    const index = buf.readUInt8(at + 20);
    const offset = buf.readUInt32BE(at + 24);
    const hashOk = hashAlg === TPM_ALG.NULL || hashInfo(hashAlg)?.digestSize === size;
    if (!/^[a-z0-9_]+$/.test(name) || values.has(name) || !hashOk || size > SLOT || offset !== start + i * SLOT) {
      throw corrupt(path, `bad register table entry ${i}`);
    }
    const extendable = (buf.readUInt8(at + 21) & FLAG_EXTENDABLE) !== 0;
    registers.push({ name, hashAlg, size, extendable, ...(index === NO_CC_MR_INDEX ? {} : { ccMrIndex: index }) });
    values.set(name, new Uint8Array(buf.subarray(offset, offset + size)));
    offsets.set(name, offset);
  }
  return { platform, registers, values, offsets };
}

/**
 * Reads a register file without opening it for writing and without a lock, as a second process
 * (a status command) may while a vTPM holds it. A value caught mid-extend may read torn.
 */
export function readRegisterFile(path: string): RegisterFileSnapshot {
  const fd = openSync(path, constants.O_RDONLY);
  try {
    const { platform, registers, values } = load(path, fd);
    return { platform, registers, values, read: (name) => values.get(requireRegister(registers, name).name)! };
  } finally {
    closeSync(fd);
  }
}

/** A register file held open O_RDWR, its values cached in memory. */
class RegisterFile {
  private constructor(
    readonly path: string,
    private fd: number,
    private readonly layout: Layout,
    private readonly values: Map<string, Uint8Array>,
  ) {}

  static open(path: string): RegisterFile {
    const fd = openSync(path, constants.O_RDWR);
    try {
      const layout = load(path, fd);
      return new RegisterFile(path, fd, layout, new Map(layout.values));
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  get platform(): CcPlatform {
    return this.layout.platform;
  }

  get registers(): readonly MeasurementRegister[] {
    return this.layout.registers;
  }

  read(name: string): Uint8Array {
    return new Uint8Array(this.cached(name));
  }

  /** Stores `value` with ONE positioned write of the register's bytes (see the header comment). */
  write(name: string, value: Uint8Array): void {
    const old = this.cached(name);
    if (value.length !== old.length) throw new RangeError(`${name} holds ${old.length} bytes, got ${value.length}`);
    const written = writeSync(this.fd, value, 0, value.length, this.layout.offsets.get(name)!);
    if (written !== value.length) throw new Error(`${this.path}: short write of ${name}`);
    old.set(value);
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }

  private cached(name: string): Uint8Array {
    const value = this.values.get(name);
    if (value === undefined) throw new MrError('ENOENT', `no measurement register ${name}`);
    return value;
  }
}

/** What a simulator fixes: its registers for each hash it accepts (the first is the default). */
export interface SimPlatform {
  readonly kind: 'tdx-sim' | 'cca-sim';
  readonly platform: CcPlatform;
  readonly hashAlgs: readonly TPM_ALG_ID[];
  registers(hashAlg: TPM_ALG_ID): readonly MeasurementRegister[];
}

export interface SimOptions {
  /** Re-create the file: a TD/realm reboot, every register back to zero or its init value. */
  readonly reset?: boolean;
  /** The registers' hash, chosen at creation; undefined: the default, or what the file holds. */
  readonly hashAlg?: TPM_ALG_ID;
  /** Values given at creation (TDX MRTD/MRCONFIGID/..., CCA RIM); checked against an existing file. */
  readonly init?: Readonly<Partial<Record<string, Uint8Array>>>;
}

const readOnlyAfterCreation = (what: string, path: string): Error =>
  new Error(`${what} is read-only after creation and ${path} holds another; --mr-reset re-creates it`);

const FIELDS = ['name', 'hashAlg', 'size', 'ccMrIndex', 'extendable'] as const;
const sameRegisters = (a: readonly MeasurementRegister[], b: readonly MeasurementRegister[]): boolean =>
  a.length === b.length && a.every((r, i) => FIELDS.every((f) => r[f] === b[i]![f]));

/**
 * Opens the simulator's register file at `path`, creating it (mode 0600) when missing or on
 * `reset`. An existing file must be this platform's and match `hashAlg` and `init` where given.
 */
export function openSimBackend(path: string, sim: SimPlatform, options: SimOptions = {}): MrBackend {
  const init = Object.entries(options.init ?? {}).filter((e): e is [string, Uint8Array] => e[1] !== undefined);
  if (options.hashAlg !== undefined && !sim.hashAlgs.includes(options.hashAlg)) {
    throw new Error(`${sim.kind} does not support hash 0x${options.hashAlg.toString(16).padStart(4, '0')}`);
  }
  const creating = options.reset === true || !existsSync(path);
  const wanted = sim.registers(options.hashAlg ?? sim.hashAlgs[0]!);
  for (const [name, value] of init) {
    const reg = requireRegister(wanted, name);
    if (value.length !== reg.size) throw new Error(`init value of ${name} must be ${reg.size} bytes, got ${value.length}`);
  }
  if (creating) {
    const initial = new Map(init);
    writeDurable(path, encodeRegisterFile(sim.platform, wanted, wanted.map((r) => initial.get(r.name) ?? new Uint8Array(r.size))));
  }
  const file = RegisterFile.open(path);
  try {
    if (file.platform !== sim.platform) throw new Error(`${path} is a ${file.platform} register file, not ${sim.platform}`);
    const stored = sim.hashAlgs.find((h) => sameRegisters(sim.registers(h), file.registers));
    if (stored === undefined) throw corrupt(path, `register table is not ${sim.kind}'s`);
    if (options.hashAlg !== undefined && options.hashAlg !== stored) throw readOnlyAfterCreation('the register hash', path);
    for (const [name, value] of init) {
      if (!bytesEqual(value, file.read(name))) throw readOnlyAfterCreation(`register ${name}`, path);
    }
  } catch (err) {
    file.close();
    throw err;
  }
  return new SimBackend(sim.kind, file);
}

class SimBackend implements MrBackend {
  readonly platform: CcPlatform;
  readonly registers: readonly MeasurementRegister[];

  constructor(
    readonly kind: SimPlatform['kind'],
    private readonly file: RegisterFile,
  ) {
    this.platform = file.platform;
    this.registers = file.registers;
  }

  register(name: string): MeasurementRegister | undefined {
    return this.registers.find((r) => r.name === name);
  }

  read(name: string): Uint8Array {
    return this.file.read(name);
  }

  extend(name: string, data: Uint8Array): void {
    this.prepareExtend(name, data).commit();
  }

  prepareExtend(name: string, data: Uint8Array): PreparedExtend {
    const reg = requireExtendable(this.registers, name, data);
    const old = this.file.read(name);
    const value = extendValue(reg.hashAlg, old, data);
    return {
      old,
      value,
      commit: () => {
        try {
          this.file.write(name, value);
        } catch (err) {
          throw new MrError('EIO', `${this.file.path}: ${(err as Error).message}`);
        }
      },
    };
  }

  close(): void {
    this.file.close();
  }
}
