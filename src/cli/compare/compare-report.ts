/** `mrtpm compare` output: the steps side by side (PCRs, registers, what a verifier sees), then the facts. */
import type { CompareRow, CompareRun } from './compare-run.js';
import type { Fact } from './compare-facts.js';
import { comparisonFacts } from './compare-facts.js';

/** What a verifier can conclude after each kind of step. */
const READING: Record<CompareRow['kind'], string> = {
  startup: 'Startup(CLEAR) starts the PCRs over, Startup(STATE) restores them; a register cannot follow, so the mirror extends a Startup marker into the runtime register and logs it',
  shutdown: 'the vTPM saves its state; the registers see nothing',
  event: 'both move: the PCR in every bank, its register by one digest; a register shared by several PCRs mixes their histories',
  extend: 'both move: the PCR in every bank, its register by one digest; a register shared by several PCRs mixes their histories',
  reset: 'the PCR is zero again and proves nothing of what came before; its register cannot be reset: it keeps that history and takes a reset marker (logged)',
  'vtpm-restart': 'nothing changes: the process saved its volatile state and took it back',
  'vtpm-crash': 'the TPM lost power: it needs Startup, and its PCRs start over unless Shutdown(STATE) was last; the registers are untouched',
  'td-reboot': 'the registers are zero again; the vTPM keeps its seeds and NV on disk and needs Startup(CLEAR)',
};

/** A value as the table shows it: 0 for all zeros, the first octets otherwise, "-" for none (before Startup). */
const short = (hex: string | null): string => (hex === null ? '-' : /^0+$/.test(hex) ? '0' : `${hex.slice(0, 8)}…`);
const rcText = (rc: number | undefined): string => (rc === undefined ? '' : rc === 0 ? 'ok' : `0x${rc.toString(16)}`);

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function renderComparison(run: CompareRun): string {
  const pcrs = Object.keys(run.rows[0]?.pcrs ?? {}).map(Number);
  const bank = run.banks[0]!;
  const registers = [...new Set(Object.values(run.registerOf))];
  const steps = table(
    ['#', 'step', 'rc', ...pcrs.map((p) => `PCR ${p} (${bank})`), ...registers, 'what a verifier sees'],
    run.rows.map((r, i) => {
      const prev = run.rows[i - 1];
      const moved = (now: string | null, before: string | null | undefined): string =>
        (before !== undefined && now !== null && now !== before ? `**${short(now)}**` : short(now));
      return [
        String(i + 1), r.step, rcText(r.rc),
        ...pcrs.map((p) => moved(r.pcrs[p]![bank]!, prev?.pcrs[p]![bank])),
        ...registers.map((n) => moved(r.registers[n]!, prev?.registers[n])),
        READING[r.kind],
      ];
    }),
  );
  const mapping = pcrs.map((p) => `PCR ${p} -> ${run.registerOf[p] ?? 'not mirrored'}`).join(', ');
  const facts = table(['', 'vTPM PCRs', `${run.platform} registers`], comparisonFacts(run).map((f: Fact) => [f.property, f.vtpm, f.registers]));
  return `${run.platform}: ${mapping}; values a step changed are in bold, 0 is all zeros, - is no value (the TPM needs Startup).\n\n${steps}\n\n${facts}\n`;
}

export const comparisonJson = (run: CompareRun): string =>
  `${JSON.stringify({ platform: run.platform, banks: run.banks, registerOf: run.registerOf, registerHash: run.registerHash, steps: run.rows, facts: comparisonFacts(run) }, null, 2)}\n`;
