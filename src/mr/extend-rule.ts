import { digestSize, hash } from '../tpm/crypto/hash.js';
import type { TPM_ALG_ID } from '../tpm/spec/constants.js';
import { MrError, type MeasurementRegister } from './mr-backend.js';

/**
 * The measurement-register extend rule, new = H(old || data), shared by both platforms: TDX
 * TDG.MR.RTMR.EXTEND is SHA384(old[48] || data[48]); CCA RSI_MEASUREMENT_EXTEND (TF-RMM) is
 * H(old[digest size] || data[size]) with the realm hash and no padding of `data`.
 */
export function extendValue(hashAlg: TPM_ALG_ID, old: Uint8Array, data: Uint8Array): Uint8Array {
  if (old.length !== digestSize(hashAlg)) {
    throw new RangeError(`register value is ${old.length} bytes, the hash's digest is ${digestSize(hashAlg)}`);
  }
  return hash(hashAlg, old, data);
}

/** The register called `name`; ENOENT if the backend has none (as a missing sysfs attribute). */
export function requireRegister(registers: readonly MeasurementRegister[], name: string): MeasurementRegister {
  const reg = registers.find((r) => r.name === name);
  if (reg === undefined) throw new MrError('ENOENT', `no measurement register ${name}`);
  return reg;
}

/**
 * The checks every backend makes before an extend, in the kernel's order: the write must be
 * exactly the register size (tsm-mr: `off != 0 || count != size` -> EINVAL), then the register
 * must be writable (a 0444 attribute -> EACCES).
 */
export function requireExtendable(registers: readonly MeasurementRegister[], name: string, data: Uint8Array): MeasurementRegister {
  const reg = requireRegister(registers, name);
  if (data.length !== reg.size) throw new MrError('EINVAL', `${name} takes ${reg.size} bytes, got ${data.length}`);
  if (!reg.extendable) throw new MrError('EACCES', `${name} is not extendable`);
  return reg;
}
