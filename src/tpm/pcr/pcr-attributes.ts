/**
 * PCR attributes of the PC Client platform as the TCG reference implementation (libtpms, which is
 * what swtpm answers with) declares them: which localities may extend and reset each PCR, which
 * survive Shutdown(STATE), and which do not bump pcrUpdateCounter. Locality masks: bit n = locality n.
 */
export interface PcrAttributes {
  /** Preserved by Shutdown(STATE)/Startup(STATE) (TPM_PT_PCR_SAVE). */
  save: boolean;
  extendLocalities: number;
  /** 0 = only a TPM Reset resets it. Bit 4 marks a DRTM PCR (see drtmReset). */
  resetLocalities: number;
  /** Initial value at TPM Reset / Restart is all ones: the PCRs locality 4 resets (17-22). */
  initOnes: boolean;
  /** Changes do not increment pcrUpdateCounter (TPM_PT_PCR_NO_INCREMENT, the "TCB group"). */
  noIncrement: boolean;
  /** Reset to zero by the DRTM sequence (_TPM_Hash_End after Startup), TPM_PT_PCR_DRTM_RESET. */
  drtmReset: boolean;
}

const ALL = 0x1f;
const LOCALITY_4 = 0x10;
const row = (save: boolean, resetLocalities: number, extendLocalities: number, noIncrement = false): PcrAttributes => ({
  save,
  extendLocalities,
  resetLocalities,
  initOnes: (resetLocalities & LOCALITY_4) !== 0,
  noIncrement,
  drtmReset: (resetLocalities & LOCALITY_4) !== 0,
});

/** Indexed by PCR number; the columns follow the reference table: save, reset, extend, no-increment. */
export const PCR_ATTRIBUTES: readonly PcrAttributes[] = [
  ...Array.from({ length: 16 }, () => row(true, 0, ALL)), // 0-15: static root of trust
  row(false, 0x0f, ALL, true), // 16: debug
  row(false, 0x10, 0x1c), // 17: DRTM, locality 4
  row(false, 0x10, 0x1c), // 18: locality 3
  row(false, 0x10, 0x0c), // 19: locality 2
  row(false, 0x14, 0x0e), // 20: locality 1
  row(false, 0x14, 0x04, true), // 21: dynamic OS
  row(false, 0x14, 0x04, true), // 22: dynamic OS
  row(false, 0x0f, ALL, true), // 23: application
];

const inMask = (mask: number, locality: number): boolean =>
  Number.isInteger(locality) && locality >= 0 && locality <= 4 && ((mask >> locality) & 1) === 1;

export const mayExtend = (pcr: number, locality: number): boolean => inMask(PCR_ATTRIBUTES[pcr]!.extendLocalities, locality);

/** A TPM that does DRTM never lets PCR_Reset run at locality 4 (it resets through _TPM_Hash_Start). */
export const mayReset = (pcr: number, locality: number): boolean =>
  locality !== 4 && inMask(PCR_ATTRIBUTES[pcr]!.resetLocalities, locality);
