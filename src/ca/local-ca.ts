/**
 * The local CA that signs this TPM's EK certificates (as swtpm_localca does for swtpm): an ECDSA
 * P-256 key with a self-signed certificate, kept in the state directory and made on first need.
 * Verifiers (keylime's TPM cert store, `openssl verify -CAfile`) trust it through `mrtpm ca --out`.
 */
import { createPrivateKey, webcrypto } from 'node:crypto';
import type { X509Certificate } from '@peculiar/x509';
import type { LocalCaFiles } from '../store/local-ca-files.js';
import { loadX509 } from './x509-library.js';

export interface LocalCa {
  key: webcrypto.CryptoKey;
  certificate: X509Certificate;
}

export const CA_SUBJECT = 'CN=mrtpm local EK CA,O=mrtpm';
export const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
/** RFC 5280 §4.1.2.5: the notAfter of a certificate without a well-defined expiration. */
export const NO_EXPIRY = new Date('9999-12-31T23:59:59Z');

/** The CA kept in `files`; a new one, saved there, if there is none (the caller holds the state lock). */
export async function openLocalCa(files: LocalCaFiles, now = new Date()): Promise<LocalCa> {
  const { x509 } = await loadX509();
  const kept = files.load();
  if (kept) {
    const pkcs8 = createPrivateKey(kept.key).export({ type: 'pkcs8', format: 'der' });
    const key = await webcrypto.subtle.importKey('pkcs8', pkcs8, KEY_ALGORITHM, false, ['sign']);
    return { key, certificate: new x509.X509Certificate(kept.certificate) };
  }
  const keys = await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: CA_SUBJECT,
    keys: keys as CryptoKeyPair,
    notBefore: now,
    notAfter: NO_EXPIRY,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as CryptoKey),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  files.save({
    key: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }) as string,
    certificate: certificate.toString('pem'),
  });
  return { key: keys.privateKey, certificate };
}
