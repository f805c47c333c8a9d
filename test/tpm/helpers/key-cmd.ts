/**
 * Key templates (built by object-cmd.ts from Part 2) and the CreatePrimary, Sign and
 * VerifySignature commands of the key command tests, independent of the engine's codecs.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { command, pwAuth, tpm2b, u16, u32 } from './tpm-wire.js';
import { Params } from './pcr-cmd.js';
import { OBJ, eccTemplate, publicArea, rsaTemplate, scheme } from './object-cmd.js';

export const ALG = {
  RSA: 0x01, SHA1: 0x04, HMAC: 0x05, AES: 0x06, KEYEDHASH: 0x08, SHA256: 0x0b, SHA384: 0x0c, NULL: 0x10,
  RSASSA: 0x14, RSAES: 0x15, RSAPSS: 0x16, OAEP: 0x17, ECDSA: 0x18, ECDH: 0x19, ECC: 0x23, CFB: 0x43,
} as const;
export const CC = {
  CreatePrimary: 0x131, ECDH_ZGen: 0x154, RSA_Decrypt: 0x159, Sign: 0x15d, ECDH_KeyGen: 0x163, RSA_Encrypt: 0x174,
  VerifySignature: 0x177, Hash: 0x17d,
} as const;
export const RH = { OWNER: 0x40000001, NULL: 0x40000007, ENDORSEMENT: 0x4000000b } as const;
export const ST = { VERIFIED: 0x8022, HASHCHECK: 0x8024 } as const;
export const NIST_P256 = 0x0003;

const BASE = OBJ.fixedTPM | OBJ.fixedParent | OBJ.userWithAuth;
const GENERATED = BASE | OBJ.sensitiveDataOrigin;

export { OBJ, scheme };
const AES128_CFB = Buffer.concat([u16(ALG.AES), u16(128), u16(ALG.CFB)]);

export interface Template {
  bytes: Buffer;
  type: number;
}

export const eccKey = (attributes: number, keyScheme: Buffer, symmetric = u16(ALG.NULL)): Template =>
  ({ type: ALG.ECC, bytes: eccTemplate({ attributes: GENERATED | attributes, scheme: keyScheme, symmetric }) });
export const rsaKey = (attributes: number, keyScheme: Buffer, bits = 1024, symmetric = u16(ALG.NULL)): Template =>
  ({ type: ALG.RSA, bytes: rsaTemplate({ attributes: GENERATED | attributes, scheme: keyScheme, keyBits: bits, symmetric }) });
/** An HMAC key whose key bytes the caller supplies (sensitiveDataOrigin clear). */
export const hmacKey = (hash: number): Template =>
  ({ type: ALG.KEYEDHASH, bytes: publicArea(ALG.KEYEDHASH, BASE | OBJ.sign, scheme(ALG.HMAC, hash), tpm2b(Buffer.alloc(0))) });
export const eccStorageKey = (): Template => eccKey(OBJ.restricted | OBJ.decrypt, scheme(ALG.NULL), AES128_CFB);
export const rsaStorageKey = (bits = 1024): Template => rsaKey(OBJ.restricted | OBJ.decrypt, scheme(ALG.NULL), bits, AES128_CFB);

export interface CreatedKey {
  handle: number;
  /** Name: nameAlg (SHA-256) || H(TPMT_PUBLIC). */
  name: Buffer;
  /** ECC: x, y; RSA: n; KEYEDHASH: the unique digest. */
  unique: Buffer[];
  publicKey?: KeyObject;
}

export function createPrimaryCommand(template: Template, data: Uint8Array = Buffer.alloc(0)): Buffer {
  const sensitive = tpm2b(Buffer.concat([tpm2b(Buffer.alloc(0)), tpm2b(data)]));
  return command(CC.CreatePrimary, [RH.OWNER], [sensitive, tpm2b(template.bytes), tpm2b(Buffer.alloc(0)), u32(0)], [pwAuth()]);
}

/** Reads CreatePrimary's response: the handle and the unique field of the public area it made. */
export function parseCreatePrimary(template: Template, response: Buffer): CreatedKey {
  const handle = response.readUInt32BE(10);
  const p = new Params(response, 1);
  const area = p.b2();
  const name = Buffer.concat([u16(ALG.SHA256), createHash('sha256').update(area).digest()]);
  const uniqueAt = template.bytes.length - (template.type === ALG.ECC ? 4 : 2);
  const first = sized(area, uniqueAt);
  if (template.type === ALG.ECC) {
    const [x, y] = [first, sized(area, uniqueAt + 2 + first.length)];
    return { handle, name, unique: [x, y], publicKey: createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: x.toString('base64url'), y: y.toString('base64url') }, format: 'jwk' }) };
  }
  if (template.type === ALG.RSA) {
    return { handle, name, unique: [first], publicKey: createPublicKey({ key: { kty: 'RSA', n: first.toString('base64url'), e: 'AQAB' }, format: 'jwk' }) };
  }
  return { handle, name, unique: [first] };
}

/** The TPM2B at `at`. */
const sized = (buf: Buffer, at: number): Buffer => buf.subarray(at + 2, at + 2 + buf.readUInt16BE(at));

export const hashCheck = (hierarchy: number, digest: Uint8Array = Buffer.alloc(0)): Buffer =>
  Buffer.concat([u16(ST.HASHCHECK), u32(hierarchy), tpm2b(digest)]);

export const signCommand = (key: number, digest: Uint8Array, inScheme: Buffer, validation = hashCheck(RH.NULL)): Buffer =>
  command(CC.Sign, [key], [tpm2b(digest), inScheme, validation], [pwAuth()]);
/** The parameter area of a successful response without handles (paramSize, then the parameters). */
export const responseParams = (response: Buffer): Buffer => response.subarray(14, 14 + response.readUInt32BE(10));

export const verifyCommand = (key: number, digest: Uint8Array, signature: Buffer): Buffer =>
  command(CC.VerifySignature, [key], [tpm2b(digest), signature]);
