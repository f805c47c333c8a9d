/** Parsers for the YAML-like output of tpm2-tools 5.4. */

/** `tpm2_pcrread`: bank -> PCR index -> lower-case hex digest (no 0x). */
export function parsePcrRead(stdout: string): Map<string, Map<number, string>> {
  const banks = new Map<string, Map<number, string>>();
  let current: Map<number, string> | undefined;
  for (const line of stdout.split('\n')) {
    const bank = /^ {2}(\w+):\s*$/.exec(line);
    if (bank) {
      current = new Map();
      banks.set(bank[1]!, current);
      continue;
    }
    const pcr = /^ {4}(\d+)\s*:\s*0x([0-9A-Fa-f]+)\s*$/.exec(line);
    if (pcr) {
      if (!current) throw new Error(`PCR line before a bank line: ${line}`);
      current.set(Number(pcr[1]), pcr[2]!.toLowerCase());
    }
  }
  return banks;
}

/** `tpm2_getcap properties-fixed|properties-variable`: property name -> raw value. */
export function parseProperties(stdout: string): Map<string, number> {
  const props = new Map<string, number>();
  const re = /^(TPM2_PT_\w+):[ \t]*(?:\n[ \t]+raw:[ \t]*)?(0x[0-9A-Fa-f]+|\d+)[ \t]*$/gm;
  for (const match of stdout.matchAll(re)) props.set(match[1]!, Number(match[2]!));
  return props;
}

/** The `value: "..."` string of a fixed property (e.g. TPM2_PT_MANUFACTURER). */
export function propertyValueString(stdout: string, name: string): string | undefined {
  const re = new RegExp(`^${name}:\\s*\\n\\s+raw:[^\\n]*\\n\\s+value:\\s*"([^"]*)"`, 'm');
  return re.exec(stdout)?.[1];
}

/** Top-level YAML keys (`name:` at column 0), e.g. algorithm names or TPM2_CC_* commands. */
export function topLevelKeys(stdout: string): string[] {
  return [...stdout.matchAll(/^([\w-]+):/gm)].map((match) => match[1]!);
}

/** A block's `key: value` lines, for a top-level key (e.g. an algorithm's attributes). */
export function blockFields(stdout: string, key: string): Map<string, string> {
  const fields = new Map<string, string>();
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`${key}:`));
  if (start < 0) return fields;
  for (const line of lines.slice(start + 1)) {
    const field = /^\s+(\w+):\s*(.*?)\s*$/.exec(line);
    if (!field) break;
    fields.set(field[1]!, field[2]!);
  }
  return fields;
}

/** `tpm2_getcap pcrs`: bank -> selected PCR indices. */
export function parsePcrAllocation(stdout: string): Map<string, number[]> {
  const banks = new Map<string, number[]>();
  for (const match of stdout.matchAll(/^[ \t]*-[ \t]*(\w+):[ \t]*\[([^\]]*)\]/gm)) {
    const list = match[2]!.split(',').map((item) => item.trim()).filter((item) => item !== '');
    banks.set(match[1]!, list.map(Number));
  }
  return banks;
}

/** `tpm2_getcap handles-*`: the listed handles. */
export function parseHandles(stdout: string): number[] {
  return [...stdout.matchAll(/^[ \t]*-[ \t]*(0x[0-9A-Fa-f]+)[ \t]*$/gm)].map((match) => Number(match[1]!));
}

/** Flat `key: value` pairs at any indentation (for tpm2_readclock). */
export function parseFlatYaml(stdout: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const match of stdout.matchAll(/^[ \t]*(\w+):[ \t]*(\S.*?)?[ \t]*$/gm)) map.set(match[1]!, match[2] ?? '');
  return map;
}

/** One `events:` entry of `tpm2_eventlog` (after the Spec ID event), digests as [bank, hex]. */
export interface EventlogEntry {
  pcrIndex: number;
  eventType: string;
  digests: [string, string][];
  event: string;
}

/** `tpm2_eventlog`: the events after the Spec ID event (EventNum 0), as the tool lists them. */
export function parseEventlogEvents(yaml: string): EventlogEntry[] {
  const blocks = yaml.split(/^- EventNum: \d+$/m).slice(2);
  return blocks.map((block) => ({
    pcrIndex: Number(/^ {2}PCRIndex: (\d+)$/m.exec(block)?.[1]),
    eventType: /^ {2}EventType: (.+)$/m.exec(block)?.[1] ?? '',
    digests: [...block.matchAll(/AlgorithmId: (\w+)\n\s+Digest: "([0-9a-f]+)"/g)].map((m) => [m[1]!, m[2]!] as [string, string]),
    event: /^ {2}Event: "([0-9a-f]*)"$/m.exec(block)?.[1] ?? '',
  }));
}
