/** Inputs and verdicts of ima-evm-utils' evmctl, as the IMA tests drive it. */
import { writeFileSync } from 'node:fs';

/** What `evmctl ima_measurement` prints (stderr) when the list replays to every bank given. */
export const EVMCTL_MATCHED = 'Matched per TPM bank calculated digest(s).';

/** evmctl's --pcrs file: "PCR-NN: <hex>" for PCRs 0-23 in order (evmctl.c read_one_bank); returns `file`. */
export function evmctlPcrFile(file: string, values: Map<number, string>): string {
  writeFileSync(file, Array.from({ length: 24 }, (_, i) => `PCR-${String(i).padStart(2, '0')}: ${values.get(i)!}\n`).join(''));
  return file;
}
