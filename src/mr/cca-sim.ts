import { digestSize } from '../tpm/crypto/hash.js';
import { TPM_ALG, type TPM_ALG_ID } from '../tpm/spec/constants.js';
import type { MeasurementRegister, MrBackend } from './mr-backend.js';
import { openSimBackend, type SimPlatform } from './register-file.js';

/** The realm hash, chosen by the host at realm creation: SHA-256 or SHA-512, and SHA-384 as TF-RMM accepts it. */
export type CcaRealmHash = typeof TPM_ALG.SHA256 | typeof TPM_ALG.SHA384 | typeof TPM_ALG.SHA512;

export interface CcaSimOptions {
  /** Re-create the register file: a realm reboot. */
  readonly reset?: boolean;
  /** The realm hash at creation (default SHA-256); an existing file must have been created with it. */
  readonly hashAlg?: CcaRealmHash;
  /** The Realm Initial Measurement at creation (digest size of the realm hash). */
  readonly init?: { readonly rim?: Uint8Array };
}

/** RIM (RSI index 0) and REM0..3 (RSI index 1..4), all of the realm hash. */
function ccaRegisters(hashAlg: TPM_ALG_ID): readonly MeasurementRegister[] {
  const size = digestSize(hashAlg);
  return [
    { name: 'rim', hashAlg, size, ccMrIndex: 0, extendable: false },
    ...[0, 1, 2, 3].map((n) => ({ name: `rem${n}`, hashAlg, size, ccMrIndex: n + 1, extendable: true })),
  ];
}

const CCA: SimPlatform = {
  kind: 'cca-sim',
  platform: 'cca',
  hashAlgs: [TPM_ALG.SHA256, TPM_ALG.SHA512, TPM_ALG.SHA384],
  registers: ccaRegisters,
};

/** A simulated Arm CCA realm register file at `path` (see register-file.ts). */
export function openCcaSim(path: string, options: CcaSimOptions = {}): MrBackend {
  return openSimBackend(path, CCA, options);
}
