/**
 * The keys the bench and the swtpm session tests share: six templates (built by
 * test/tpm/helpers/key-cmd.ts, which also makes and parses CreatePrimary), and the caller's half
 * of RSA secret sharing for a salted StartAuthSession.
 */
import { constants, publicEncrypt, type KeyObject } from 'node:crypto';
import { startAuthSessionCommand } from '../tpm/helpers/session-cmd.js';
import { ALG, OBJ, eccKey, eccStorageKey, rsaKey, rsaStorageKey, scheme } from '../tpm/helpers/key-cmd.js';

export const TEMPLATES = {
  rsaStorage: rsaStorageKey(2048),
  eccStorage: eccStorageKey(),
  rsassa: rsaKey(OBJ.sign, scheme(ALG.RSASSA, ALG.SHA256), 2048),
  ecdsa: eccKey(OBJ.sign, scheme(ALG.ECDSA, ALG.SHA256)),
  /** Attestation keys: restricted signing keys, as tpm2_createak makes them. */
  rsassaAk: rsaKey(OBJ.sign | OBJ.restricted, scheme(ALG.RSASSA, ALG.SHA256), 2048),
  ecdsaAk: eccKey(OBJ.sign | OBJ.restricted, scheme(ALG.ECDSA, ALG.SHA256)),
};

/** RSA secret sharing (Part 1 §B.10.3): OAEP with SHA-256 (the templates' nameAlg) and the label, NUL included. */
export function rsaEncryptSecret(publicKey: KeyObject, label: string, secret: Buffer): Buffer {
  return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from(`${label}\0`) }, secret);
}

/** StartAuthSession (HMAC, SHA-256, unbound) salted with `salt` for an RSA key. */
export function saltedSessionCommand(key: number, publicKey: KeyObject, salt: Buffer, nonceCaller?: Buffer): Buffer {
  return startAuthSessionCommand({ tpmKey: key, salt: rsaEncryptSecret(publicKey, 'SECRET', salt), nonceCaller });
}
