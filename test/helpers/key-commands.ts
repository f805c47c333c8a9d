/**
 * Raw key commands for tests and the bench (Part 3 §24.1 CreatePrimary, §20.2 Sign, §11.1 a salted
 * StartAuthSession), built without the engine's codecs. A template is its TPMT_PUBLIC up to an
 * empty `unique`; the TPM's outPublic is the same bytes followed by the real unique field, which is
 * how the public key is read back.
 */
import { constants, createPublicKey, publicEncrypt, type KeyObject } from 'node:crypto';
import { command, pwAuth, tpm2b, u16, u32 } from '../tpm/helpers/tpm-wire.js';
import { startAuthSessionCommand } from '../tpm/helpers/session-cmd.js';

const ALG = { RSA: 0x0001, AES: 0x0006, SHA256: 0x000b, NULL: 0x0010, RSASSA: 0x0014, ECDSA: 0x0018, ECC: 0x0023, CFB: 0x0043 } as const;
const CC = { CreatePrimary: 0x131, Sign: 0x15d } as const;
const RH_OWNER = 0x40000001;
const RH_NULL = 0x40000007;
const ST_HASHCHECK = 0x8024;
const NIST_P256 = 0x0003;

/** fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth. */
const KEY = 0x02 | 0x10 | 0x20 | 0x40;
/** tpm2_createprimary's default: a storage key (restricted | decrypt). */
const STORAGE = KEY | 0x10000 | 0x20000;
const SIGNING = KEY | 0x40000;

const AES_128_CFB = Buffer.concat([u16(ALG.AES), u16(128), u16(ALG.CFB)]);
const NO_SYMMETRIC = u16(ALG.NULL);
const NULL_SCHEME = u16(ALG.NULL);
const scheme = (alg: number): Buffer => Buffer.concat([u16(alg), u16(ALG.SHA256)]);

export interface KeyTemplate {
  type: 'rsa' | 'ecc';
  /** TPMT_PUBLIC without its unique field. */
  head: Buffer;
}

const head = (type: number, attributes: number, parameters: Buffer): Buffer =>
  Buffer.concat([u16(type), u16(ALG.SHA256), u32(attributes), tpm2b(Buffer.alloc(0)), parameters]);
const rsa = (attributes: number, symmetric: Buffer, rsaScheme: Buffer): KeyTemplate =>
  ({ type: 'rsa', head: head(ALG.RSA, attributes, Buffer.concat([symmetric, rsaScheme, u16(2048), u32(0)])) });
const ecc = (attributes: number, symmetric: Buffer, eccScheme: Buffer): KeyTemplate =>
  ({ type: 'ecc', head: head(ALG.ECC, attributes, Buffer.concat([symmetric, eccScheme, u16(NIST_P256), NULL_SCHEME])) });

export const TEMPLATES = {
  rsaStorage: rsa(STORAGE, AES_128_CFB, NULL_SCHEME),
  eccStorage: ecc(STORAGE, AES_128_CFB, NULL_SCHEME),
  rsassa: rsa(SIGNING, NO_SYMMETRIC, scheme(ALG.RSASSA)),
  ecdsa: ecc(SIGNING, NO_SYMMETRIC, scheme(ALG.ECDSA)),
};

const emptyUnique = (t: KeyTemplate): Buffer => (t.type === 'rsa' ? u16(0) : Buffer.concat([u16(0), u16(0)]));

/** CreatePrimary under the owner hierarchy (empty auth, no outsideInfo, no creation PCRs). */
export function createPrimaryCommand(t: KeyTemplate): Buffer {
  const inSensitive = tpm2b(Buffer.concat([u16(0), u16(0)]));
  return command(CC.CreatePrimary, [RH_OWNER], [inSensitive, tpm2b(Buffer.concat([t.head, emptyUnique(t)])), u16(0), u32(0)], [pwAuth()]);
}

export interface CreatedPrimary {
  handle: number;
  publicKey: KeyObject;
  /** ECC: the public point's coordinates as the TPM marshaled them. */
  point?: { x: Buffer; y: Buffer };
}

/** The handle and public key of a successful CreatePrimary response made from `t`. */
export function parseCreatePrimary(response: Buffer, t: KeyTemplate): CreatedPrimary {
  let at = 10 + 4 + 4 + 2 + t.head.length;
  const next = (): Buffer => {
    const size = response.readUInt16BE(at);
    const field = Buffer.from(response.subarray(at + 2, at + 2 + size));
    at += 2 + size;
    return field;
  };
  const handle = response.readUInt32BE(10);
  if (t.type === 'rsa') {
    const n = next();
    return { handle, publicKey: createPublicKey({ key: { kty: 'RSA', n: n.toString('base64url'), e: 'AQAB' }, format: 'jwk' }) };
  }
  const x = next();
  const y = next();
  const publicKey = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: x.toString('base64url'), y: y.toString('base64url') }, format: 'jwk' });
  return { handle, publicKey, point: { x, y } };
}

/** Sign a SHA-256 digest with the key's own scheme; NULL hashcheck ticket (an unrestricted key). */
export function signCommand(key: number, digest: Buffer): Buffer {
  const nullTicket = Buffer.concat([u16(ST_HASHCHECK), u32(RH_NULL), u16(0)]);
  return command(CC.Sign, [key], [tpm2b(digest), u16(ALG.NULL), nullTicket], [pwAuth()]);
}

/** RSA secret sharing (Part 1 §B.10.3): OAEP with SHA-256 (the templates' nameAlg) and the label, NUL included. */
export function rsaEncryptSecret(publicKey: KeyObject, label: string, secret: Buffer): Buffer {
  return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from(`${label}\0`) }, secret);
}

/** StartAuthSession (HMAC, SHA-256, unbound) salted with `salt` for an RSA key. */
export function saltedSessionCommand(key: number, publicKey: KeyObject, salt: Buffer, nonceCaller?: Buffer): Buffer {
  return startAuthSessionCommand({ tpmKey: key, salt: rsaEncryptSecret(publicKey, 'SECRET', salt), nonceCaller });
}
