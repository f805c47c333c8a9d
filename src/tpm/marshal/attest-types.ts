/**
 * TPMS_ATTEST (Part 2 §10.12): the structure every attestation command signs, with the
 * TPMU_ATTEST member its type selects. Only written by the TPM; reading it back is for tests.
 */
import { TPM_ST } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { LIMITS } from '../spec/limits.js';
import { type Codec, type Infer, UINT16, UINT32, UINT64, sized, struct } from './codec.js';
import { TPM2B_DIGEST, TPMI_YES_NO, TPML_PCR_SELECTION, TPMS_CLOCK_INFO, TPMS_TIME_INFO } from './types.js';
import { TPM2B_DATA, TPM2B_NAME } from './object-types.js';

const TPM2B_MAX_NV_BUFFER = sized(LIMITS.NV_BUFFER_MAX);

/** TPMU_ATTEST members by TPMI_ST_ATTEST. */
const ATTESTED = {
  [TPM_ST.ATTEST_QUOTE]: struct({ pcrSelect: TPML_PCR_SELECTION, pcrDigest: TPM2B_DIGEST }),
  [TPM_ST.ATTEST_CERTIFY]: struct({ name: TPM2B_NAME, qualifiedName: TPM2B_NAME }),
  [TPM_ST.ATTEST_CREATION]: struct({ objectName: TPM2B_NAME, creationHash: TPM2B_DIGEST }),
  [TPM_ST.ATTEST_TIME]: struct({ time: TPMS_TIME_INFO, firmwareVersion: UINT64 }),
  [TPM_ST.ATTEST_SESSION_AUDIT]: struct({ exclusiveSession: TPMI_YES_NO, sessionDigest: TPM2B_DIGEST }),
  [TPM_ST.ATTEST_COMMAND_AUDIT]: struct({ auditCounter: UINT64, digestAlg: UINT16, auditDigest: TPM2B_DIGEST, commandDigest: TPM2B_DIGEST }),
  [TPM_ST.ATTEST_NV]: struct({ indexName: TPM2B_NAME, offset: UINT16, nvContents: TPM2B_MAX_NV_BUFFER }),
  [TPM_ST.ATTEST_NV_DIGEST]: struct({ indexName: TPM2B_NAME, nvDigest: TPM2B_DIGEST }),
} as const;

type AttestedMembers = typeof ATTESTED;
/** The type tag with the member it selects. */
export type Attested = { [K in keyof AttestedMembers]: { type: K; attested: Infer<AttestedMembers[K]> } }[keyof AttestedMembers];

const TPMS_ATTEST_HEADER = struct({
  magic: UINT32,
  type: UINT16,
  qualifiedSigner: TPM2B_NAME,
  extraData: TPM2B_DATA,
  clockInfo: TPMS_CLOCK_INFO,
  firmwareVersion: UINT64,
});
export type AttestHeader = Omit<Infer<typeof TPMS_ATTEST_HEADER>, 'type'>;
export type Attest = AttestHeader & Attested;

export const TPMS_ATTEST: Codec<Attest> = {
  read(r) {
    const header = TPMS_ATTEST_HEADER.read(r);
    const member = ATTESTED[header.type as keyof AttestedMembers] as Codec<unknown> | undefined;
    if (!member) throw new TpmError(TPM_RC.SELECTOR);
    return { ...header, attested: member.read(r) } as Attest;
  },
  write(w, v) {
    TPMS_ATTEST_HEADER.write(w, v);
    (ATTESTED[v.type] as Codec<unknown>).write(w, v.attested);
  },
};
