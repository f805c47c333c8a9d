/**
 * The evidence bundle `mrtpm attest` writes and `mrtpm verify` checks (docs/evidence.md): one JSON
 * document, binary parts in base64, digests and values in hex.
 */
import { createHash } from 'node:crypto';
import type { HardwareReportFormat } from '../mr/hardware-report.js';

export const EVIDENCE_FORMAT = 'mrtpm-evidence/1';

export interface EvidencePcr {
  bank: string;
  pcr: number;
  value: string;
}

export interface EvidenceBundle {
  format: typeof EVIDENCE_FORMAT;
  /** The verifier's nonce, hex: the quote's qualifyingData. */
  nonce: string;
  quote: { attest: string; signature: string };
  /** The AK: its TPMT_PUBLIC, and its certificate by the local CA with the CA's own. */
  ak: { public: string; certificate: string; caCertificate: string };
  /** The quoted PCRs in the quote's order (banks as selected, PCRs ascending). */
  pcrs: EvidencePcr[];
  /** mrtpm's MR event log (CC event log format) as it stood after the quote. */
  mrLog: string;
  /** The firmware's CC event log (CCEL), when the VM has one. */
  ccel?: string;
  /** The IMA measurement list of the state (binary format) and the hash of its template-hash column. */
  ima?: { list: string; listHash: string };
  /** The hardware report whose report data is reportData(attest, AK name). */
  hardware: { provider: string; format: HardwareReportFormat; report: string };
}

/** REPORTDATA / the realm challenge: SHA-512(TPMS_ATTEST || AK Name), binding the quote to the hardware report. */
export const reportData = (attest: Uint8Array, akName: Uint8Array): Uint8Array =>
  new Uint8Array(createHash('sha512').update(attest).update(akName).digest());

export const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
export const fromB64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64'));

/** A parsed bundle, its shape checked (the contents are what verify checks). */
export function parseBundle(json: unknown): EvidenceBundle {
  const b = json as Partial<EvidenceBundle>;
  if (typeof b !== 'object' || b === null || b.format !== EVIDENCE_FORMAT) throw new Error(`not an ${EVIDENCE_FORMAT} bundle`);
  for (const field of ['nonce', 'quote', 'ak', 'pcrs', 'mrLog', 'hardware'] as const) {
    if (b[field] === undefined) throw new Error(`the bundle has no ${field}`);
  }
  return b as EvidenceBundle;
}
