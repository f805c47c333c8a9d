/** What the attestation commands (Part 3 §18, NV_Certify, the audit digests) declare alike. */
import { sized } from '../marshal/codec.js';
import type { HandleSpec } from '../engine/command-def.js';

/** TPM2B_ATTEST carrying an already marshaled TPMS_ATTEST. */
export const TPM2B_ATTEST = sized(0xffff);
export const SIGN_HANDLE: HandleSpec = { name: 'signHandle', kind: 'OBJECT', allowNull: true, auth: 'USER' };
/** TPMI_RH_ENDORSEMENT authorizing a privacy-sensitive attestation (GetTime and the audit digests). */
export const PRIVACY_ADMIN: HandleSpec = { name: 'privacyAdminHandle', kind: 'ENDORSEMENT', auth: 'USER' };
