/**
 * PCR attributes of the PC Client platform profile (PC Client PTP, "PCR attributes"): which
 * localities may extend and reset each PCR, which survive Shutdown(STATE), which are DRTM PCRs
 * (reset to all ones at TPM Reset), and which do not bump pcrUpdateCounter.
 * Locality masks: bit n = locality n.
 */
export interface PcrAttributes {
  /** Preserved by Shutdown(STATE)/Startup(STATE) (TPM_PT_PCR_SAVE). */
  save: boolean;
  extendLocalities: number;
  /** 0 = only a TPM Reset resets it. */
  resetLocalities: number;
  /** Initial value at TPM Reset is all ones (DRTM PCRs 17-22). */
  initOnes: boolean;
  /** Changes do not increment pcrUpdateCounter (TPM_PT_PCR_NO_INCREMENT). */
  noIncrement: boolean;
  /** Reset by the DRTM sequence (_TPM_Hash_Start), TPM_PT_PCR_DRTM_RESET. */
  drtmReset: boolean;
}

const ALL = 0x1f;
const row = (
  save: boolean, extendLocalities: number, resetLocalities: number, initOnes = false, noIncrement = false, drtmReset = false,
): PcrAttributes => ({ save, extendLocalities, resetLocalities, initOnes, noIncrement, drtmReset });

export const PCR_ATTRIBUTES: readonly PcrAttributes[] = [
  ...Array.from({ length: 16 }, () => row(true, ALL, 0)), // 0-15: static root of trust
  row(false, ALL, 0x0f), // 16: debug
  row(false, 0x1c, 0x10, true, false, true), // 17: DRTM
  row(false, 0x1c, 0x10, true, false, true), // 18
  row(false, 0x1c, 0x10, true, false, true), // 19
  row(false, 0x1e, 0x14, true, true, true), // 20
  row(false, 0x04, 0x04, true, true, true), // 21
  row(false, 0x04, 0x04, true, true, true), // 22
  row(false, ALL, 0x0f), // 23: application
];

export const mayExtend = (pcr: number, locality: number): boolean =>
  ((PCR_ATTRIBUTES[pcr]!.extendLocalities >> locality) & 1) === 1;
export const mayReset = (pcr: number, locality: number): boolean =>
  ((PCR_ATTRIBUTES[pcr]!.resetLocalities >> locality) & 1) === 1;
