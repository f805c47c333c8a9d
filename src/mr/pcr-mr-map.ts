/**
 * Which CC measurement register each PCR is mirrored into, as a CC MR index (UEFI 2.10 §38.4):
 * 0 = MRTD/RIM (never extendable), 1..4 = RTMR0..3 on TDX, REM0..3 on CCA.
 */
import { LIMITS } from '../tpm/spec/limits.js';
import type { CcPlatform } from './mr-backend.js';

/** Index = PCR; value = CC MR index, or undefined for a PCR that is not mirrored. */
export type PcrMrMap = readonly (number | undefined)[];

/** The CC MR index every runtime PCR (16-23) maps to: RTMR3 / REM3, which no firmware extends. */
export const RUNTIME_MR_INDEX = 4;

/** UEFI 2.10 §38.4.1 (TDX) and §38.4.3 (CCA), extended with 16-23 -> the runtime register. */
const UEFI_RANGES: readonly { from: number; to: number; mr: number }[] = [
  { from: 0, to: 0, mr: 0 },
  { from: 1, to: 1, mr: 1 },
  { from: 2, to: 6, mr: 2 },
  { from: 7, to: 7, mr: 1 },
  { from: 8, to: 15, mr: 3 },
  { from: 16, to: 23, mr: RUNTIME_MR_INDEX },
];

const fromRanges = (ranges: typeof UEFI_RANGES): PcrMrMap =>
  Array.from({ length: LIMITS.PCR_COUNT }, (_, pcr) => ranges.find((r) => pcr >= r.from && pcr <= r.to)?.mr);

export const UEFI_PCR_MR_MAP: PcrMrMap = fromRanges(UEFI_RANGES);

/** Register names a map entry may target, per platform, with the CC MR index each one means. */
const TARGETS: Record<CcPlatform, Readonly<Record<string, number>>> = {
  tdx: { mrtd: 0, rtmr0: 1, rtmr1: 2, rtmr2: 3, rtmr3: 4 },
  cca: { rim: 0, rem0: 1, rem1: 2, rem2: 3, rem3: 4 },
};

function parseTarget(target: string, platform: CcPlatform): number | undefined {
  const t = target.trim().toLowerCase();
  if (t === 'none') return undefined;
  const mr = /^mr([0-4])$/.exec(t);
  if (mr) return Number(mr[1]);
  const index = TARGETS[platform][t];
  if (index === undefined) {
    throw new RangeError(`unknown register "${target}" for ${platform} (use ${Object.keys(TARGETS[platform]).join(', ')}, mr0-mr4 or none)`);
  }
  return index;
}

function parsePcrs(spec: string): number[] {
  const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(spec);
  const from = m ? Number(m[1]) : NaN;
  const to = m?.[2] !== undefined ? Number(m[2]) : from;
  if (!m || from > to || to >= LIMITS.PCR_COUNT) throw new RangeError(`bad PCR or range "${spec}" (0-${LIMITS.PCR_COUNT - 1}, e.g. 16-23)`);
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/**
 * `--mr-map`: comma-separated `<pcr>[-<pcr>]:<register>` entries that override `base` for the
 * PCRs they name, e.g. `10:rtmr3,16-23:rtmr3`; `none` stops mirroring a PCR.
 */
export function parsePcrMrMap(spec: string, platform: CcPlatform, base: PcrMrMap = UEFI_PCR_MR_MAP): PcrMrMap {
  const map = [...base];
  for (const entry of spec.split(',').filter((e) => e.trim() !== '')) {
    const colon = entry.indexOf(':');
    if (colon < 0) throw new RangeError(`map entry "${entry}" needs <pcrs>:<register>`);
    const mr = parseTarget(entry.slice(colon + 1), platform);
    for (const pcr of parsePcrs(entry.slice(0, colon))) map[pcr] = mr;
  }
  return map;
}
