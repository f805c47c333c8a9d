/**
 * Manufacturing step outside the engine: certificates for the profile EKs (RSA 2048 and ECC P-256)
 * from the state directory's local CA, stored in the TPM's NV at the TCG indexes, where
 * tpm2_getekcertificate and keylime look for them.
 */
import type { PersistentState } from '../tpm/state/tpm-state.js';
import { ekPublicArea, provisionEkCertificate } from '../tpm/objects/ek-provisioning.js';
import { EK_KINDS } from '../tpm/objects/ek-templates.js';
import { publicKeyOf } from '../tpm/objects/key-objects.js';
import { TPM_IDENTITY, VENDOR_STRING } from '../tpm/capability/properties.js';
import type { LocalCaFiles } from '../store/local-ca-files.js';
import { openLocalCa } from './local-ca.js';
import { makeEkCertificate, type TpmDescription } from './ek-certificate.js';

const tcgId = (value: number): string => `id:${value.toString(16).toUpperCase().padStart(8, '0')}`;

/** As TPM_PT_MANUFACTURER, the vendor string, TPM_PT_FIRMWARE_VERSION_1, TPM_PT_LEVEL and _REVISION report this TPM. */
export const TPM_DESCRIPTION: TpmDescription = {
  manufacturer: tcgId(TPM_IDENTITY.manufacturer),
  model: VENDOR_STRING,
  version: tcgId(TPM_IDENTITY.firmwareVersion),
  specification: { family: '2.0', level: TPM_IDENTITY.specLevel, revision: TPM_IDENTITY.specRevision },
};

/** Issues and stores the certificates of both profile EKs, making the CA if `caFiles` holds none. */
export async function issueEkCertificates(persistent: PersistentState, caFiles: LocalCaFiles, now = new Date()): Promise<void> {
  const ca = await openLocalCa(caFiles, now);
  for (const kind of EK_KINDS) {
    const certificate = await makeEkCertificate(ca, publicKeyOf(ekPublicArea(persistent, kind)), TPM_DESCRIPTION, now);
    provisionEkCertificate(persistent, kind, certificate);
  }
}
