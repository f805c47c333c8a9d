/**
 * A reader of TPMS_ATTEST (Part 2 §10.12) as tpm2-tools write it (`-m` / `--attestation`), written
 * from the spec independently of the engine: every member of every attestation type, and the
 * whole structure must be consumed.
 */
import { createHash } from 'node:crypto';

export const TPM_GENERATED_VALUE = 0xff544347;

export const TPM_ST_ATTEST = {
  NV: 0x8014, COMMAND_AUDIT: 0x8015, SESSION_AUDIT: 0x8016, CERTIFY: 0x8017, QUOTE: 0x8018, TIME: 0x8019,
  CREATION: 0x801a, NV_DIGEST: 0x801c,
} as const;

export interface ClockInfo {
  clock: bigint;
  resetCount: number;
  restartCount: number;
  safe: number;
}

export interface PcrSelect {
  hash: number;
  pcrSelect: Buffer;
}

/** The TPMU_ATTEST member for each type, field names as in Part 2. */
export type Attested =
  | { type: 0x8014; indexName: Buffer; offset: number; nvContents: Buffer }
  | { type: 0x8015; auditCounter: bigint; digestAlg: number; auditDigest: Buffer; commandDigest: Buffer }
  | { type: 0x8016; exclusiveSession: number; sessionDigest: Buffer }
  | { type: 0x8017; name: Buffer; qualifiedName: Buffer }
  | { type: 0x8018; pcrSelect: PcrSelect[]; pcrDigest: Buffer }
  | { type: 0x8019; time: bigint; timeClockInfo: ClockInfo; firmwareVersion: bigint }
  | { type: 0x801a; objectName: Buffer; creationHash: Buffer }
  | { type: 0x801c; indexName: Buffer; nvDigest: Buffer };

export interface TpmsAttest {
  magic: number;
  type: number;
  qualifiedSigner: Buffer;
  extraData: Buffer;
  clockInfo: ClockInfo;
  firmwareVersion: bigint;
  attested: Attested;
}

class Reader {
  private at = 0;
  constructor(private readonly bytes: Buffer) {}

  private take(n: number): Buffer {
    if (this.at + n > this.bytes.length) throw new Error(`TPMS_ATTEST truncated: ${n} octets wanted at ${this.at} of ${this.bytes.length}`);
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  u8 = (): number => this.take(1).readUInt8(0);
  u16 = (): number => this.take(2).readUInt16BE(0);
  u32 = (): number => this.take(4).readUInt32BE(0);
  u64 = (): bigint => this.take(8).readBigUInt64BE(0);
  b2 = (): Buffer => Buffer.from(this.take(this.u16()));

  clockInfo = (): ClockInfo => ({ clock: this.u64(), resetCount: this.u32(), restartCount: this.u32(), safe: this.u8() });

  pcrSelection(): PcrSelect[] {
    const count = this.u32();
    return Array.from({ length: count }, () => ({ hash: this.u16(), pcrSelect: Buffer.from(this.take(this.u8())) }));
  }

  end(): void {
    if (this.at !== this.bytes.length) throw new Error(`TPMS_ATTEST has ${this.bytes.length - this.at} trailing octets`);
  }
}

function readAttested(r: Reader, type: number): Attested {
  switch (type) {
    case TPM_ST_ATTEST.NV: return { type, indexName: r.b2(), offset: r.u16(), nvContents: r.b2() };
    case TPM_ST_ATTEST.COMMAND_AUDIT: return { type, auditCounter: r.u64(), digestAlg: r.u16(), auditDigest: r.b2(), commandDigest: r.b2() };
    case TPM_ST_ATTEST.SESSION_AUDIT: return { type, exclusiveSession: r.u8(), sessionDigest: r.b2() };
    case TPM_ST_ATTEST.CERTIFY: return { type, name: r.b2(), qualifiedName: r.b2() };
    case TPM_ST_ATTEST.QUOTE: return { type, pcrSelect: r.pcrSelection(), pcrDigest: r.b2() };
    case TPM_ST_ATTEST.TIME: return { type, time: r.u64(), timeClockInfo: r.clockInfo(), firmwareVersion: r.u64() };
    case TPM_ST_ATTEST.CREATION: return { type, objectName: r.b2(), creationHash: r.b2() };
    case TPM_ST_ATTEST.NV_DIGEST: return { type, indexName: r.b2(), nvDigest: r.b2() };
    default: throw new Error(`unknown TPMI_ST_ATTEST 0x${type.toString(16)}`);
  }
}

export function parseAttest(bytes: Buffer): TpmsAttest {
  const r = new Reader(bytes);
  const magic = r.u32();
  const type = r.u16();
  const qualifiedSigner = r.b2();
  const extraData = r.b2();
  const clockInfo = r.clockInfo();
  const firmwareVersion = r.u64();
  const attested = readAttested(r, type);
  r.end();
  return { magic, type, qualifiedSigner, extraData, clockInfo, firmwareVersion, attested };
}

/** Parses and checks the type, narrowing `attested` to it. */
export function parseAttestOf<T extends Attested['type']>(bytes: Buffer, type: T): TpmsAttest & { attested: Extract<Attested, { type: T }> } {
  const attest = parseAttest(bytes);
  if (attest.magic !== TPM_GENERATED_VALUE) throw new Error(`magic 0x${attest.magic.toString(16)}`);
  if (attest.type !== type) throw new Error(`type 0x${attest.type.toString(16)}, expected 0x${type.toString(16)}`);
  return attest as TpmsAttest & { attested: Extract<Attested, { type: T }> };
}

const TPM_ALG_SHA256 = 0x000b;
const u16 = (v: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(v); return b; };
export const u32 = (v: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(v >>> 0); return b; };
export const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return h.digest();
};

/** The Name of an object with a SHA-256 nameAlg, from its TPM2B_PUBLIC (tpm2_create -u, tpm2_readpublic -o). */
export const objectName = (tpm2bPublic: Buffer): Buffer =>
  Buffer.concat([u16(TPM_ALG_SHA256), sha256(tpm2bPublic.subarray(2, 2 + tpm2bPublic.readUInt16BE(0)))]);

/**
 * A qualified Name (Part 1 §16.6): nameAlg || H(parent's qualified Name || Name); a hierarchy's
 * qualified Name is its handle.
 */
export const qualifiedName = (parent: Buffer | number, name: Buffer): Buffer =>
  Buffer.concat([u16(TPM_ALG_SHA256), sha256(typeof parent === 'number' ? u32(parent) : parent, name)]);
