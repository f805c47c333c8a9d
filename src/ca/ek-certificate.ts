/**
 * EK certificates as the TCG EK Credential Profile for TPM 2.0 (§3.2) describes them: empty subject,
 * a critical subjectAltName whose directoryName holds the TPM's manufacturer, model and version
 * (UTF8String attributes, as swtpm_cert writes them), basicConstraints CA:false, the key usage the
 * EK's algorithm allows (keyEncipherment for RSA, keyAgreement for ECC), the tcg-kp-EKCertificate
 * extended key usage, the CA's key identifier, and the TPM specification the TPM implements in
 * subjectDirectoryAttributes.
 */
import type { KeyObject } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { loadX509 } from './x509-library.js';
import { NO_EXPIRY, SIGNING_ALGORITHM, type LocalCa } from './local-ca.js';

/** TCG OIDs (EK Credential Profile §A.1). */
export const TCG_OID = {
  tpmManufacturer: '2.23.133.2.1',
  tpmModel: '2.23.133.2.2',
  tpmVersion: '2.23.133.2.3',
  tpmSpecification: '2.23.133.2.16',
  ekCertificate: '2.23.133.8.1',
} as const;

/** The TPM as the certificate names it: "id:" and 8 hex digits for manufacturer and version. */
export interface TpmDescription {
  manufacturer: string;
  model: string;
  version: string;
  /** TPMSpecification (profile §A.1): family "2.0", level and revision of the Library spec. */
  specification: { family: string; level: number; revision: number };
}

/** Key usage by the EK's node:crypto key type: an RSA EK decrypts, an ECC EK does ECDH. */
const KEY_USAGE: Record<string, 'keyEncipherment' | 'keyAgreement'> = { rsa: 'keyEncipherment', ec: 'keyAgreement' };

/** The DER certificate for `ekPublic`, signed by `ca`. */
export async function makeEkCertificate(ca: LocalCa, ekPublic: KeyObject, tpm: TpmDescription, now = new Date()): Promise<Uint8Array> {
  const { x509, asn1X509, asn1Schema, asn1js } = await loadX509();
  const usage = KEY_USAGE[ekPublic.asymmetricKeyType ?? ''];
  if (!usage) throw new Error(`no EK certificate for a ${ekPublic.asymmetricKeyType} key`);
  const tpmName = new x509.Name([
    { [TCG_OID.tpmManufacturer]: [{ utf8String: tpm.manufacturer }] },
    { [TCG_OID.tpmModel]: [{ utf8String: tpm.model }] },
    { [TCG_OID.tpmVersion]: [{ utf8String: tpm.version }] },
  ]);
  const directoryName = asn1Schema.AsnConvert.parse(tpmName.toArrayBuffer(), asn1X509.Name);
  const san = new asn1X509.SubjectAlternativeName([new asn1X509.GeneralName({ directoryName })]);
  const { family, level, revision } = tpm.specification;
  const specification = new asn1js.Sequence({
    value: [new asn1js.Utf8String({ value: family }), new asn1js.Integer({ value: level }), new asn1js.Integer({ value: revision })],
  }).toBER();
  const directoryAttributes = new asn1X509.SubjectDirectoryAttributes([
    new asn1X509.Attribute({ type: TCG_OID.tpmSpecification, values: [specification] }),
  ]);
  // A positive 16-octet serial (RFC 5280 §4.1.2.2 allows up to 20).
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    subject: new x509.Name([]),
    issuer: ca.certificate.subjectName,
    notBefore: now,
    notAfter: NO_EXPIRY,
    publicKey: ekPublic.export({ type: 'spki', format: 'der' }),
    signingKey: ca.key,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      // Critical because the subject is empty (RFC 5280 §4.2.1.6).
      new x509.Extension(asn1X509.id_ce_subjectAltName, true, asn1Schema.AsnConvert.serialize(san)),
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags[usage], true),
      new x509.ExtendedKeyUsageExtension([TCG_OID.ekCertificate]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey),
      new x509.Extension(asn1X509.id_ce_subjectDirectoryAttributes, false, asn1Schema.AsnConvert.serialize(directoryAttributes)),
    ],
  });
  return new Uint8Array(certificate.rawData);
}
