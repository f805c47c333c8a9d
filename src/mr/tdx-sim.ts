import { TPM_ALG } from '../tpm/spec/constants.js';
import type { MeasurementRegister, MrBackend } from './mr-backend.js';
import { openSimBackend, type SimPlatform } from './register-file.js';

/** Values a TD gets at build time (MRTD) or from its host (MRCONFIGID, MROWNER, MROWNERCONFIG), 48 bytes each. */
export type TdxSimInit = {
  readonly mrtd?: Uint8Array;
  readonly mrconfigid?: Uint8Array;
  readonly mrowner?: Uint8Array;
  readonly mrownerconfig?: Uint8Array;
};

export interface TdxSimOptions {
  /** Re-create the register file: a TD reboot. */
  readonly reset?: boolean;
  /** Applied when the file is created; an existing file must hold the same values. */
  readonly init?: TdxSimInit;
}

const SIZE = 48;
const rtmr = (n: number): MeasurementRegister => ({
  name: `rtmr${n}`,
  hashAlg: TPM_ALG.SHA384,
  size: SIZE,
  ccMrIndex: n + 1,
  extendable: true,
});
/** The config registers are opaque 48-byte values: the kernel names them without a hash (NOHASH). */
const config = (name: string): MeasurementRegister => ({ name, hashAlg: TPM_ALG.NULL, size: SIZE, extendable: false });

/** The registers the kernel's tdx_guest driver exposes, in its order. */
const TDX_REGISTERS: readonly MeasurementRegister[] = [
  { name: 'mrtd', hashAlg: TPM_ALG.SHA384, size: SIZE, ccMrIndex: 0, extendable: false },
  ...[0, 1, 2, 3].map(rtmr),
  ...['mrconfigid', 'mrowner', 'mrownerconfig'].map(config),
];

const TDX: SimPlatform = { kind: 'tdx-sim', platform: 'tdx', hashAlgs: [TPM_ALG.SHA384], registers: () => TDX_REGISTERS };

/** A simulated Intel TDX register file at `path` (see register-file.ts). */
export function openTdxSim(path: string, options: TdxSimOptions = {}): MrBackend {
  return openSimBackend(path, TDX, options);
}
