/**
 * Hardware reports: the confidential VM's own signed statement of its measurement registers,
 * bound to 64 octets of caller data (TDX REPORTDATA, CCA challenge). One interface over the
 * kernel's configfs-tsm and the simulators' reports (formats in docs/mr-backends.md).
 */

/** REPORTDATA (TDX) and the realm challenge (CCA) are both 64 octets. */
export const REPORT_DATA_SIZE = 64;

/** The evidence formats a source emits. */
export type HardwareReportFormat =
  /** tdx-sim: a TDREPORT_STRUCT followed by an ECDSA P-384 signature of the simulated attestation key. */
  | 'tdx-sim-tdreport'
  /** A TDX quote (v4 or v5), as configfs-tsm's tdx_guest provider returns it. */
  | 'tdx-quote'
  /** A CCA realm token (COSE_Sign1), alone (cca-sim) or inside the CCA token collection (tag 399). */
  | 'cca-token'
  /** Evidence of a provider this module does not parse (e.g. sev_guest). */
  | 'opaque';

export interface HardwareReport {
  /** Who made it: tdx-sim, cca-sim, or the configfs-tsm provider (tdx_guest, arm_cca_guest, ...). */
  readonly provider: string;
  readonly format: HardwareReportFormat;
  /** The evidence bytes as the source returned them. */
  readonly raw: Uint8Array;
  /** The 64 octets the report binds, as read back from it (undefined for opaque evidence). */
  readonly reportData?: Uint8Array;
  /** Register values the report states, by the kernel's register names (mrtd, rtmr0..3, rim, rem0..3, ...). */
  readonly registers: ReadonlyMap<string, Uint8Array>;
}

export interface HardwareReportSource {
  readonly provider: string;
  /** A fresh report binding `reportData`, which must be REPORT_DATA_SIZE octets. */
  report(reportData: Uint8Array): Promise<HardwareReport>;
  /** Releases what the source made (configfs-tsm: its report entry). */
  close(): Promise<void>;
}

export function requireReportData(reportData: Uint8Array): void {
  if (reportData.length !== REPORT_DATA_SIZE) throw new RangeError(`report data must be ${REPORT_DATA_SIZE} octets, got ${reportData.length}`);
}
