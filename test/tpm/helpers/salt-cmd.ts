/**
 * Primary keys for the salted-session tests and the caller's half of salting (Part 1 §19.6.10,
 * Annex B.10.3 / C.6.1): CreatePrimary commands built by hand, and the salt encrypted to the key
 * with node:crypto alone (RSA-OAEP with label "SECRET\0"; ECDH with an ephemeral key and KDFe).
 */
import { createECDH, createHash, createPublicKey, publicEncrypt, constants, randomBytes } from 'node:crypto';
import { command, pwAuth, tpm2b, u16, u32, type Response } from './session-cmd.js';
import { OBJ, SIGNING, STORAGE, eccTemplate, rsaTemplate } from './object-cmd.js';

const TPM_CC_CreatePrimary = 0x131;
const TPM_RH_OWNER = 0x40000001;
const ALG = { SHA256: 0x0b, NULL: 0x10 } as const;

export type KeyKind = 'rsa' | 'ecc';

export interface PrimaryKey {
  handle: number;
  kind: KeyKind;
  /** TPMT_PUBLIC as the TPM returned it. */
  publicArea: Buffer;
  name: Buffer;
  /** RSA modulus, or the ECC point's x and y. */
  modulus?: Buffer;
  point?: { x: Buffer; y: Buffer };
}

/** TPMT_PUBLIC of a storage key (restricted decrypt, AES-128-CFB) or, with sign, an unrestricted signing key; both noDA. */
function template(kind: KeyKind, use: 'storage' | 'sign'): Buffer {
  const attributes = (use === 'storage' ? STORAGE : SIGNING) | OBJ.noDA;
  return kind === 'rsa' ? rsaTemplate({ attributes }) : eccTemplate({ attributes });
}

/** CreatePrimary under the owner hierarchy (empty ownerAuth); userAuth becomes the key's authValue. */
export function createPrimary(
  run: (cmd: Buffer) => Response, kind: KeyKind, opts: { use?: 'storage' | 'sign'; userAuth?: Buffer } = {},
): PrimaryKey {
  const sensitive = Buffer.concat([tpm2b(opts.userAuth ?? Buffer.alloc(0)), u16(0)]);
  const r = run(command(TPM_CC_CreatePrimary, [TPM_RH_OWNER], [tpm2b(sensitive), tpm2b(template(kind, opts.use ?? 'storage')), u16(0), u32(0)], [pwAuth()]));
  if (r.rc !== 0) throw new Error(`CreatePrimary: 0x${r.rc.toString(16)}`);
  const handle = r.body.readUInt32BE(0);
  const publicArea = Buffer.from(r.body.subarray(10, 10 + r.body.readUInt16BE(8)));
  const name = Buffer.concat([u16(ALG.SHA256), createHash('sha256').update(publicArea).digest()]);
  // unique follows the fixed-size head: type, nameAlg, attributes, empty authPolicy, parameters.
  const key: PrimaryKey = { handle, kind, publicArea, name };
  const symBytes = publicArea.readUInt16BE(10) === ALG.NULL ? 2 : 6;
  let at = 10 + symBytes + 2;
  if (kind === 'rsa') {
    at += 6;
    key.modulus = publicArea.subarray(at + 2, at + 2 + publicArea.readUInt16BE(at));
  } else {
    at += 4;
    const x = publicArea.subarray(at + 2, at + 2 + publicArea.readUInt16BE(at));
    at += 2 + x.length;
    key.point = { x, y: publicArea.subarray(at + 2, at + 2 + publicArea.readUInt16BE(at)) };
  }
  return key;
}

/** KDFe (SP800-56A concatenation KDF) with SHA-256: H(counter || Z || label\0 || partyU || partyV). */
function kdfe(z: Buffer, label: string, partyU: Buffer, partyV: Buffer, bits: number): Buffer {
  const out: Buffer[] = [];
  for (let i = 1; out.length * 32 < bits / 8; i++) {
    out.push(createHash('sha256').update(u32(i)).update(z).update(`${label}\0`).update(partyU).update(partyV).digest());
  }
  return Buffer.concat(out).subarray(0, bits / 8);
}

/** A fresh salt and its encryptedSalt for StartAuthSession with this key as tpmKey. */
export function encryptSalt(key: PrimaryKey): { salt: Buffer; encryptedSalt: Buffer } {
  if (key.kind === 'rsa') {
    const salt = randomBytes(32);
    const pub = createPublicKey({ key: { kty: 'RSA', n: key.modulus!.toString('base64url'), e: 'AQAB' }, format: 'jwk' });
    const encryptedSalt = publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from('SECRET\0') }, salt);
    return { salt, encryptedSalt };
  }
  const ephemeral = createECDH('prime256v1');
  const q = ephemeral.generateKeys();
  const z = ephemeral.computeSecret(Buffer.concat([Buffer.of(4), key.point!.x, key.point!.y]));
  const ex = q.subarray(1, 33);
  const salt = kdfe(z, 'SECRET', ex, key.point!.x, 256);
  return { salt, encryptedSalt: Buffer.concat([tpm2b(ex), tpm2b(q.subarray(33))]) };
}
