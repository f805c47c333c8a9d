/**
 * The TD quote body of a TDX quote v4 or v5 (Intel DCAP quote format; offsets as google/go-tdx-guest
 * abi.go has them): what configfs-tsm's tdx_guest provider returns. Only read, not verified: the
 * quote's signature chains to Intel's PCK certificates, which a verifier checks with DCAP.
 */
import { REPORT_DATA_SIZE } from './hardware-report.js';
import { tdMeasurements } from './tdreport.js';

const HEADER_SIZE = 0x30;
const TEE_TYPE_TDX = 0x81;
/** v5: a body descriptor (type u16, size u32) precedes the body. */
const V5_DESCRIPTOR_SIZE = 6;
/** In the TD quote body (TDX 1.0 and 1.5 alike): MRTD, then the other registers, then REPORTDATA. */
const BODY_MRTD = 0x88;
const BODY_REPORTDATA = 0x208;
const BODY_MIN_SIZE = 0x248;

export interface ParsedTdxQuote {
  readonly version: number;
  readonly reportData: Uint8Array;
  readonly registers: ReadonlyMap<string, Uint8Array>;
}

export function parseTdxQuote(quote: Uint8Array): ParsedTdxQuote {
  const view = new DataView(quote.buffer, quote.byteOffset, quote.byteLength);
  if (quote.length < HEADER_SIZE + V5_DESCRIPTOR_SIZE) throw new Error(`a TDX quote is at least ${HEADER_SIZE + V5_DESCRIPTOR_SIZE} octets, got ${quote.length}`);
  const version = view.getUint16(0, true);
  if (view.getUint32(4, true) !== TEE_TYPE_TDX) throw new Error(`quote TEE type 0x${view.getUint32(4, true).toString(16)} is not TDX (0x81)`);
  const bodyAt = { 4: HEADER_SIZE, 5: HEADER_SIZE + V5_DESCRIPTOR_SIZE }[version];
  if (bodyAt === undefined) throw new Error(`TDX quote version ${version} is not 4 or 5`);
  if (quote.length < bodyAt + BODY_MIN_SIZE) throw new Error(`TDX quote v${version} too short for its TD body: ${quote.length} octets`);
  const body = quote.subarray(bodyAt);
  return { version, reportData: body.slice(BODY_REPORTDATA, BODY_REPORTDATA + REPORT_DATA_SIZE), registers: tdMeasurements(body, BODY_MRTD) };
}
