/** Codecs of the policy commands (Part 3 §23) beyond the shared Part 2 types. */
import { TPM_ST } from '../spec/constants.js';
import { TPM_RC } from '../spec/tpm-rc.js';
import { UINT16, restricted, sized, struct } from './codec.js';
import { TPM2B_DIGEST, TPMI_RH_HIERARCHY_NULL } from './types.js';

/** TPM2B_TIMEOUT: this TPM's timeout is a u64 (the expiry time, MSB = ends with the TPM Reset). */
export const TPM2B_TIMEOUT = sized(8);

/** TPMT_TK_AUTH (Part 2 §10.7.5). */
export const TPMT_TK_AUTH = struct({
  tag: restricted<number>(UINT16, (v) => v === TPM_ST.AUTH_SIGNED || v === TPM_ST.AUTH_SECRET, TPM_RC.TAG),
  hierarchy: TPMI_RH_HIERARCHY_NULL,
  digest: TPM2B_DIGEST,
});
