/**
 * `mrtpm attest`: the evidence of one vTPM and its confidential VM, collected in the order that
 * lets a verifier tie them together: the AK (a primary of the endorsement hierarchy, certified by
 * the local CA), the quote of the PCRs with the verifier's nonce, the PCR values, the MR log as it
 * stands after the quote, then the hardware report binding SHA-512(TPMS_ATTEST || AK Name).
 */
import { createPublicKey } from 'node:crypto';
import type { LocalCa } from '../ca/local-ca.js';
import { makeAkCertificate } from '../ca/ak-certificate.js';
import type { HardwareReportSource } from '../mr/hardware-report.js';
import type { PcrSelection } from '../tpm/marshal/types.js';
import { readPublicBytes } from '../tpm/marshal/object-types.js';
import { TPM_RH } from '../tpm/spec/constants.js';
import {
  akTemplate, createPrimary, flushContext, pcrRead, quote, readCreatePrimary, readPcrRead, readQuote,
} from '../client/tpm-requests.js';
import { EVIDENCE_FORMAT, b64, reportData, type EvidenceBundle, type EvidencePcr } from './evidence-bundle.js';
import { selectedPcrs } from './pcr-list.js';
import { akPublicKey } from './ak-public.js';

export interface EvidenceSources {
  /** Sends one TPM command to the vTPM. */
  execute(command: Uint8Array): Promise<Uint8Array>;
  ca: LocalCa;
  hardware: HardwareReportSource;
  /** The MR event log's bytes, read when asked (after the quote). */
  readMrLog(): Uint8Array;
  ccel?: Uint8Array;
  /** The IMA list (binary format), read with the MR log, when the state keeps one. */
  readImaList?(): { list: Uint8Array; listHash: string } | undefined;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** PCR_Read until every selected PCR is read (eight digests per command). */
async function readPcrs(sources: EvidenceSources, selection: readonly PcrSelection[]): Promise<EvidencePcr[]> {
  const values = new Map<string, Uint8Array>();
  let remaining = selection.map((s) => ({ hash: s.hash, pcrSelect: Uint8Array.from(s.pcrSelect) }));
  while (remaining.some((s) => s.pcrSelect.some((b) => b !== 0))) {
    const read = readPcrRead(await sources.execute(pcrRead(remaining)));
    const got = selectedPcrs(read.selection);
    if (got.length === 0) throw new Error('PCR_Read returned none of the PCRs asked for (a bank the vTPM does not allocate?)');
    got.forEach((p, i) => values.set(`${p.hash}:${p.pcr}`, read.digests[i]!));
    remaining = remaining.map((s, i) => ({ hash: s.hash, pcrSelect: s.pcrSelect.map((b, j) => b & ~read.selection[i]!.pcrSelect[j]!) }));
  }
  return selectedPcrs(selection).map((p) => ({ bank: p.bank, pcr: p.pcr, value: hex(values.get(`${p.hash}:${p.pcr}`)!) }));
}

export async function collectEvidence(sources: EvidenceSources, nonce: Uint8Array, selection: readonly PcrSelection[]): Promise<EvidenceBundle> {
  const ak = readCreatePrimary(await sources.execute(createPrimary(TPM_RH.ENDORSEMENT, akTemplate())));
  let quoted: { attest: Uint8Array; signature: Uint8Array };
  let pcrs: EvidencePcr[];
  try {
    quoted = readQuote(await sources.execute(quote(ak.handle, nonce, selection)));
    pcrs = await readPcrs(sources, selection);
  } finally {
    await sources.execute(flushContext(ak.handle));
  }
  const mrLog = sources.readMrLog();
  const ima = sources.readImaList?.();
  const hw = await sources.hardware.report(reportData(quoted.attest, ak.name));
  const certificate = await makeAkCertificate(sources.ca, createPublicKey(akPublicKey(readPublicBytes(ak.publicArea))), ak.name);
  return {
    format: EVIDENCE_FORMAT,
    nonce: hex(nonce),
    quote: { attest: b64(quoted.attest), signature: b64(quoted.signature) },
    ak: { public: b64(ak.publicArea), certificate: b64(certificate), caCertificate: b64(new Uint8Array(sources.ca.certificate.rawData)) },
    pcrs,
    mrLog: b64(mrLog),
    ...(sources.ccel && { ccel: b64(sources.ccel) }),
    ...(ima && { ima: { list: b64(ima.list), listHash: ima.listHash } }),
    hardware: { provider: hw.provider, format: hw.format, report: b64(hw.raw) },
  };
}
