/**
 * tdx-sim's hardware report: a TDREPORT_STRUCT of the simulated register file, followed by an
 * ECDSA P-384 signature (r || s, 96 octets, SHA-384 over the 1024 TDREPORT octets) by the
 * simulated attestation key. A real TDREPORT carries only a MAC that the CPU alone can check;
 * its signed form is the quote, whose signature this one stands in for.
 */
import type { KeyObject } from 'node:crypto';
import { concatBytes } from '../tpm/crypto/bytes.js';
import { requireReportData, type HardwareReport, type HardwareReportSource } from './hardware-report.js';
import { openSimAttestationKey, P384_SIGNATURE_SIZE, signP384, verifyP384 } from './sim-attestation-key.js';
import { stableRegisters } from './sim-report-registers.js';
import { encodeTdReport, parseTdReport, TDREPORT_SIZE, type ParsedTdReport } from './tdreport.js';

export const TDX_SIM_REPORT_SIZE = TDREPORT_SIZE + P384_SIGNATURE_SIZE;

export interface ParsedTdxSimReport extends ParsedTdReport {
  readonly tdReport: Uint8Array;
  readonly signature: Uint8Array;
}

export function parseTdxSimReport(raw: Uint8Array): ParsedTdxSimReport {
  if (raw.length !== TDX_SIM_REPORT_SIZE) throw new Error(`a tdx-sim report is ${TDX_SIM_REPORT_SIZE} octets, got ${raw.length}`);
  const tdReport = raw.slice(0, TDREPORT_SIZE);
  return { ...parseTdReport(tdReport), tdReport, signature: raw.slice(TDREPORT_SIZE) };
}

/** True if the report is signed by the simulated attestation key whose public half is `publicKey`. */
export function verifyTdxSimReport(raw: Uint8Array, publicKey: KeyObject): boolean {
  const { tdReport, signature } = parseTdxSimReport(raw);
  return verifyP384(publicKey, tdReport, signature);
}

/** Reports of the tdx-sim register file at `registerFile`; the attestation key is kept beside it. */
export function tdxSimReportSource(registerFile: string): HardwareReportSource {
  return {
    provider: 'tdx-sim',
    close: async () => undefined,
    async report(reportData: Uint8Array): Promise<HardwareReport> {
      requireReportData(reportData);
      const registers = stableRegisters(registerFile, 'tdx');
      const key = openSimAttestationKey(registerFile);
      const tdReport = encodeTdReport(reportData, (name) => registers.read(name));
      const raw = concatBytes(tdReport, signP384(key.privateKey, tdReport));
      const parsed = parseTdxSimReport(raw);
      return { provider: 'tdx-sim', format: 'tdx-sim-tdreport', raw, reportData: parsed.reportData, registers: parsed.registers };
    },
  };
}
