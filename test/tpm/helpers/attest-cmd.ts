/**
 * Attestation commands of the NV_Certify and audit tests (Part 3 §18, §21, §31.16) and a reader of
 * the TPMS_ATTEST they sign (Part 2 §10.12), written from the spec independently of the engine.
 */
import { constants, createHash, verify } from 'node:crypto';
import { command, pwAuth, tpm2b, u16, u32 } from './tpm-wire.js';
import { ALG, responseParams, type CreatedKey } from './key-cmd.js';
import { Params } from './pcr-cmd.js';

export const ATTEST_CC = {
  GetCommandAuditDigest: 0x133, SetCommandCodeAuditStatus: 0x140, GetSessionAuditDigest: 0x14d, NV_Certify: 0x184,
} as const;
export const ATTEST_ST = { COMMAND_AUDIT: 0x8015, SESSION_AUDIT: 0x8016, NV: 0x8014, NV_DIGEST: 0x801c } as const;
export const TPM_GENERATED = 0xff544347;

const EMPTY = Buffer.alloc(0);

export const nvCertifyCommand = (
  sign: number, auth: number, index: number, o: { qualifying?: Buffer; inScheme?: Buffer; size: number; offset: number; authAuth?: Uint8Array },
): Buffer => command(ATTEST_CC.NV_Certify, [sign, auth, index],
  [tpm2b(o.qualifying ?? EMPTY), o.inScheme ?? u16(ALG.NULL), u16(o.size), u16(o.offset)], [pwAuth(), pwAuth(o.authAuth)]);

/** The TPMS_ATTEST header fields this TPM's tests compare (clockInfo and firmwareVersion skipped). */
export interface AttestOut {
  magic: number;
  type: number;
  qualifiedSigner: Buffer;
  extraData: Buffer;
  /** The TPMU_ATTEST member, unread. */
  attested: Params;
}

/** A response of a TPM2B_ATTEST then a TPMT_SIGNATURE (with sessions): the attest octets, their header, the signature octets. */
export function attestResponse(response: Buffer): { attest: Buffer; info: AttestOut; signature: Buffer } {
  const params = responseParams(response);
  const attest = params.subarray(2, 2 + params.readUInt16BE(0));
  return { attest, info: readAttest(attest), signature: params.subarray(2 + attest.length) };
}

export function readAttest(attest: Buffer): AttestOut {
  // TPMS_ATTEST bytes framed as a response (10-octet header) so that Params can read them.
  const p = new Params(Buffer.concat([Buffer.from([0x80, 0x01, 0, 0, 0, 0, 0, 0, 0, 0]), attest]));
  const magic = p.u32();
  const type = p.u16();
  const qualifiedSigner = p.b2();
  const extraData = p.b2();
  p.bytes(8 + 4 + 4 + 1 + 8);
  return { magic, type, qualifiedSigner, extraData, attested: p };
}

/** Whether TPMT_SIGNATURE `sig` (ECDSA or RSASSA, SHA-256) is the key's signature of `attest`. */
export function verifiesAttest(key: CreatedKey, attest: Buffer, sig: Buffer): boolean {
  const alg = sig.readUInt16BE(0);
  if (sig.readUInt16BE(2) !== ALG.SHA256) return false;
  if (alg === ALG.ECDSA) {
    const r = sig.subarray(6, 6 + sig.readUInt16BE(4));
    const s = sig.subarray(8 + r.length, 8 + r.length + sig.readUInt16BE(6 + r.length));
    return verify('sha256', attest, { key: key.publicKey!, dsaEncoding: 'ieee-p1363' }, Buffer.concat([r, s]));
  }
  if (alg === ALG.RSASSA) return verify('sha256', attest, { key: key.publicKey!, padding: constants.RSA_PKCS1_PADDING }, sig.subarray(6));
  return false;
}

/** The qualified Name of a primary key in `hierarchy`: nameAlg || H(hierarchy handle || Name). */
export const primaryQualifiedName = (hierarchy: number, name: Buffer): Buffer =>
  Buffer.concat([u16(ALG.SHA256), createHash('sha256').update(u32(hierarchy)).update(name).digest()]);

/** TPML_CC. */
export const ccList = (codes: number[]): Buffer => Buffer.concat([u32(codes.length), ...codes.map(u32)]);

/** SetCommandCodeAuditStatus's parameters and command (auth owner or platform, password session). */
export const setAuditParams = (auditAlg: number, setList: number[], clearList: number[]): Buffer =>
  Buffer.concat([u16(auditAlg), ccList(setList), ccList(clearList)]);
export const setAuditStatusCommand = (auth: number, auditAlg: number, setList: number[], clearList: number[] = []): Buffer =>
  command(ATTEST_CC.SetCommandCodeAuditStatus, [auth], [setAuditParams(auditAlg, setList, clearList)], [pwAuth()]);

export const commandAuditCommand = (sign: number, qualifying: Buffer = EMPTY, inScheme: Buffer = u16(ALG.NULL)): Buffer =>
  command(ATTEST_CC.GetCommandAuditDigest, [0x4000000b, sign], [tpm2b(qualifying), inScheme], [pwAuth(), pwAuth()]);

/** TPMS_COMMAND_AUDIT_INFO of a GetCommandAuditDigest response. */
export function commandAuditInfo(response: Buffer): { auditCounter: bigint; digestAlg: number; auditDigest: Buffer; commandDigest: Buffer } {
  const { info } = attestResponse(response);
  const p = info.attested;
  const auditCounter = p.bytes(8).readBigUInt64BE(0);
  return { auditCounter, digestAlg: p.u16(), auditDigest: p.b2(), commandDigest: p.b2() };
}
