/**
 * Runs a scenario against a vTPM and its simulated registers, in process, through the same
 * pieces `mrtpm serve` composes (EngineDevice with the MR mirror of `--mr tdx-sim|cca-sim`), in a
 * fresh state directory, and records after each step the PCRs and registers a verifier would see.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../server/logger.js';
import { EngineDevice } from '../engine-device.js';
import { openMr, type MrSetup } from '../mr-setup.js';
import { UEFI_PCR_MR_MAP } from '../../mr/pcr-mr-map.js';
import type { MrBackend } from '../../mr/mr-backend.js';
import { hashInfo } from '../../tpm/spec/hash-algs.js';
import { describeStep, type ScenarioStep } from './scenario.js';
import { pcrEvent, pcrExtend, pcrReset, responseCode, shutdown, startup } from '../../client/tpm-requests.js';

export type SimulatedPlatform = 'tdx-sim' | 'cca-sim';

export interface CompareOptions {
  mr: SimulatedPlatform;
  pcrBanks: number[];
  /** The PCRs to show; their registers are shown beside them. */
  pcrs: number[];
}

export interface CompareRow {
  step: string;
  kind: ScenarioStep['do'];
  /** TPM response code of the step's command, or undefined for a restart or reboot. */
  rc?: number;
  /** PCR -> bank name -> hex value, as PCR_Read would give them; null before Startup (PCR_Read fails then). */
  pcrs: Record<number, Record<string, string | null>>;
  /** Register name -> hex value. */
  registers: Record<string, string>;
}

export interface CompareRun {
  platform: SimulatedPlatform;
  banks: string[];
  /** PCR -> the register it is mirrored into. */
  registerOf: Record<number, string>;
  /** The register's hash (one per register file). */
  registerHash: string;
  rows: CompareRow[];
  backend: Pick<MrBackend, 'registers' | 'platform'>;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The vTPM and its mirror, opened as a serving process opens them. */
class Rig {
  device!: EngineDevice;
  mr!: MrSetup;
  private readonly logger = createLogger({ level: 'error' });

  constructor(private readonly dir: string, private readonly o: CompareOptions) {}

  async open(reboot: boolean): Promise<void> {
    const mr = openMr({ state: this.dir, mr: this.o.mr, mrReset: reboot, mrInit: {} }, this.logger);
    if (!mr) throw new Error('compare needs simulated registers');
    this.mr = mr;
    this.device = await EngineDevice.open({
      stateDir: this.dir, pcrBanks: this.o.pcrBanks, reset: reboot, trace: false, logger: this.logger, pcrObserver: mr.mirror,
    });
  }

  close(crash = false): void {
    if (crash) this.device.abandon();
    else this.device.close();
    this.mr.close();
  }

  send(command: Uint8Array): number {
    return responseCode(this.device.execute(command, 0, 0));
  }
}

function runStep(rig: Rig, step: ScenarioStep, banks: readonly number[]): number | undefined {
  switch (step.do) {
    case 'startup': return rig.send(startup(step.su));
    case 'shutdown': return rig.send(shutdown(step.su));
    case 'event': return rig.send(pcrEvent(step.pcr, Buffer.from(step.data)));
    case 'extend': return rig.send(pcrExtend(step.pcr, banks, Buffer.from(step.data)));
    case 'reset': return rig.send(pcrReset(step.pcr));
    case 'vtpm-restart':
    case 'vtpm-crash':
    case 'td-reboot':
      return undefined;
  }
}

export async function runComparison(scenario: readonly ScenarioStep[], o: CompareOptions): Promise<CompareRun> {
  const dir = mkdtempSync(join(tmpdir(), 'mrtpm-compare-'));
  const rig = new Rig(dir, o);
  try {
    await rig.open(true);
    const backend = rig.mr.backend;
    const registerOf: Record<number, string> = {};
    for (const pcr of o.pcrs) {
      const name = backend.registers.find((r) => r.ccMrIndex !== undefined && r.ccMrIndex === UEFI_PCR_MR_MAP[pcr])?.name;
      if (name) registerOf[pcr] = name;
    }
    const shown = [...new Set(Object.values(registerOf))];
    const banks = rig.device.tpm.persistent.pcrAllocation.filter((b) => b.pcrs.length > 0).map((b) => b.hash);
    const rows: CompareRow[] = [];
    for (const step of scenario) {
      if (step.do === 'vtpm-restart' || step.do === 'vtpm-crash' || step.do === 'td-reboot') {
        rig.close(step.do !== 'vtpm-restart');
        await rig.open(step.do === 'td-reboot');
      }
      const rc = runStep(rig, step, banks);
      const v = rig.device.tpm.volatile;
      const pcrs: CompareRow['pcrs'] = {};
      for (const pcr of o.pcrs) {
        pcrs[pcr] = Object.fromEntries(banks.map((alg) => {
          const bank = v.started ? v.pcrs.get(alg) : undefined;
          return [hashInfo(alg)!.name, bank ? hex(bank[pcr]!) : null];
        }));
      }
      const registers = Object.fromEntries(shown.map((name) => [name, hex(rig.mr.backend.read(name))]));
      rows.push({ step: describeStep(step), kind: step.do, ...(rc !== undefined && { rc }), pcrs, registers });
    }
    const first = backend.registers.find((r) => r.extendable)!;
    return {
      platform: o.mr, banks: banks.map((alg) => hashInfo(alg)!.name), registerOf,
      registerHash: hashInfo(first.hashAlg)?.name ?? `alg 0x${first.hashAlg.toString(16)}`, rows,
      backend: { registers: backend.registers, platform: backend.platform },
    };
  } finally {
    rig.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
