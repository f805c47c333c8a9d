/**
 * A `mrtpm compare` scenario: the history run against a vTPM and its measurement registers. A
 * scenario file is a JSON array of these steps; DEFAULT_SCENARIO is what runs without one.
 */
export type ScenarioStep =
  | { do: 'startup'; su: 'clear' | 'state' }
  | { do: 'shutdown'; su: 'clear' | 'state' }
  /** PCR_Event: the TPM hashes `data` into every bank. */
  | { do: 'event'; pcr: number; data: string }
  /** PCR_Extend with each bank's hash of `data`. */
  | { do: 'extend'; pcr: number; data: string }
  | { do: 'reset'; pcr: number }
  /** The vTPM process stops orderly and starts again: it saves and takes back its volatile state, so the TPM runs on. */
  | { do: 'vtpm-restart' }
  /** The vTPM process is killed and started again: a power loss for the TPM (_TPM_Init, Startup needed). */
  | { do: 'vtpm-crash' }
  /** The confidential VM reboots: the registers start over, the vTPM is power-cycled. */
  | { do: 'td-reboot' };

export const DEFAULT_SCENARIO: readonly ScenarioStep[] = [
  { do: 'startup', su: 'clear' },
  { do: 'event', pcr: 10, data: 'boot_aggregate' },
  { do: 'event', pcr: 16, data: 'debug build 1' },
  { do: 'reset', pcr: 16 },
  { do: 'event', pcr: 16, data: 'debug build 2' },
  { do: 'vtpm-restart' },
  { do: 'event', pcr: 10, data: 'file measured after the restart' },
  { do: 'shutdown', su: 'state' },
  { do: 'vtpm-crash' },
  { do: 'startup', su: 'state' },
  { do: 'vtpm-crash' },
  { do: 'startup', su: 'clear' },
  { do: 'extend', pcr: 23, data: 'application' },
  { do: 'td-reboot' },
  { do: 'startup', su: 'clear' },
  { do: 'event', pcr: 10, data: 'boot_aggregate' },
];

const KINDS = new Set(['startup', 'shutdown', 'event', 'extend', 'reset', 'vtpm-restart', 'vtpm-crash', 'td-reboot']);

/** Checks a parsed scenario file; throws with the step that is wrong. */
export function parseScenario(json: unknown): ScenarioStep[] {
  if (!Array.isArray(json)) throw new Error('a scenario is a JSON array of steps');
  return json.map((s: unknown, i) => {
    const step = s as Record<string, unknown>;
    const bad = (why: string): Error => new Error(`step ${i + 1} (${JSON.stringify(s)}): ${why}`);
    if (typeof step !== 'object' || step === null || !KINDS.has(step.do as string)) throw bad(`"do" is one of ${[...KINDS].join(', ')}`);
    if ((step.do === 'startup' || step.do === 'shutdown') && step.su !== 'clear' && step.su !== 'state') throw bad('"su" is "clear" or "state"');
    if (['event', 'extend', 'reset'].includes(step.do as string) && !(Number.isInteger(step.pcr) && (step.pcr as number) >= 0 && (step.pcr as number) < 24)) {
      throw bad('"pcr" is 0-23');
    }
    if ((step.do === 'event' || step.do === 'extend') && typeof step.data !== 'string') throw bad('"data" is a string');
    return step as ScenarioStep;
  });
}

/** One line naming the step, as the table prints it. */
export function describeStep(s: ScenarioStep): string {
  switch (s.do) {
    case 'startup': return `Startup(${s.su.toUpperCase()})`;
    case 'shutdown': return `Shutdown(${s.su.toUpperCase()})`;
    case 'event': return `PCR_Event(${s.pcr}, "${s.data}")`;
    case 'extend': return `PCR_Extend(${s.pcr}, H("${s.data}"))`;
    case 'reset': return `PCR_Reset(${s.pcr})`;
    case 'vtpm-restart': return 'vTPM restart (orderly)';
    case 'vtpm-crash': return 'vTPM killed and restarted';
    case 'td-reboot': return 'TD reboot';
  }
}
