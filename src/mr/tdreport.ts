/**
 * TDREPORT_STRUCT (Intel TDX module spec; the kernel's tdx-guest enum has the same offsets): 1024
 * octets, REPORTMACSTRUCT (256) | TEE_TCB_INFO (239) + reserved (17) | TDINFO_STRUCT (512).
 * Integers are little-endian, as everywhere in TDX.
 */
import { createHash } from 'node:crypto';
import { bytesEqual } from '../tpm/crypto/bytes.js';
import { REPORT_DATA_SIZE } from './hardware-report.js';

export const TDREPORT_SIZE = 1024;

/** [offset, size] of the TDREPORT fields mrtpm writes or reads. */
export const TDREPORT_FIELDS = {
  reportType: [0, 4],
  teeTcbInfoHash: [32, 48],
  teeInfoHash: [80, 48],
  reportData: [128, REPORT_DATA_SIZE],
  teeTcbInfo: [256, 239],
  tdInfo: [512, 512],
  servtdHash: [912, 48],
} as const satisfies Record<string, readonly [number, number]>;

const TD_MR_SIZE = 48;
/**
 * The TD's measurement registers as TDINFO (and a quote's TD body) lists them, consecutive 48-octet
 * fields in this order, by the kernel's sysfs names.
 */
export const TD_MEASUREMENTS = ['mrtd', 'mrconfigid', 'mrowner', 'mrownerconfig', 'rtmr0', 'rtmr1', 'rtmr2', 'rtmr3'] as const;
/** MRTD's offset in TDINFO; the others follow it. */
const MRTD_OFFSET = 528;

/** REPORTTYPE: TYPE 0x81 = TDX, SUBTYPE 0, VERSION 1 = TDINFO carries SERVTD_HASH (TDX 1.5). */
const REPORT_TYPE = Uint8Array.of(0x81, 0, 1, 0);

const field = (bytes: Uint8Array, [offset, size]: readonly [number, number]): Uint8Array => bytes.subarray(offset, offset + size);

/** The TD's registers in a structure (TDINFO, a quote's TD body) whose MRTD is at `base`. */
export function tdMeasurements(bytes: Uint8Array, base: number): Map<string, Uint8Array> {
  return new Map(TD_MEASUREMENTS.map((name, i) => [name, bytes.slice(base + i * TD_MR_SIZE, base + (i + 1) * TD_MR_SIZE)]));
}

/**
 * A TDREPORT of the simulator: REPORTDATA and the TD's registers filled in, the two hashes of the
 * real module computed (TEE_TCB_INFO_HASH, TEE_INFO_HASH = SHA-384 of TEE_TCB_INFO and TDINFO), the
 * rest zero. The MAC stays zero: a real one is keyed by the CPU and checkable only by it.
 */
export function encodeTdReport(reportData: Uint8Array, read: (name: string) => Uint8Array): Uint8Array {
  const report = new Uint8Array(TDREPORT_SIZE);
  report.set(REPORT_TYPE, TDREPORT_FIELDS.reportType[0]);
  report.set(reportData, TDREPORT_FIELDS.reportData[0]);
  TD_MEASUREMENTS.forEach((name, i) => {
    const value = read(name);
    if (value.length !== TD_MR_SIZE) throw new RangeError(`${name} must be ${TD_MR_SIZE} octets, got ${value.length}`);
    report.set(value, MRTD_OFFSET + i * TD_MR_SIZE);
  });
  report.set(sha384(field(report, TDREPORT_FIELDS.teeTcbInfo)), TDREPORT_FIELDS.teeTcbInfoHash[0]);
  report.set(sha384(field(report, TDREPORT_FIELDS.tdInfo)), TDREPORT_FIELDS.teeInfoHash[0]);
  return report;
}

export interface ParsedTdReport {
  readonly reportType: Uint8Array;
  readonly reportData: Uint8Array;
  /** mrtd, mrconfigid, mrowner, mrownerconfig, rtmr0..3. */
  readonly registers: ReadonlyMap<string, Uint8Array>;
  readonly servtdHash: Uint8Array;
  /** TEE_INFO_HASH equals SHA-384 of TDINFO, as the module makes it. */
  readonly teeInfoHashMatches: boolean;
}

export function parseTdReport(report: Uint8Array): ParsedTdReport {
  if (report.length !== TDREPORT_SIZE) throw new Error(`a TDREPORT is ${TDREPORT_SIZE} octets, got ${report.length}`);
  if (report[0] !== REPORT_TYPE[0]) throw new Error(`REPORTTYPE.TYPE 0x${report[0]!.toString(16)} is not TDX (0x81)`);
  return {
    reportType: field(report, TDREPORT_FIELDS.reportType).slice(),
    reportData: field(report, TDREPORT_FIELDS.reportData).slice(),
    registers: tdMeasurements(report, MRTD_OFFSET),
    servtdHash: field(report, TDREPORT_FIELDS.servtdHash).slice(),
    teeInfoHashMatches: bytesEqual(sha384(field(report, TDREPORT_FIELDS.tdInfo)), field(report, TDREPORT_FIELDS.teeInfoHash)),
  };
}

function sha384(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha384').update(data).digest());
}
