import { TPM_ALG } from '../../../src/tpm/spec/constants.js';
import type { MeasurementRegister } from '../../../src/mr/mr-backend.js';

/** The TDX registers as the kernel's tdx_guest driver has them: [name, hash, size, CC MR index, extendable]. */
export const TDX_LAYOUT = [
  ['mrtd', TPM_ALG.SHA384, 48, 0, false],
  ['rtmr0', TPM_ALG.SHA384, 48, 1, true],
  ['rtmr1', TPM_ALG.SHA384, 48, 2, true],
  ['rtmr2', TPM_ALG.SHA384, 48, 3, true],
  ['rtmr3', TPM_ALG.SHA384, 48, 4, true],
  ['mrconfigid', TPM_ALG.NULL, 48, undefined, false],
  ['mrowner', TPM_ALG.NULL, 48, undefined, false],
  ['mrownerconfig', TPM_ALG.NULL, 48, undefined, false],
];

export const layoutOf = (registers: readonly MeasurementRegister[]) =>
  registers.map((r) => [r.name, r.hashAlg, r.size, r.ccMrIndex, r.extendable]);
