/**
 * What separates the vTPM's PCRs from the hardware registers they are mirrored into, worked out
 * from the tables the engine and the mirror use (PCR attributes, the PCR -> CC MR map), so that
 * the comparison states what the code does.
 */
import { PCR_ATTRIBUTES } from '../../tpm/pcr/pcr-attributes.js';
import { UEFI_PCR_MR_MAP } from '../../mr/pcr-mr-map.js';
import type { CompareRun } from './compare-run.js';

export interface Fact {
  property: string;
  vtpm: string;
  registers: string;
}

const PCR_COUNT = PCR_ATTRIBUTES.length;
const localities = (mask: number): string => [0, 1, 2, 3, 4].filter((l) => (mask >> l) & 1).join(', ');

/** PCR numbers as ranges: 0-15, 16, 23. */
function ranges(pcrs: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < pcrs.length; i++) {
    let j = i;
    while (j + 1 < pcrs.length && pcrs[j + 1] === pcrs[j]! + 1) j++;
    out.push(j > i ? `${pcrs[i]}-${pcrs[j]}` : `${pcrs[i]}`);
    i = j;
  }
  return out.join(', ');
}

const pcrsWhere = (f: (pcr: number) => boolean): number[] => Array.from({ length: PCR_COUNT }, (_, p) => p).filter(f);

export function comparisonFacts(run: CompareRun): Fact[] {
  const extendable = run.backend.registers.filter((r) => r.extendable && r.ccMrIndex !== undefined);
  const sharing = extendable
    .map((r) => `${r.name}: PCR ${ranges(pcrsWhere((p) => UEFI_PCR_MR_MAP[p] === r.ccMrIndex)) || 'none'}`)
    .join('; ');
  const resettable = pcrsWhere((p) => PCR_ATTRIBUTES[p]!.resetLocalities !== 0);
  const restricted = pcrsWhere((p) => PCR_ATTRIBUTES[p]!.extendLocalities !== 0x1f)
    .map((p) => `${p}: ${localities(PCR_ATTRIBUTES[p]!.extendLocalities)}`).join('; ');
  const saved = pcrsWhere((p) => PCR_ATTRIBUTES[p]!.save);
  const measured = run.backend.registers.find((r) => !r.extendable && r.ccMrIndex === 0)?.name ?? 'the launch register';
  return [
    {
      property: 'reset',
      vtpm: `PCR_Reset of PCR ${ranges(resettable)} (by locality); every PCR at Startup(CLEAR)`,
      registers: 'never: only a reboot of the confidential VM starts them over; a PCR reset leaves them as they were',
    },
    {
      property: 'hash',
      vtpm: `one value per bank: ${run.banks.join(', ')}`,
      registers: `one ${run.registerHash} value each; a PCR extend reaches them as one digest`,
    },
    {
      property: 'count',
      vtpm: `${PCR_COUNT} PCRs per bank`,
      registers: `${extendable.length} extendable registers (${sharing}); ${measured} is fixed at launch`,
    },
    {
      property: 'localities',
      vtpm: `PCR 0-16 and 23 from any locality; ${restricted}`,
      registers: 'none: whoever may write the register extends it',
    },
    {
      property: 'who extends',
      vtpm: 'any client of the vTPM (a PCR\'s authValue is empty)',
      registers: 'the vTPM, and any root process of the guest through the kernel\'s tsm-mr files (`mrtpm mr extend` logs it)',
    },
    {
      property: 'vTPM restart',
      vtpm: `orderly: the PCRs carry on; killed: a power loss, after which Startup(STATE) brings back PCR ${ranges(saved)} only if Shutdown(STATE) came first`,
      registers: 'unchanged: they belong to the confidential VM, not to the vTPM process',
    },
    {
      property: 'VM reboot',
      vtpm: 'the state directory (seeds, NV, keys) survives on disk; the PCRs start over at Startup(CLEAR)',
      registers: 'start over from zero (hardware reset)',
    },
  ];
}
