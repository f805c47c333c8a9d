/**
 * The attestation key's certificate from the local CA (the one that signs the EK certificates): it
 * says "this key is a restricted signing key of this TPM", which a verifier trusting the CA
 * (`mrtpm ca --out`) takes instead of a credential activation with the EK.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { loadX509 } from './x509-library.js';
import { NO_EXPIRY, SIGNING_ALGORITHM, type LocalCa } from './local-ca.js';

/** tcg-kp-AIKCertificate (TCG EK Credential Profile): the extended key usage of an AK certificate. */
export const TCG_KP_AIK_CERTIFICATE = '2.23.133.8.3';

/** The DER certificate for the AK public key `akPublic` with Name `akName`, signed by `ca`. */
export async function makeAkCertificate(ca: LocalCa, akPublic: KeyObject, akName: Uint8Array, now = new Date()): Promise<Uint8Array> {
  const { x509 } = await loadX509();
  // A positive 16-octet serial (RFC 5280 §4.1.2.2 allows up to 20).
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    subject: `CN=mrtpm AK ${Buffer.from(akName).toString('hex')}`,
    issuer: ca.certificate.subjectName,
    notBefore: now,
    notAfter: NO_EXPIRY,
    publicKey: akPublic.export({ type: 'spki', format: 'der' }),
    signingKey: ca.key,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([TCG_KP_AIK_CERTIFICATE]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey),
    ],
  });
  return new Uint8Array(certificate.rawData);
}
