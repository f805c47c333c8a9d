/**
 * Part 3 §31.16 NV_Certify: a signed TPMS_ATTEST over an NV index's contents. A size and offset
 * of zero certify a digest of the whole index instead (TPM_ST_ATTEST_NV_DIGEST, as libtpms 0.9
 * does); the check order is the reference's.
 */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_ALG, TPM_ST } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { LIMITS } from '../spec/limits.js';
import { UINT16, struct } from '../marshal/codec.js';
import { TPM2B_DATA } from '../marshal/object-types.js';
import { TPMT_SIG_SCHEME, TPMT_SIGNATURE } from '../marshal/signature-types.js';
import { command } from '../engine/command-def.js';
import { hash } from '../crypto/hash.js';
import { checkReadAccess } from '../nv/nv-access.js';
import { attestSigner, signAttest } from '../attestation/attest-info.js';
import { SIGN_HANDLE, TPM2B_ATTEST } from './attest-command.js';

export const NV_CERTIFY_COMMANDS = [
  command({
    code: TPM_CC.NV_Certify, name: 'NV_Certify',
    handles: [SIGN_HANDLE, { name: 'authHandle', kind: 'NV_AUTH', auth: 'USER' }, { name: 'nvIndex', kind: 'NV_INDEX' }],
    params: struct({ qualifyingData: TPM2B_DATA, inScheme: TPMT_SIG_SCHEME, size: UINT16, offset: UINT16 }),
    response: struct({ certifyInfo: TPM2B_ATTEST, signature: TPMT_SIGNATURE }),
    handler({ core }, [s, authHandle, h], { qualifyingData, inScheme, size, offset }) {
      const signer = attestSigner(core, s!, inScheme, 1, 2);
      const index = core.nv.get(h!)!;
      checkReadAccess(authHandle!, index);
      const nvContents = core.nv.read(index, offset, size);
      if (size > LIMITS.NV_BUFFER_MAX) throw TpmError.parameter(TPM_RC.VALUE, 3);
      const indexName = index.name;
      if (size !== 0 || offset !== 0) {
        const { attest, signature } = signAttest(core, signer, qualifyingData, {
          type: TPM_ST.ATTEST_NV, attested: { indexName, offset, nvContents },
        });
        return { certifyInfo: attest, signature };
      }
      // The digest is in the signing scheme's hash; TPM_RH_NULL has none, and its digest is empty.
      const hashAlg = signer.scheme?.hashAlg ?? TPM_ALG.NULL;
      const nvDigest = hashAlg === TPM_ALG.NULL ? new Uint8Array(0) : hash(hashAlg, index.data);
      const { attest, signature } = signAttest(core, signer, qualifyingData, {
        type: TPM_ST.ATTEST_NV_DIGEST, attested: { indexName, nvDigest },
      });
      return { certifyInfo: attest, signature };
    },
  }),
];
