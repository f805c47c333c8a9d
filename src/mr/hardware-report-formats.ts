/**
 * Reading a hardware report back from its bytes, and checking its signature: what a verifier does
 * with the evidence a HardwareReportSource returned (formats in docs/mr-backends.md).
 */
import type { KeyObject } from 'node:crypto';
import type { HardwareReport, HardwareReportFormat } from './hardware-report.js';
import { parseCcaEvidence, realmRegisters } from './cca-token.js';
import { verifyCoseSign1 } from './cose-sign1.js';
import { parseTdxQuote } from './tdx-quote.js';
import { parseTdxSimReport, verifyTdxSimReport } from './tdx-sim-report.js';

type Contents = Pick<HardwareReport, 'reportData' | 'registers'>;

const READERS: Readonly<Record<HardwareReportFormat, (raw: Uint8Array) => Promise<Contents>>> = {
  'tdx-sim-tdreport': async (raw) => parseTdxSimReport(raw),
  'tdx-quote': async (raw) => parseTdxQuote(raw),
  'cca-token': async (raw) => {
    const { claims } = await parseCcaEvidence(raw);
    return { reportData: claims.challenge, registers: realmRegisters(claims) };
  },
  opaque: async () => ({ registers: new Map() }),
};

/** The report data and register values `raw` states (an Error if it is not of `format`). */
export async function readHardwareReport(provider: string, format: HardwareReportFormat, raw: Uint8Array): Promise<HardwareReport> {
  const { reportData, registers } = await READERS[format](raw);
  return { provider, format, raw, ...(reportData && { reportData }), registers };
}

/** The formats whose signature mrtpm checks, against the signer's public key. */
const VERIFIERS: Readonly<Partial<Record<HardwareReportFormat, (raw: Uint8Array, key: KeyObject) => Promise<boolean>>>> = {
  'tdx-sim-tdreport': async (raw, key) => verifyTdxSimReport(raw, key),
  'cca-token': async (raw, key) => verifyCoseSign1((await parseCcaEvidence(raw)).realmToken, key),
};

/**
 * True if the report is signed by `publicKey` (the simulators' attestation key, or for a real CCA
 * token the RAK). A TDX quote chains to Intel's PCK certificates, which this does not check: an Error.
 */
export async function verifyHardwareReport(report: Pick<HardwareReport, 'format' | 'raw'>, publicKey: KeyObject): Promise<boolean> {
  const verify = VERIFIERS[report.format];
  if (!verify) throw new Error(`mrtpm does not verify ${report.format} evidence${report.format === 'tdx-quote' ? ' (a TDX quote is checked with Intel DCAP)' : ''}`);
  return verify(report.raw, publicKey);
}
