/**
 * Raw object commands and templates for the engine's object tests, built from Part 2 field by
 * field (not with the engine's codecs), and a cursor over response parameters.
 */
import { command, pwAuth, tpm2b, u8, u16, u32 } from './tpm-wire.js';
import { splitSessionsResponse, type Response } from './session-cmd.js';

export const OCC = {
  CreatePrimary: 0x131, Create: 0x153, Load: 0x157, LoadExternal: 0x167, Unseal: 0x15e, ObjectChangeAuth: 0x150,
  CreateLoaded: 0x191, Duplicate: 0x14b, Import: 0x156, EncryptDecrypt: 0x164, EncryptDecrypt2: 0x193, HMAC: 0x155,
  HMAC_Start: 0x15b, SequenceUpdate: 0x15c, SequenceComplete: 0x13e, PolicyCommandCode: 0x16c,
} as const;

export const OBJ = {
  fixedTPM: 0x2, fixedParent: 0x10, sensitiveDataOrigin: 0x20, userWithAuth: 0x40, restricted: 0x10000, decrypt: 0x20000, sign: 0x40000,
} as const;

export const A = { AES: 0x06, KEYEDHASH: 0x08, HMAC: 0x05, SHA256: 0x0b, SHA384: 0x0c, NULL: 0x10, ECC: 0x23, SYMCIPHER: 0x25, CTR: 0x40, OFB: 0x41, CBC: 0x42, CFB: 0x43, ECB: 0x44 } as const;

const EMPTY: Uint8Array = new Uint8Array(0);
const FIXED = OBJ.fixedTPM | OBJ.fixedParent;

/** TPMT_PUBLIC: type, nameAlg, attributes, authPolicy, parameters, unique. */
export const publicArea = (type: number, attributes: number, parms: Buffer, unique: Buffer, authPolicy: Uint8Array = EMPTY): Buffer =>
  Buffer.concat([u16(type), u16(A.SHA256), u32(attributes), tpm2b(authPolicy), parms, unique]);

export const TEMPLATES = {
  /** ECC P-256 storage key with AES-128-CFB for its children. */
  storage: publicArea(A.ECC, FIXED | OBJ.sensitiveDataOrigin | OBJ.userWithAuth | OBJ.restricted | OBJ.decrypt,
    Buffer.concat([u16(A.AES), u16(128), u16(A.CFB), u16(A.NULL), u16(0x0003), u16(A.NULL)]), Buffer.concat([tpm2b(Buffer.alloc(0)), tpm2b(Buffer.alloc(0))])),
  sealed: (attributes = FIXED | OBJ.userWithAuth, authPolicy?: Uint8Array) =>
    publicArea(A.KEYEDHASH, attributes, u16(A.NULL), tpm2b(Buffer.alloc(0)), authPolicy),
  hmac: publicArea(A.KEYEDHASH, FIXED | OBJ.sensitiveDataOrigin | OBJ.userWithAuth | OBJ.sign, Buffer.concat([u16(A.HMAC), u16(A.SHA256)]), tpm2b(Buffer.alloc(0))),
  aes: (mode: number) => publicArea(A.SYMCIPHER, FIXED | OBJ.sensitiveDataOrigin | OBJ.userWithAuth | OBJ.decrypt | OBJ.sign,
    Buffer.concat([u16(A.AES), u16(128), u16(mode)]), tpm2b(Buffer.alloc(0))),
};

/** TPM2B_SENSITIVE_CREATE. */
export const sensitiveCreate = (userAuth: Uint8Array = EMPTY, data: Uint8Array = EMPTY): Buffer => tpm2b(Buffer.concat([tpm2b(userAuth), tpm2b(data)]));

export const createPrimary = (template: Buffer, userAuth?: Uint8Array, data?: Uint8Array): Buffer =>
  command(OCC.CreatePrimary, [0x40000001], [sensitiveCreate(userAuth, data), tpm2b(template), tpm2b(Buffer.alloc(0)), u32(0)], [pwAuth()]);
export const createLoaded = (parent: number, template: Buffer, userAuth?: Uint8Array, data?: Uint8Array, parentAuth?: Uint8Array): Buffer =>
  command(OCC.CreateLoaded, [parent], [sensitiveCreate(userAuth, data), tpm2b(template)], [pwAuth(parentAuth)]);

/** A policy session entry with no HMAC (unbound, unsalted, no authValue needed). */
export const policyAuth = (handle: number): Buffer => Buffer.concat([u32(handle), tpm2b(Buffer.alloc(0)), u8(1), tpm2b(Buffer.alloc(0))]);

/** Reads TPM2B fields and integers from response parameters in order. */
export class Fields {
  private at = 0;
  constructor(private readonly b: Buffer) {}
  tpm2b(): Buffer {
    const n = this.b.readUInt16BE(this.at);
    const v = this.b.subarray(this.at + 2, this.at + 2 + n);
    this.at += 2 + n;
    return Buffer.from(v);
  }
  u16(): number {
    this.at += 2;
    return this.b.readUInt16BE(this.at - 2);
  }
  u32(): number {
    this.at += 4;
    return this.b.readUInt32BE(this.at - 4);
  }
}

/** Handle (if the response has one) and parameter fields of a successful response with sessions. */
export function ok(r: Response, hasHandle = false): { handle: number; fields: Fields } {
  if (r.rc !== 0) throw new Error(`rc 0x${r.rc.toString(16)}`);
  const s = splitSessionsResponse(r, hasHandle);
  return { handle: s.handle ?? 0, fields: new Fields(s.params) };
}
