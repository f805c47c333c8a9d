/**
 * The key commands the key benchmark sends (Part 3 §24 CreatePrimary, §20.2 Sign, §11.1 a salted
 * StartAuthSession), with the templates marshaled by the project's TPM2B_PUBLIC codec: the bench
 * measures speed against swtpm, which checks the bytes as well as mrtpm does.
 */
import { constants, createPublicKey, publicEncrypt, type KeyObject } from 'node:crypto';
import { TPM_ALG, TPM_RH, TPM_ST, TPMA_OBJECT } from '../src/tpm/spec/constants.js';
import { TPM_CC } from '../src/tpm/spec/tpm-cc.js';
import { TPM_ECC } from '../src/tpm/spec/tpm-pt.js';
import { encode } from '../src/tpm/marshal/codec.js';
import { TPM2B_PUBLIC, TPMT_PUBLIC, type PublicArea } from '../src/tpm/marshal/object-types.js';
import { command, pwAuth, tpm2b, u16, u32 } from '../test/tpm/helpers/tpm-wire.js';
import { startAuthSessionCommand } from '../test/tpm/helpers/session-cmd.js';
import { Reader } from '../src/tpm/marshal/reader.js';

interface SymDef { algorithm: number; keyBits: number; mode: number }
interface SchemeDef { scheme: number; hashAlg?: number }

const NULL_SCHEME: SchemeDef = { scheme: TPM_ALG.NULL };
const AES_128_CFB: SymDef = { algorithm: TPM_ALG.AES, keyBits: 128, mode: TPM_ALG.CFB };
const NO_SYMMETRIC: SymDef = { algorithm: TPM_ALG.NULL, keyBits: 0, mode: TPM_ALG.NULL };
const KEY = TPMA_OBJECT.fixedTPM | TPMA_OBJECT.fixedParent | TPMA_OBJECT.sensitiveDataOrigin | TPMA_OBJECT.userWithAuth;
/** tpm2_createprimary's default attributes: a storage key. */
const STORAGE = KEY | TPMA_OBJECT.restricted | TPMA_OBJECT.decrypt;
const SIGNING = KEY | TPMA_OBJECT.sign;
const EMPTY = new Uint8Array(0);

const rsaTemplate = (objectAttributes: number, symmetric: SymDef, scheme: SchemeDef): PublicArea => ({
  type: TPM_ALG.RSA, nameAlg: TPM_ALG.SHA256, objectAttributes, authPolicy: EMPTY,
  parameters: { symmetric, scheme, keyBits: 2048, exponent: 0 }, unique: EMPTY,
});
const eccTemplate = (objectAttributes: number, symmetric: SymDef, scheme: SchemeDef): PublicArea => ({
  type: TPM_ALG.ECC, nameAlg: TPM_ALG.SHA256, objectAttributes, authPolicy: EMPTY,
  parameters: { symmetric, scheme, curveID: TPM_ECC.NIST_P256, kdf: NULL_SCHEME }, unique: { x: EMPTY, y: EMPTY },
});

export const TEMPLATES = {
  rsaStorage: rsaTemplate(STORAGE, AES_128_CFB, NULL_SCHEME),
  eccStorage: eccTemplate(STORAGE, AES_128_CFB, NULL_SCHEME),
  rsassa: rsaTemplate(SIGNING, NO_SYMMETRIC, { scheme: TPM_ALG.RSASSA, hashAlg: TPM_ALG.SHA256 }),
  ecdsa: eccTemplate(SIGNING, NO_SYMMETRIC, { scheme: TPM_ALG.ECDSA, hashAlg: TPM_ALG.SHA256 }),
};

/** CreatePrimary under the owner hierarchy (empty auth, no outsideInfo, no creation PCRs). */
export function createPrimaryCommand(template: PublicArea): Buffer {
  const inSensitive = tpm2b(Buffer.concat([tpm2b(EMPTY), tpm2b(EMPTY)]));
  return command(TPM_CC.CreatePrimary, [TPM_RH.OWNER], [inSensitive, encode(TPM2B_PUBLIC, template), tpm2b(EMPTY), u32(0)], [pwAuth()]);
}

/** The object handle and outPublic of a successful CreatePrimary response. */
export function parseCreatePrimary(response: Buffer): { handle: number; outPublic: PublicArea } {
  const r = new Reader(response.subarray(18));
  r.u16();
  return { handle: response.readUInt32BE(10), outPublic: TPMT_PUBLIC.read(r) };
}

/** Sign a SHA-256 digest with the key's own scheme; NULL hashcheck ticket (an unrestricted key). */
export function signCommand(key: number, digest: Buffer): Buffer {
  const nullTicket = Buffer.concat([u16(TPM_ST.HASHCHECK), u32(TPM_RH.NULL), tpm2b(EMPTY)]);
  return command(TPM_CC.Sign, [key], [tpm2b(digest), u16(TPM_ALG.NULL), nullTicket], [pwAuth()]);
}

function rsaPublicKey(area: PublicArea): KeyObject {
  const n = Buffer.from(area.unique as Uint8Array).toString('base64url');
  return createPublicKey({ key: { kty: 'RSA', n, e: 'AQAB' }, format: 'jwk' });
}

/** StartAuthSession (HMAC, SHA-256) salted with `salt` for the RSA key: RSA-OAEP, label "SECRET". */
export function saltedSessionCommand(key: number, keyPublic: PublicArea, salt: Buffer): Buffer {
  const encryptedSalt = publicEncrypt({
    key: rsaPublicKey(keyPublic), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from('SECRET\0'),
  }, salt);
  return startAuthSessionCommand({ tpmKey: key, salt: encryptedSalt });
}
