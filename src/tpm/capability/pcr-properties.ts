/** TPM_CAP_PCR_PROPERTIES: for each TPM_PT_PCR tag, the PCRs that have it, from the PCR attribute table. */
import { TPM_PT_PCR } from '../spec/tpm-pt.js';
import { PCR_ATTRIBUTES, type PcrAttributes } from '../pcr/pcr-attributes.js';
import { indicesToSelection } from '../pcr/pcr-select.js';
import type { TaggedPcrSelect } from '../marshal/capability-types.js';

const extend = (locality: number) => (a: PcrAttributes): boolean => ((a.extendLocalities >> locality) & 1) === 1;
const reset = (locality: number) => (a: PcrAttributes): boolean => ((a.resetLocalities >> locality) & 1) === 1;

/** In tag order. No TPM_PT_PCR_POLICY / AUTH: this TPM has no PCR policy or authValue groups. */
const PCR_PROPERTY_TESTS: ReadonlyArray<readonly [number, (a: PcrAttributes) => boolean]> = [
  [TPM_PT_PCR.SAVE, (a) => a.save],
  [TPM_PT_PCR.EXTEND_L0, extend(0)],
  [TPM_PT_PCR.RESET_L0, reset(0)],
  [TPM_PT_PCR.EXTEND_L1, extend(1)],
  [TPM_PT_PCR.RESET_L1, reset(1)],
  [TPM_PT_PCR.EXTEND_L2, extend(2)],
  [TPM_PT_PCR.RESET_L2, reset(2)],
  [TPM_PT_PCR.EXTEND_L3, extend(3)],
  [TPM_PT_PCR.RESET_L3, reset(3)],
  [TPM_PT_PCR.EXTEND_L4, extend(4)],
  [TPM_PT_PCR.RESET_L4, reset(4)],
  [TPM_PT_PCR.NO_INCREMENT, (a) => a.noIncrement],
  [TPM_PT_PCR.DRTM_RESET, (a) => a.drtmReset],
];

/** The tagged selections whose tag is at least `property`. */
export function pcrPropertiesFrom(property: number): TaggedPcrSelect[] {
  return PCR_PROPERTY_TESTS.filter(([tag]) => tag >= property).map(([tag, test]) => ({
    tag,
    pcrSelect: indicesToSelection(PCR_ATTRIBUTES.flatMap((a, pcr) => (test(a) ? [pcr] : []))),
  }));
}
