/**
 * Object commands as raw bytes for engine tests: TPMT_PUBLIC templates built by hand from Part 2
 * (not with the engine's codecs), CreatePrimary / Create / Load, and response parsing.
 */
import { command, pwAuth, tpm2b, u8, u16, u32 } from './tpm-wire.js';
import { Params } from './pcr-cmd.js';
import { splitSessionsResponse, type Response } from './session-cmd.js';

export const OBJ = {
  fixedTPM: 0x2, stClear: 0x4, fixedParent: 0x10, sensitiveDataOrigin: 0x20, userWithAuth: 0x40,
  adminWithPolicy: 0x80, noDA: 0x400, restricted: 0x10000, decrypt: 0x20000, sign: 0x40000,
} as const;
export const TALG = {
  RSA: 0x1, HMAC: 0x5, AES: 0x6, KEYEDHASH: 0x8, SHA256: 0xb, SHA384: 0xc, NULL: 0x10, RSASSA: 0x14, ECDSA: 0x18,
  ECC: 0x23, SYMCIPHER: 0x25, CTR: 0x40, OFB: 0x41, CBC: 0x42, CFB: 0x43, ECB: 0x44,
} as const;
export const OCC = {
  CreatePrimary: 0x131, Create: 0x153, Load: 0x157, ReadPublic: 0x173, LoadExternal: 0x167, Unseal: 0x15e,
  ObjectChangeAuth: 0x150, CreateLoaded: 0x191, Duplicate: 0x14b, Import: 0x156, EncryptDecrypt: 0x164,
  EncryptDecrypt2: 0x193, HMAC: 0x155, HMAC_Start: 0x15b, SequenceUpdate: 0x15c, SequenceComplete: 0x13e,
  PolicyCommandCode: 0x16c,
} as const;
const NIST_P256 = 0x3;

/** The storage-key attributes tpm2_createprimary uses by default. */
export const STORAGE = OBJ.fixedTPM | OBJ.fixedParent | OBJ.sensitiveDataOrigin | OBJ.userWithAuth | OBJ.restricted | OBJ.decrypt;
export const SIGNING = OBJ.fixedTPM | OBJ.fixedParent | OBJ.sensitiveDataOrigin | OBJ.userWithAuth | OBJ.sign;
const AES128_CFB = Buffer.concat([u16(TALG.AES), u16(128), u16(TALG.CFB)]);
/** TPMT_*_SCHEME: the scheme, then its hash unless NULL/RSAES. */
export const scheme = (alg: number, hash?: number): Buffer => Buffer.concat([u16(alg), ...(hash === undefined ? [] : [u16(hash)])]);

export interface TemplateOptions {
  attributes?: number;
  nameAlg?: number;
  authPolicy?: Buffer;
  symmetric?: Buffer;
  scheme?: Buffer;
  unique?: Buffer;
  /** RSA only (2048 unless given). */
  keyBits?: number;
}

/** TPMT_PUBLIC of an RSA-2048 key (storage key by default). */
export function rsaTemplate(o: TemplateOptions = {}): Buffer {
  const attrs = o.attributes ?? STORAGE;
  return Buffer.concat([
    u16(TALG.RSA), u16(o.nameAlg ?? TALG.SHA256), u32(attrs), tpm2b(o.authPolicy ?? Buffer.alloc(0)),
    o.symmetric ?? (attrs & OBJ.restricted && attrs & OBJ.decrypt ? AES128_CFB : u16(TALG.NULL)),
    o.scheme ?? scheme(TALG.NULL), u16(o.keyBits ?? 2048), u32(0), tpm2b(o.unique ?? Buffer.alloc(0)),
  ]);
}

/** TPMT_PUBLIC of an ECC P-256 key (storage key by default). */
export function eccTemplate(o: TemplateOptions = {}): Buffer {
  const attrs = o.attributes ?? STORAGE;
  return Buffer.concat([
    u16(TALG.ECC), u16(o.nameAlg ?? TALG.SHA256), u32(attrs), tpm2b(o.authPolicy ?? Buffer.alloc(0)),
    o.symmetric ?? (attrs & OBJ.restricted && attrs & OBJ.decrypt ? AES128_CFB : u16(TALG.NULL)),
    o.scheme ?? scheme(TALG.NULL), u16(NIST_P256), u16(TALG.NULL), o.unique ?? Buffer.concat([tpm2b(Buffer.alloc(0)), tpm2b(Buffer.alloc(0))]),
  ]);
}

/** TPMT_PUBLIC of a sealed data object. */
export function sealTemplate(o: TemplateOptions = {}): Buffer {
  return Buffer.concat([
    u16(TALG.KEYEDHASH), u16(o.nameAlg ?? TALG.SHA256), u32(o.attributes ?? (OBJ.fixedTPM | OBJ.fixedParent | OBJ.userWithAuth)),
    tpm2b(o.authPolicy ?? Buffer.alloc(0)), scheme(TALG.NULL), tpm2b(Buffer.alloc(0)),
  ]);
}

export const sensitiveCreate = (userAuth: Uint8Array = Buffer.alloc(0), data: Uint8Array = Buffer.alloc(0)): Buffer =>
  tpm2b(Buffer.concat([tpm2b(userAuth), tpm2b(data)]));
const NO_PCRS = u32(0);

export const createPrimary = (hierarchy: number, template: Buffer, sensitive = sensitiveCreate(), auth = pwAuth()): Buffer =>
  command(OCC.CreatePrimary, [hierarchy], [sensitive, tpm2b(template), tpm2b(Buffer.alloc(0)), NO_PCRS], [auth]);
export const create = (parent: number, template: Buffer, sensitive = sensitiveCreate(), auth = pwAuth()): Buffer =>
  command(OCC.Create, [parent], [sensitive, tpm2b(template), tpm2b(Buffer.alloc(0)), NO_PCRS], [auth]);
export const load = (parent: number, priv: Buffer, pub: Buffer, auth = pwAuth()): Buffer =>
  command(OCC.Load, [parent], [tpm2b(priv), tpm2b(pub)], [auth]);
export const readPublic = (h: number): Buffer => command(OCC.ReadPublic, [h], []);

/** CreatePrimary's response: the handle, outPublic (TPMT_PUBLIC bytes) and Name. */
export function parseCreatePrimary(r: Buffer): { handle: number; outPublic: Buffer; name: Buffer } {
  const handle = r.readUInt32BE(10);
  const p = new Params(r, 1);
  const outPublic = Buffer.from(p.b2());
  p.b2();
  p.b2();
  p.u16(); p.u32(); p.b2();
  return { handle, outPublic, name: Buffer.from(p.b2()) };
}

/** Create's response: outPrivate and outPublic. */
export function parseCreate(r: Buffer): { outPrivate: Buffer; outPublic: Buffer } {
  const p = new Params(r);
  return { outPrivate: Buffer.from(p.b2()), outPublic: Buffer.from(p.b2()) };
}

const EMPTY: Uint8Array = new Uint8Array(0);
const FIXED = OBJ.fixedTPM | OBJ.fixedParent;

/** TPMT_PUBLIC: type, nameAlg, attributes, authPolicy, parameters, unique. */
export const publicArea = (type: number, attributes: number, parms: Buffer, unique: Buffer, authPolicy: Uint8Array = EMPTY): Buffer =>
  Buffer.concat([u16(type), u16(TALG.SHA256), u32(attributes), tpm2b(authPolicy), parms, unique]);

export const TEMPLATES = {
  /** ECC P-256 storage key with AES-128-CFB for its children. */
  storage: publicArea(TALG.ECC, FIXED | OBJ.sensitiveDataOrigin | OBJ.userWithAuth | OBJ.restricted | OBJ.decrypt,
    Buffer.concat([u16(TALG.AES), u16(128), u16(TALG.CFB), u16(TALG.NULL), u16(0x0003), u16(TALG.NULL)]), Buffer.concat([tpm2b(Buffer.alloc(0)), tpm2b(Buffer.alloc(0))])),
  sealed: (attributes = FIXED | OBJ.userWithAuth, authPolicy?: Uint8Array) =>
    publicArea(TALG.KEYEDHASH, attributes, u16(TALG.NULL), tpm2b(Buffer.alloc(0)), authPolicy),
  hmac: publicArea(TALG.KEYEDHASH, FIXED | OBJ.sensitiveDataOrigin | OBJ.userWithAuth | OBJ.sign, Buffer.concat([u16(TALG.HMAC), u16(TALG.SHA256)]), tpm2b(Buffer.alloc(0))),
  aes: (mode: number) => publicArea(TALG.SYMCIPHER, FIXED | OBJ.sensitiveDataOrigin | OBJ.userWithAuth | OBJ.decrypt | OBJ.sign,
    Buffer.concat([u16(TALG.AES), u16(128), u16(mode)]), tpm2b(Buffer.alloc(0))),
};

/** CreatePrimary under the owner hierarchy (empty ownerAuth). */
export const ownerPrimary = (template: Buffer, userAuth?: Uint8Array, data?: Uint8Array): Buffer =>
  createPrimary(0x40000001, template, sensitiveCreate(userAuth, data));
export const createLoaded = (parent: number, template: Buffer, userAuth?: Uint8Array, data?: Uint8Array, parentAuth?: Uint8Array): Buffer =>
  command(OCC.CreateLoaded, [parent], [sensitiveCreate(userAuth, data), tpm2b(template)], [pwAuth(parentAuth)]);

/** A policy session entry with no HMAC (unbound, unsalted, no authValue needed); continued unless attributes say otherwise. */
export const policyAuth = (handle: number, attributes = 1): Buffer =>
  Buffer.concat([u32(handle), tpm2b(Buffer.alloc(0)), u8(attributes), tpm2b(Buffer.alloc(0))]);

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
