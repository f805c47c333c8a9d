/**
 * The measurement-register backends' common shape: a register file of a confidential VM (Intel
 * TDX MRTD/RTMRs, Arm CCA RIM/REMs), simulated or the kernel's tsm-mr sysfs ABI. Synchronous on
 * purpose: the mirror runs inside a TPM command, which the engine executes synchronously.
 */

/** The confidential-computing platform of a register file, as EFI_CC_TYPE names it. */
export type CcPlatform = 'tdx' | 'cca';

export interface MeasurementRegister {
  /** Lower-case register name as the kernel's sysfs names it: mrtd, rtmr0..3, mrconfigid, rim, rem0..3, ... */
  readonly name: string;
  /** TPM_ALG_ID of the register's hash (SHA-384 for TDX, the realm hash for CCA). */
  readonly hashAlg: number;
  /** Register width in bytes (the digest size of hashAlg). */
  readonly size: number;
  /**
   * CC MR index as the CC event log numbers it (UEFI 2.10 §38.4): 0 for MRTD/RIM, 1..4 for
   * RTMR0..3 / REM0..3; undefined for registers the CC event log never names (MRCONFIGID, ...).
   */
  readonly ccMrIndex?: number;
  /** True if extend() is allowed (RTMRs and REMs); false for MRTD, RIM and the config registers. */
  readonly extendable: boolean;
}

/** Why a backend refused: errno-style, as the kernel ABI reports it. */
export type MrErrorCode = 'EINVAL' | 'EACCES' | 'ENOENT' | 'ENXIO' | 'EBUSY' | 'EIO' | 'EINTR' | 'EFBIG';

export class MrError extends Error {
  constructor(readonly code: MrErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'MrError';
  }
}

const ERRNO_CODES: ReadonlySet<string> = new Set<MrErrorCode>(['ENXIO', 'EBUSY', 'EIO', 'EINTR', 'EINVAL', 'EFBIG', 'ENOENT', 'EACCES']);

/** A failed syscall on a kernel file as MrError: the errnos the ABIs document keep their code, anything else is EIO. */
export function mrErrorOf(err: unknown, file: string): MrError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== undefined && ERRNO_CODES.has(code)) return new MrError(code as MrErrorCode, `${file}: ${(err as Error).message}`);
  return new MrError('EIO', `${file}: ${(err as Error).message}`);
}

/** An extend worked out but not done yet: the mirror appends its log record (the write-ahead intent) in between. */
export interface PreparedExtend {
  /** The register's value now ... */
  readonly old: Uint8Array;
  /** ... and after the extend, by the extend rule. */
  readonly value: Uint8Array;
  /** Does the extend (the same refusals as extend()). */
  commit(): void;
}

export interface MrBackend {
  /** Backend name as `--mr` takes it. */
  readonly kind: 'tdx-sim' | 'cca-sim' | 'tsm-mr';
  readonly platform: CcPlatform;
  readonly registers: readonly MeasurementRegister[];
  /** Register by name, or undefined. */
  register(name: string): MeasurementRegister | undefined;
  /** The register's current value (live: re-read where the hardware may have moved it). */
  read(name: string): Uint8Array;
  /**
   * Extends the register with `data`, which must be exactly the register size (EINVAL otherwise,
   * as the kernel ABI; EACCES for a register that is not extendable). The new value is
   * H(old || data) with the register's hash (TDX TDG.MR.RTMR.EXTEND, CCA RSI_MEASUREMENT_EXTEND).
   */
  extend(name: string, data: Uint8Array): void;
  /**
   * extend() in two steps: checks it as extend() would and works out the register's value before
   * and after it; commit() then does it. A simulator computes the new value once, for both.
   */
  prepareExtend(name: string, data: Uint8Array): PreparedExtend;
  /** Releases files held open. */
  close(): void;
}
