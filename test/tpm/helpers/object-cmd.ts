/**
 * Object commands as raw bytes for engine tests: TPMT_PUBLIC templates built by hand from Part 2
 * (not with the engine's codecs), CreatePrimary / Create / Load, and response parsing.
 */
import { command, pwAuth, tpm2b, u16, u32 } from './tpm-wire.js';
import { Params } from './pcr-cmd.js';

export const OBJ = {
  fixedTPM: 0x2, stClear: 0x4, fixedParent: 0x10, sensitiveDataOrigin: 0x20, userWithAuth: 0x40,
  adminWithPolicy: 0x80, noDA: 0x400, restricted: 0x10000, decrypt: 0x20000, sign: 0x40000,
} as const;
export const TALG = {
  RSA: 0x1, KEYEDHASH: 0x8, SHA256: 0xb, NULL: 0x10, ECC: 0x23, SYMCIPHER: 0x25, AES: 0x6, CFB: 0x43,
  RSASSA: 0x14, ECDSA: 0x18, HMAC: 0x5,
} as const;
export const OCC = { CreatePrimary: 0x131, Create: 0x153, Load: 0x157, ReadPublic: 0x173 } as const;
const NIST_P256 = 0x3;

/** The storage-key attributes tpm2_createprimary uses by default. */
export const STORAGE = OBJ.fixedTPM | OBJ.fixedParent | OBJ.sensitiveDataOrigin | OBJ.userWithAuth | OBJ.restricted | OBJ.decrypt;
export const SIGNING = OBJ.fixedTPM | OBJ.fixedParent | OBJ.sensitiveDataOrigin | OBJ.userWithAuth | OBJ.sign;
const AES128_CFB = Buffer.concat([u16(TALG.AES), u16(128), u16(TALG.CFB)]);
const scheme = (alg: number, hash?: number): Buffer => Buffer.concat([u16(alg), ...(hash === undefined ? [] : [u16(hash)])]);

export interface TemplateOptions {
  attributes?: number;
  nameAlg?: number;
  authPolicy?: Buffer;
  symmetric?: Buffer;
  scheme?: Buffer;
  unique?: Buffer;
}

/** TPMT_PUBLIC of an RSA-2048 key (storage key by default). */
export function rsaTemplate(o: TemplateOptions = {}): Buffer {
  const attrs = o.attributes ?? STORAGE;
  return Buffer.concat([
    u16(TALG.RSA), u16(o.nameAlg ?? TALG.SHA256), u32(attrs), tpm2b(o.authPolicy ?? Buffer.alloc(0)),
    o.symmetric ?? (attrs & OBJ.restricted && attrs & OBJ.decrypt ? AES128_CFB : u16(TALG.NULL)),
    o.scheme ?? scheme(TALG.NULL), u16(2048), u32(0), tpm2b(o.unique ?? Buffer.alloc(0)),
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

export const sensitiveCreate = (userAuth = Buffer.alloc(0), data = Buffer.alloc(0)): Buffer => tpm2b(Buffer.concat([tpm2b(userAuth), tpm2b(data)]));
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
