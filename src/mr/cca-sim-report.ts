/**
 * cca-sim's hardware report: a CCA realm token (COSE_Sign1, ES384) of the simulated register file,
 * signed by the simulated attestation key as the RAK. It is the realm token alone, without the
 * tag-399 collection and its platform token: the simulation has no platform (CPAK) to sign one.
 */
import type { KeyObject } from 'node:crypto';
import { TPM_ALG } from '../tpm/spec/constants.js';
import { requireReportData, REPORT_DATA_SIZE, type HardwareReport, type HardwareReportSource } from './hardware-report.js';
import { CCA_REALM_PROFILE, encodeRealmClaims, parseCcaEvidence, realmRegisters } from './cca-token.js';
import { signCoseSign1 } from './cose-sign1.js';
import { openSimAttestationKey } from './sim-attestation-key.js';
import { stableRegisters } from './sim-report-registers.js';

/** The realm hash by its IANA hash function text name, as the hash-algo-id claims give it. */
export const IANA_HASH_NAME: Readonly<Record<number, string>> = {
  [TPM_ALG.SHA256]: 'sha-256',
  [TPM_ALG.SHA384]: 'sha-384',
  [TPM_ALG.SHA512]: 'sha-512',
};

/** The RAK's public key claim: an uncompressed SEC1 point, 0x04 || x || y. */
function sec1Point(publicKey: KeyObject): Uint8Array {
  const jwk = publicKey.export({ format: 'jwk' });
  return Uint8Array.from(Buffer.concat([Buffer.of(4), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]));
}

/** Reports of the cca-sim register file at `registerFile`; the attestation key is kept beside it. */
export function ccaSimReportSource(registerFile: string): HardwareReportSource {
  return {
    provider: 'cca-sim',
    close: async () => undefined,
    async report(challenge: Uint8Array): Promise<HardwareReport> {
      requireReportData(challenge);
      const registers = stableRegisters(registerFile, 'cca');
      const key = openSimAttestationKey(registerFile);
      const rim = registers.registers.find((r) => r.name === 'rim')!;
      const payload = await encodeRealmClaims({
        challenge,
        // The simulated realm is created without a Realm Personalization Value.
        personalizationValue: new Uint8Array(REPORT_DATA_SIZE),
        hashAlgId: IANA_HASH_NAME[rim.hashAlg]!,
        publicKey: sec1Point(key.publicKey),
        publicKeyHashAlgId: IANA_HASH_NAME[TPM_ALG.SHA256]!,
        profile: CCA_REALM_PROFILE,
        rim: registers.read('rim'),
        rems: [0, 1, 2, 3].map((n) => registers.read(`rem${n}`)),
      });
      const raw = await signCoseSign1(key.privateKey, payload);
      const { claims } = await parseCcaEvidence(raw);
      return { provider: 'cca-sim', format: 'cca-token', raw, reportData: claims.challenge, registers: realmRegisters(claims) };
    },
  };
}
