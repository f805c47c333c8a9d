/**
 * `mrtpm verify`: every check a relying party makes of an evidence bundle, each reported on its
 * own (docs/evidence.md). The bundle is trusted for nothing: Names and digests are recomputed, the
 * logs replayed, signatures checked against keys the verifier supplies.
 */
import { X509Certificate, createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { decode } from '../tpm/marshal/codec.js';
import { readPublicBytes } from '../tpm/marshal/object-types.js';
import { TPMS_ATTEST } from '../tpm/marshal/attest-types.js';
import { TPMT_SIGNATURE } from '../tpm/marshal/signature-types.js';
import { TPM_ALG, TPM_RH, TPM_ST, TPMA_OBJECT } from '../tpm/spec/constants.js';
import { hashInfo } from '../tpm/spec/hash-algs.js';
import { bytesEqual } from '../tpm/crypto/bytes.js';
import { parseCcEventLog, type ParsedCcEventLog } from '../eventlog/cc-event-log.js';
import { replayPcrs } from '../mr/pcr-replay.js';
import { checkRegisters, type RegisterSource } from '../mr/register-check.js';
import { readHardwareReport, verifyHardwareReport } from '../mr/hardware-report-formats.js';
import type { HardwareReport } from '../mr/hardware-report.js';
import type { MeasurementRegister } from '../mr/mr-backend.js';
import { fromB64, reportData, type EvidenceBundle } from './evidence-bundle.js';
import { akPublicKey, objectName } from './ak-public.js';
import { selectedPcrs } from './pcr-list.js';
import { parseBinaryList } from '../ima/ima-list.js';
import { replayImaList, replayPaddedSha1 } from '../ima/ima-replay.js';
import { digestSizeOf } from '../ima/digest.js';
import { IMA_PCR } from '../ima/ima-measure.js';

export interface VerifyInputs {
  nonce: Uint8Array;
  /** The CA the AK certificate must chain to (`mrtpm ca --out`); without it the chain is not checked. */
  akCa?: X509Certificate;
  /** The hardware report signer's public key (a simulator's `--hw-key`); without it the signature is not checked. */
  hwKey?: KeyObject;
  /** Reference values: "sha256:16" -> hex for PCRs, register name -> hex. */
  policy?: { pcrs?: Record<string, string>; registers?: Record<string, string> };
}

export type CheckResult = 'pass' | 'fail' | 'skipped';

export interface Check {
  check: string;
  result: CheckResult;
  detail: string;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The AK is a primary of the endorsement hierarchy: its qualified Name is H(TPM_RH_ENDORSEMENT || Name). */
function endorsementQualifiedName(name: Uint8Array): Uint8Array {
  const h = hashInfo(Buffer.from(name).readUInt16BE(0))!;
  const parent = Buffer.alloc(4);
  parent.writeUInt32BE(TPM_RH.ENDORSEMENT);
  return new Uint8Array(Buffer.concat([name.subarray(0, 2), createHash(h.name).update(parent).update(name).digest()]));
}

/** What a quote's pcrDigest is: the hash of the signing scheme over the PCR values in selection order. */
function pcrDigestOf(hashAlg: number, values: readonly Uint8Array[]): Uint8Array {
  const h = createHash(hashInfo(hashAlg)!.name);
  for (const v of values) h.update(v);
  return new Uint8Array(h.digest());
}

const COORDINATE_OCTETS: Record<string, number> = { prime256v1: 32, secp384r1: 48, secp521r1: 66 };

/** A signature in the form node:crypto verifies: ECDSA as r || s padded to the curve size, RSA as is. */
function signatureBytes(parts: readonly Uint8Array[], key: KeyObject): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const size = COORDINATE_OCTETS[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? 32;
  const pad = (b: Uint8Array): Buffer => Buffer.concat([Buffer.alloc(Math.max(0, size - b.length)), Buffer.from(b)]);
  return new Uint8Array(Buffer.concat([pad(parts[0]!), pad(parts[1]!)]));
}

/** The registers a hardware report states, as the replay takes them: CC MR index 1..4 for RTMR0-3 / REM0-3. */
function reportRegisters(report: HardwareReport): RegisterSource {
  const names = [...report.registers.keys()].filter((n) => /^(rtmr|rem)[0-3]$/.test(n));
  const hashBySize: Record<number, number> = { 32: TPM_ALG.SHA256, 48: TPM_ALG.SHA384, 64: TPM_ALG.SHA512 };
  const registers: MeasurementRegister[] = names.map((name) => {
    const value = report.registers.get(name)!;
    return { name, hashAlg: hashBySize[value.length] ?? TPM_ALG.NULL, size: value.length, ccMrIndex: Number(name.at(-1)) + 1, extendable: true };
  });
  return { registers, read: (name) => report.registers.get(name)! };
}

class Checks {
  readonly list: Check[] = [];
  add(check: string, ok: boolean, detail: string): boolean {
    this.list.push({ check, result: ok ? 'pass' : 'fail', detail });
    return ok;
  }
  skip(check: string, detail: string): void {
    this.list.push({ check, result: 'skipped', detail });
  }
  /** Runs a check whose inputs may not even parse: an exception is its failure. */
  attempt(check: string, f: () => [boolean, string]): boolean {
    try {
      return this.add(check, ...f());
    } catch (e) {
      return this.add(check, false, e instanceof Error ? e.message : String(e));
    }
  }
}

export async function verifyEvidence(bundle: EvidenceBundle, inputs: VerifyInputs): Promise<Check[]> {
  const c = new Checks();
  const attestBytes = fromB64(bundle.quote.attest);
  const akBytes = fromB64(bundle.ak.public);
  const ak = readPublicBytes(akBytes);
  const akName = objectName(akBytes);
  const akKey = createPublicKey(akPublicKey(ak));
  const attest = decode(TPMS_ATTEST, attestBytes);

  c.attempt('quote signature', () => {
    const sig = decode(TPMT_SIGNATURE, fromB64(bundle.quote.signature));
    const h = hashInfo(sig.hash);
    if (!h) return [false, 'no hash in the signature'];
    const ok = verify(h.name, attestBytes, { key: akKey, dsaEncoding: 'ieee-p1363' }, signatureBytes(sig.parts, akKey));
    return [ok, ok ? `${h.name} signature by the AK ${hex(akName)}` : 'does not verify under the AK'];
  });
  const restricted = TPMA_OBJECT.restricted | TPMA_OBJECT.sign | TPMA_OBJECT.fixedTPM;
  c.add('AK is a restricted signing key of a TPM', (ak.objectAttributes & restricted) === restricted && (ak.objectAttributes & TPMA_OBJECT.decrypt) === 0,
    `objectAttributes 0x${ak.objectAttributes.toString(16)}`);
  c.add('a quote by the AK', attest.type === TPM_ST.ATTEST_QUOTE && bytesEqual(attest.qualifiedSigner, endorsementQualifiedName(akName)),
    `TPMS_ATTEST type 0x${attest.type.toString(16)}, qualifiedSigner ${hex(attest.qualifiedSigner)}`);
  if (inputs.akCa) {
    const ca = inputs.akCa;
    c.attempt('AK certificate chain', () => {
      const cert = new X509Certificate(Buffer.from(fromB64(bundle.ak.certificate)));
      const issued = cert.checkIssued(ca) && cert.verify(ca.publicKey);
      const sameKey = cert.publicKey.export({ type: 'spki', format: 'der' }).equals(akKey.export({ type: 'spki', format: 'der' }));
      return [issued && sameKey, !issued ? `not issued by ${ca.subject.replace(/\n/g, ', ')}` : !sameKey ? 'certifies another key' : `issued by ${ca.subject.replace(/\n/g, ', ')}`];
    });
  } else {
    c.skip('AK certificate chain', 'no --ak-ca given');
  }
  c.add('nonce', bytesEqual(attest.extraData, inputs.nonce), `extraData ${hex(attest.extraData)}`);

  const quoted = attest.type === TPM_ST.ATTEST_QUOTE ? attest.attested : undefined;
  const selection = quoted ? selectedPcrs(quoted.pcrSelect) : [];
  const values = new Map(bundle.pcrs.map((p) => [`${p.bank}:${p.pcr}`, Buffer.from(p.value, 'hex')]));
  c.attempt('PCR digest of the quote', () => {
    if (!quoted) return [false, 'not a quote'];
    const listed = selection.map((p) => values.get(`${p.bank}:${p.pcr}`));
    if (listed.some((v) => v === undefined) || bundle.pcrs.length !== selection.length) return [false, 'the PCR values are not those the quote selects'];
    const sig = decode(TPMT_SIGNATURE, fromB64(bundle.quote.signature));
    const ok = bytesEqual(pcrDigestOf(sig.hash, listed as Uint8Array[]), quoted.pcrDigest);
    return [ok, `${selection.length} PCRs ${ok ? 'hash to' : 'do not hash to'} the quoted pcrDigest`];
  });

  let log: ParsedCcEventLog | undefined;
  c.attempt('MR log', () => {
    log = parseCcEventLog(fromB64(bundle.mrLog));
    return [log.tail === 'end', `${log.events.length} events${log.tail === 'end' ? '' : `, then a ${log.tail} tail`}`];
  });
  c.attempt('PCR values replay from the MR log', () => {
    if (!log) return [false, 'no log to replay'];
    const replayed = replayPcrs(log.events);
    const differ = selection.filter((p) => !bytesEqual(replayed.banks.get(p.hash)?.[p.pcr] ?? new Uint8Array(0), values.get(`${p.bank}:${p.pcr}`)!));
    return [differ.length === 0, differ.length === 0 ? `all ${selection.length} replay` : `differ: ${differ.map((p) => `${p.bank}:${p.pcr}`).join(', ')}`];
  });

  if (bundle.ima) {
    const ima = bundle.ima;
    c.attempt('IMA list replays to PCR 10', () => {
      const quotedBanks = selection.filter((p) => p.pcr === IMA_PCR).map((p) => p.bank);
      if (quotedBanks.length === 0) return [false, 'PCR 10 is not quoted'];
      const entries = parseBinaryList(fromB64(ima.list), digestSizeOf(ima.listHash));
      const replay = replayImaList(entries, quotedBanks, ima.listHash);
      if (replay.badTemplateHashes.length > 0) return [false, `entries ${replay.badTemplateHashes.join(', ')} do not hash to their template hash`];
      const quoted = (b: string): Uint8Array => values.get(`${b}:${IMA_PCR}`)!;
      const own = quotedBanks.filter((b) => !bytesEqual(replay.banks.get(b)?.get(IMA_PCR) ?? new Uint8Array(0), quoted(b)));
      // A bank whose hash the kernel lacked was extended with padded SHA-1 template hashes.
      const padded = own.length > 0 ? replayPaddedSha1(entries, own, ima.listHash) : new Map<string, Map<number, Uint8Array>>();
      const differ = own.filter((b) => !bytesEqual(padded.get(b)?.get(IMA_PCR) ?? new Uint8Array(0), quoted(b)));
      const paddedNote = own.length > differ.length ? ` (${own.filter((b) => !differ.includes(b)).join(', ')} with padded SHA-1)` : '';
      return [differ.length === 0, differ.length === 0 ? `${replay.entries} entries replay in ${quotedBanks.join(', ')}${paddedNote}` : `differs in ${differ.join(', ')}`];
    });
  }

  let report: HardwareReport | undefined;
  try {
    report = await readHardwareReport(bundle.hardware.provider, bundle.hardware.format, fromB64(bundle.hardware.report));
    c.add('hardware report', true, `${bundle.hardware.provider}, ${bundle.hardware.format}`);
  } catch (e) {
    c.add('hardware report', false, e instanceof Error ? e.message : String(e));
  }
  if (report) {
    const r = report;
    c.add('REPORTDATA binds the quote and the AK', r.reportData !== undefined && bytesEqual(r.reportData, reportData(attestBytes, akName)),
      'SHA-512(TPMS_ATTEST || AK Name)');
    if (inputs.hwKey) {
      const ok = await verifyHardwareReport(r, inputs.hwKey).catch(() => false);
      c.add('hardware report signature', ok, ok ? 'verifies under --hw-key' : 'does not verify under --hw-key');
    } else {
      c.skip('hardware report signature', 'no --hw-key given');
    }
    c.attempt('registers replay from CCEL + the MR log', () => {
      if (!log) return [false, 'no log to replay'];
      const ccel = bundle.ccel ? parseCcEventLog(fromB64(bundle.ccel)) : undefined;
      const regs = checkRegisters(reportRegisters(r), log.events, ccel);
      const differ = regs.filter((x) => !x.match).map((x) => x.register);
      return [regs.length > 0 && differ.length === 0, differ.length === 0 ? `${regs.map((x) => x.register).join(', ')} replay` : `differ: ${differ.join(', ')}`];
    });
  }

  if (inputs.policy) {
    const want = inputs.policy;
    const wrong: string[] = [];
    for (const [key, v] of Object.entries(want.pcrs ?? {})) if (values.get(key)?.toString('hex') !== v.toLowerCase()) wrong.push(key);
    for (const [name, v] of Object.entries(want.registers ?? {})) if (!report || hex(report.registers.get(name) ?? new Uint8Array(0)) !== v.toLowerCase()) wrong.push(name);
    c.add('reference values', wrong.length === 0, wrong.length === 0 ? 'all as the policy says' : `differ: ${wrong.join(', ')}`);
  } else {
    c.skip('reference values', 'no --policy given');
  }
  return c.list;
}
