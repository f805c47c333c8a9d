/** `--pcrs sha256:0-23,sha384:0,7+16`: banks with PCR numbers and ranges, as TPML_PCR_SELECTION and back. */
import { hashByName, hashInfo } from '../tpm/spec/hash-algs.js';
import type { PcrSelection } from '../tpm/marshal/types.js';

const PCR_SELECT_OCTETS = 3;

function pcrNumbers(spec: string): number[] {
  return spec.split(/[,+]/).flatMap((part) => {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    const from = m ? Number(m[1]) : NaN;
    const to = m?.[2] !== undefined ? Number(m[2]) : from;
    if (!m || from > to || to > 23) throw new RangeError(`bad PCR or range "${part}" (0-23)`);
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  });
}

/** Banks separated by `;` or a new `bank:`; e.g. "sha256:0-7,16;sha384:0". */
export function parsePcrList(spec: string): PcrSelection[] {
  const banks = spec.split(/[;\s]+(?=[a-z0-9]+:)|,(?=[a-z][a-z0-9]*:)/i).filter((s) => s.trim() !== '');
  return banks.map((b) => {
    const [name, pcrs] = b.split(':');
    const info = name ? hashByName(name.trim()) : undefined;
    if (!info || pcrs === undefined) throw new RangeError(`"${b}" is not <bank>:<pcrs> (e.g. sha256:0-23)`);
    const pcrSelect = new Uint8Array(PCR_SELECT_OCTETS);
    for (const p of pcrNumbers(pcrs)) pcrSelect[p >> 3]! |= 1 << (p & 7);
    return { hash: info.alg, pcrSelect };
  });
}

/** The (bank, PCR) pairs of a selection in the order a TPM reads and quotes them. */
export function selectedPcrs(selection: readonly PcrSelection[]): { hash: number; bank: string; pcr: number }[] {
  return selection.flatMap((s) => Array.from({ length: s.pcrSelect.length * 8 }, (_, pcr) => pcr)
    .filter((pcr) => (s.pcrSelect[pcr >> 3]! >> (pcr & 7)) & 1)
    .map((pcr) => ({ hash: s.hash, bank: hashInfo(s.hash)?.name ?? `0x${s.hash.toString(16)}`, pcr })));
}
