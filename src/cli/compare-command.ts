/** `mrtpm compare`: a scripted history on a vTPM and its simulated registers, side by side. */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { parseBanks } from './options.js';
import { DEFAULT_SCENARIO, parseScenario } from './compare/scenario.js';
import { runComparison, type SimulatedPlatform } from './compare/compare-run.js';
import { comparisonJson, renderComparison } from './compare/compare-report.js';

interface CompareFlags {
  scenario?: string;
  mr: SimulatedPlatform;
  pcrBanks: number[];
  pcrs: string;
  json: boolean;
}

function parsePcrList(value: string): number[] {
  const pcrs = value.split(',').map((p) => Number(p.trim()));
  if (pcrs.some((p) => !Number.isInteger(p) || p < 0 || p > 23)) throw new Error(`--pcrs: "${value}" is not a list of PCRs 0-23`);
  return pcrs;
}

export function addCompareCommand(program: Command): void {
  program.command('compare')
    .description('run a scripted history on a vTPM and its simulated measurement registers and show them side by side')
    .addOption(new Option('--scenario <file>', 'JSON array of steps (docs/compare.md); default: the built-in scenario'))
    .addOption(new Option('--mr <platform>', 'simulated registers').choices(['tdx-sim', 'cca-sim']).default('tdx-sim'))
    .addOption(new Option('--pcr-banks <list>', 'PCR banks of the vTPM').argParser(parseBanks).default(parseBanks('sha256,sha384')))
    .addOption(new Option('--pcrs <list>', 'PCRs to show, with their registers').default('10,16,23'))
    .addOption(new Option('--json', 'as JSON').default(false))
    .action(async (o: CompareFlags) => {
      try {
        const scenario = o.scenario ? parseScenario(JSON.parse(readFileSync(o.scenario, 'utf8'))) : DEFAULT_SCENARIO;
        const run = await runComparison(scenario, { mr: o.mr, pcrBanks: o.pcrBanks, pcrs: parsePcrList(o.pcrs) });
        process.stdout.write(o.json ? comparisonJson(run) : renderComparison(run));
      } catch (err) {
        process.stderr.write(`mrtpm compare: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 1;
      }
    });
}
